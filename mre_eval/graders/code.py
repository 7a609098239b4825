"""The ``python_tests`` grader: run the candidate's code against assert statements.

The code is taken from the response: the fenced ```` ```python ```` (or
```` ```py ````) blocks joined, else unlabelled fenced blocks, else
``[PYTHON] … [/PYTHON]`` tags (Code Llama's habit), else the whole response.
The asserts are the reference (a list of statements or one string, split into
lines), or a fixed ``expected`` / a ``field`` column.  They run one by one in a
guarded child process (see :mod:`mre_eval.graders.sandbox`).

Score = the fraction of asserts that pass, so a pass mark of 1 asks for all
of them; code that does not load or runs out of time scores 0.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import Field

from mre_eval.errors import DataError
from mre_eval.graders.base import ExpectedOptions, Grade, Grader, Sample, expected_value
from mre_eval.graders.sandbox import network_guard, run_tests

_FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_TAGGED = re.compile(r"\[PYTHON\](.*?)(?:\[/PYTHON\]|\Z)", re.DOTALL)


class PythonTestsOptions(ExpectedOptions):
    """Options of the ``python_tests`` grader."""

    timeout_s: float = Field(10.0, gt=0, le=600)
    memory_mb: int = Field(1024, ge=64, le=65536)
    setup: str = Field("", description="code run before the asserts, e.g. imports")


class PythonTestsGrader(Grader):
    """Fraction of the reference asserts that the candidate code passes."""

    kind: ClassVar[str] = "python_tests"
    options_model = PythonTestsOptions
    needs_reference = True
    options: PythonTestsOptions

    async def grade(self, sample: Sample) -> Grade:
        asserts = self._asserts(sample)
        code = extract_code(sample.response)
        if self.options.setup:
            code = self.options.setup + "\n" + code
        run = await run_tests(code, asserts, self.options.timeout_s,
                              self.options.memory_mb)
        guard = f"network guard: {network_guard()}"
        if run.problem is not None:
            return Grade(0.0, f"{run.problem} ({guard})")
        failed = [f"assert {i + 1}: {f}" for i, f in enumerate(run.failures) if f]
        detail = f"{run.passed} of {len(asserts)} asserts passed"
        if failed:
            detail += "; " + "; ".join(failed[:3])
        return Grade(run.passed / len(asserts), f"{detail} ({guard})")

    def _asserts(self, sample: Sample) -> list[str]:
        value: Any = expected_value(self.options, sample, self.kind)
        if isinstance(value, str):
            value = [line for line in value.splitlines() if line.strip()]
        if not isinstance(value, list | tuple) or not value:
            example = sample.example
            raise DataError(
                f"example {example.id!r} ({example.where}): the python_tests "
                f"grader needs assert statements (a list or lines of text), got "
                f"{value!r}")
        return [str(item) for item in value]


def extract_code(response: str) -> str:
    """The Python code a response holds (see the module docstring for the order)."""
    blocks = [(lang.lower(), body) for lang, body in _FENCE.findall(response)]
    python = [body for lang, body in blocks if lang in ("python", "py", "python3")]
    if python:
        return "\n".join(python)
    plain = [body for lang, body in blocks if not lang]
    if plain:
        return "\n".join(plain)
    tagged = _TAGGED.findall(response)
    if tagged:
        return "\n".join(tagged)
    return response
