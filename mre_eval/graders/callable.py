"""The ``callable`` grader: a Python function of your own, named ``module:function``.

The function is imported when the grader is built, so a suite that names a
missing one fails at validation.  The suite's folder is put on ``sys.path``
first (when known), so a ``my_graders.py`` next to the suite file imports.

It is called with the :class:`Sample` when it takes one positional parameter,
or with ``(response, example)`` when it takes two, plus any ``kwargs`` from the
options.  It may be ``async``.  It returns a float, a bool (1 or 0) or a
:class:`Grade`; a score outside [0, 1] is an error, never clamped.  An
exception it raises becomes a :class:`DataError` naming the example, so the
run records that row as not graded and goes on.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, field_validator

from mre_eval.errors import ConfigError, DataError, MreEvalError
from mre_eval.graders.base import Grade, Grader, Options, Sample, is_unit_score


class CallableOptions(Options):
    """Options of the ``callable`` grader."""

    function: str = Field(description="module:function, e.g. my_graders:tone")
    kwargs: dict[str, Any] = {}

    @field_validator("function")
    @classmethod
    def _module_colon_function(cls, target: str) -> str:
        if not re.fullmatch(r"[\w.]+:[\w.]+", target):
            raise ValueError("write it as module:function, e.g. my_graders:tone")
        return target


class CallableGrader(Grader):
    """Scores with a user function."""

    kind: ClassVar[str] = "callable"
    options_model = CallableOptions
    options: CallableOptions

    def __init__(self, options: CallableOptions, base_dir: Path | None = None) -> None:
        super().__init__(options, base_dir)
        self.function = load_function(options.function, base_dir)
        self.arity = _positional_count(self.function)

    async def grade(self, sample: Sample) -> Grade:
        try:
            result = await self._call(sample)
        except MreEvalError:
            raise
        except Exception as exc:
            raise DataError(
                f"callable grader {self.options.function} raised "
                f"{type(exc).__name__}: {exc} on example {sample.example.id!r} "
                f"({sample.example.where})") from exc
        return self._as_grade(result, sample)

    async def _call(self, sample: Sample) -> Any:
        if self.arity >= 2:
            result = self.function(sample.response, sample.example,
                                   **self.options.kwargs)
        else:
            result = self.function(sample, **self.options.kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    def _as_grade(self, result: Any, sample: Sample) -> Grade:
        if isinstance(result, Grade):
            return result
        if isinstance(result, bool):
            return Grade(float(result))
        if is_unit_score(result):
            return Grade(float(result))
        raise ConfigError(
            f"callable grader {self.options.function} returned {result!r} for "
            f"example {sample.example.id!r} ({sample.example.where}); it must "
            "return a float in [0, 1], a bool or a Grade: fix the function")


def load_function(target: str, base_dir: Path | None = None) -> Callable[..., Any]:
    """Import ``module:function`` (dots allowed on both sides).

    Raises:
        ConfigError: the module or the function cannot be found.
    """
    module_name, _, attribute = target.partition(":")
    if base_dir is not None and str(base_dir) not in sys.path:
        sys.path.insert(0, str(base_dir))
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"callable grader: cannot import module {module_name!r} from "
            f"{target!r}: {exc}; put the module next to the suite file or on "
            "PYTHONPATH") from None
    for part in attribute.split("."):
        if not hasattr(obj, part):
            raise ConfigError(
                f"callable grader: {module_name!r} has no {attribute!r} "
                f"(from {target!r}); check the name after the colon")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ConfigError(f"callable grader: {target!r} is not callable")
    return obj


def _positional_count(function: Callable[..., Any]) -> int:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return 1
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in parameters if p.kind in kinds and p.default is p.empty)
