"""The JSON grader: parse the response as JSON and validate it against a schema.

The JSON is looked for as the whole response, then inside fenced code blocks
(```` ```json ````), then as each JSON object or array written in the prose
(``Sure! {"a": 1} Anything else?``), in that order.  The first of them that
fits the schema (and matched keys) is graded; when none fits, the first one
found is reported.  The schema is given inline (``schema:``) or as a file
(``schema_path:``, resolved against the suite's folder when the grader is
built with one, else the working directory).  With ``match: [key, ...]`` the
named keys of the parsed object must also equal those of the reference object.
Score is 1 or 0; the detail holds the parse or validation message.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, model_validator

from mre_eval.errors import ConfigError, DataError
from mre_eval.graders.base import ExpectedOptions, Grade, Grader, Sample, expected_value

_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n(.*?)```", re.DOTALL)


class JsonSchemaOptions(ExpectedOptions):
    """Options of the ``json_schema`` grader."""

    schema_: dict[str, Any] | None = Field(None, alias="schema")
    schema_path: str | None = None
    match: list[str] = []

    @model_validator(mode="after")
    def _one_schema(self) -> JsonSchemaOptions:
        if (self.schema_ is None) == (self.schema_path is None):
            raise ValueError("give exactly one of schema (inline) or schema_path "
                             "(a JSON schema file)")
        return self


class JsonSchemaGrader(Grader):
    """1 when the response holds JSON that fits the schema (and matched keys)."""

    kind: ClassVar[str] = "json_schema"
    options_model = JsonSchemaOptions
    options: JsonSchemaOptions

    def __init__(self, options: JsonSchemaOptions,
                 base_dir: Path | None = None) -> None:
        super().__init__(options, base_dir)
        import jsonschema

        self.schema = options.schema_ or _read_schema(options.schema_path, base_dir)
        validator_class = jsonschema.validators.validator_for(self.schema)
        try:
            validator_class.check_schema(self.schema)
        except jsonschema.SchemaError as exc:
            raise ConfigError(
                f"json_schema grader: the schema is not a valid JSON schema: "
                f"{exc.message} (at {list(exc.path) or 'top level'})") from None
        self.validator = validator_class(self.schema)

    async def grade(self, sample: Sample) -> Grade:
        found = json_values(sample.response)
        if not found:
            return Grade(0.0, "no JSON found in the response")
        grades = []
        for data in found:
            grade = self._grade_value(data, sample)
            if grade.score == 1.0:
                return grade
            grades.append(grade)
        return grades[0]

    def _grade_value(self, data: Any, sample: Sample) -> Grade:
        errors = sorted(self.validator.iter_errors(data), key=lambda e: list(e.path))
        if errors:
            first = errors[0]
            where = "/".join(str(p) for p in first.path) or "top level"
            return Grade(0.0, f"schema: {first.message} (at {where}); "
                              f"{len(errors)} error(s)")
        mismatch = self._mismatch(data, sample)
        if mismatch:
            return Grade(0.0, mismatch)
        return Grade(1.0, "valid JSON" + (" with matching keys" if self.options.match
                                          else ""))

    def _mismatch(self, data: Any, sample: Sample) -> str | None:
        if not self.options.match:
            return None
        wanted = expected_value(self.options, sample, self.kind)
        if isinstance(wanted, str):
            wanted = parse_json(wanted)
        if not isinstance(wanted, dict) or not isinstance(data, dict):
            example = sample.example
            raise DataError(
                f"example {example.id!r} ({example.where}): match needs a "
                f"JSON object as reference and response, got {wanted!r}")
        wrong = [f"{key}={data.get(key)!r} (expected {wanted.get(key)!r})"
                 for key in self.options.match if data.get(key) != wanted.get(key)]
        return "; ".join(wrong) or None


def parse_json(text: str) -> Any | None:
    """The first JSON value a response holds, or ``None`` when none parses."""
    found = json_values(text)
    return found[0] if found else None


def json_values(text: str) -> list[Any]:
    """Every JSON value a response holds, in the order they are looked for."""
    candidates = [text.strip()] + [m.group(1).strip() for m in _FENCE.finditer(text)]
    found = []
    for candidate in candidates:
        try:
            found.append(json.loads(candidate))
        except ValueError:
            continue
    return found + _embedded(text)


def _embedded(text: str) -> list[Any]:
    """Objects and arrays written inside prose, left to right, not nested."""
    decoder = json.JSONDecoder()
    found, at = [], 0
    while True:
        starts = [i for i in (text.find("{", at), text.find("[", at)) if i >= 0]
        if not starts:
            return found
        start = min(starts)
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            at = start + 1
            continue
        found.append(value)
        at = end


def _read_schema(schema_path: str | None, base_dir: Path | None) -> dict[str, Any]:
    path = Path(schema_path or "").expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"json_schema grader: cannot read schema_path {str(path)!r}: "
                          f"{exc.strerror}; the path is resolved against the "
                          "suite's folder") from None
    except ValueError as exc:
        raise ConfigError(f"json_schema grader: schema_path {str(path)!r} is not "
                          f"JSON: {exc}") from None
    if not isinstance(schema, dict):
        raise ConfigError(f"json_schema grader: {str(path)!r} must hold a JSON object")
    return schema
