"""Graders: turn a response into a score in [0, 1].

``make_grader(spec)`` builds the grader a suite's task type names, checking
its options; :data:`GRADER_KINDS` lists the kinds.  A response passes when its
score is at least the task type's pass mark.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mre_eval.errors import ConfigError
from mre_eval.graders.base import Grade, Grader, Sample
from mre_eval.graders.callable import CallableGrader
from mre_eval.graders.choice import ChoiceGrader
from mre_eval.graders.code import PythonTestsGrader
from mre_eval.graders.judge import JudgeGrader
from mre_eval.graders.json_schema import JsonSchemaGrader
from mre_eval.graders.numeric import NumericGrader
from mre_eval.graders.recorded import RecordedGrader
from mre_eval.graders.text import (ContainsGrader, ExactGrader, NormalizedExactGrader,
                                   RegexGrader)
from mre_eval.suite import GraderSpec

_REGISTRY: dict[str, type[Grader]] = {
    cls.kind: cls
    for cls in (ExactGrader, NormalizedExactGrader, ContainsGrader, RegexGrader,
                ChoiceGrader, NumericGrader, JsonSchemaGrader, PythonTestsGrader,
                CallableGrader, JudgeGrader, RecordedGrader)
}

GRADER_KINDS: tuple[str, ...] = tuple(_REGISTRY)

__all__ = ["GRADER_KINDS", "Grade", "Grader", "Sample", "grader_class", "make_grader"]


def grader_class(kind: str) -> type[Grader]:
    """The grader class for ``kind``.

    Raises:
        ConfigError: unknown kind, with the closest known one and the full list.
    """
    if kind in _REGISTRY:
        return _REGISTRY[kind]
    hint = difflib.get_close_matches(kind, GRADER_KINDS, n=1)
    message = f"unknown grader {kind!r}"
    if hint:
        message += f"; did you mean {hint[0]!r}?"
    raise ConfigError(f"{message} Known graders: {', '.join(GRADER_KINDS)}")


def make_grader(spec: GraderSpec, base_dir: Path | None = None) -> Grader:
    """Build the grader ``spec`` names, with its options checked.

    Args:
        spec: the task type's grader kind and options.
        base_dir: folder that relative paths in options resolve against
            (the suite's folder); the working directory when omitted.

    Raises:
        ConfigError: unknown kind or an option that is unknown, missing or
            has a value that is not allowed.
    """
    cls = grader_class(spec.kind)
    try:
        options = cls.options_model.model_validate(spec.options)
    except ValidationError as exc:
        raise ConfigError(_options_message(spec.kind, cls, exc)) from None
    return cls(options, base_dir=base_dir)


def _options_message(kind: str, cls: type[Grader], exc: ValidationError) -> str:
    allowed = _option_names(cls)
    problems = [_problem(error, allowed) for error in exc.errors()]
    listed = ", ".join(allowed) if allowed else "none"
    return (f"grader {kind!r}: " + "; ".join(problems)
            + f". Options of {kind}: {listed}")


def _problem(error: Any, allowed: list[str]) -> str:
    where = ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        hint = difflib.get_close_matches(where, allowed, n=1)
        return f"unknown option {where!r}" + (f" (did you mean {hint[0]!r}?)"
                                               if hint else "")
    if kind == "missing":
        return f"option {where!r} is required"
    message = error["msg"].removeprefix("Value error, ")
    if not where:
        return message
    return f"option {where!r} = {error.get('input')!r} is not allowed: {message}"


def _option_names(cls: type[Grader]) -> list[str]:
    fields = cls.options_model.model_fields
    return [field.alias or name for name, field in fields.items()]
