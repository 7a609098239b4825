"""The numeric grader: the response's answer number, within a tolerance.

Numbers may carry a sign (also before a currency sign: ``-$5``), thousands
separators (``1,234.5``), a decimal part and an exponent (``2.5e-3``); a
currency sign or percent sign around them is ignored, so ``12%`` reads as 12.

Which number is the answer: when the response marks one (``answer is``,
``answer:``, ``####``, ``\\boxed{``), the first number after the last such
mark; otherwise the *last* number, because models tend to reason first and
state the result at the end.  Fractions (``1/2``), decimal commas
(``1.234,50``) and numbers written as words are not read.
"""

from __future__ import annotations

import math
import re
from typing import ClassVar

from pydantic import Field

from mre_eval.errors import DataError
from mre_eval.graders.base import ExpectedOptions, Grade, Grader, Sample, expected_value

_NUMBER = re.compile(
    r"(?<![\w.])(?:[-+−][$€£¥]?)?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?"
    r"(?:[eE][-+]?\d+)?(?![\w])")
_ANSWER_MARK = re.compile(r"answer\s*(?:is|:|=)|####|\\boxed\{", re.IGNORECASE)
_NO_CURRENCY = str.maketrans("", "", "$€£¥")


class NumericOptions(ExpectedOptions):
    """Options of the ``numeric`` grader.

    A response passes when ``|got - expected| <= max(abs_tol,
    rel_tol * |expected|)``; the defaults ask for equality up to rounding noise.
    """

    abs_tol: float = Field(1e-9, ge=0)
    rel_tol: float = Field(0.0, ge=0)


class NumericGrader(Grader):
    """1 when the response's answer number is close enough to the expected one."""

    kind: ClassVar[str] = "numeric"
    options_model = NumericOptions
    needs_reference = True
    options: NumericOptions

    async def grade(self, sample: Sample) -> Grade:
        wanted = self._expected(sample)
        got = answer_number(sample.response)
        if got is None:
            return Grade(0.0, f"no number found in {sample.response[:60]!r}")
        allowed = max(self.options.abs_tol, self.options.rel_tol * abs(wanted))
        error = abs(got - wanted)
        if error <= allowed:
            return Grade(1.0, f"{got:g} is within {allowed:g} of {wanted:g}")
        return Grade(0.0, f"{got:g} is {error:g} away from {wanted:g} "
                          f"(allowed {allowed:g})")

    def _expected(self, sample: Sample) -> float:
        value = expected_value(self.options, sample, self.kind)
        number = (value if isinstance(value, int | float)
                  else answer_number(str(value)))
        if number is None or isinstance(number, bool) or math.isnan(number):
            example = sample.example
            raise DataError(
                f"example {example.id!r} ({example.where}): expected value "
                f"{value!r} is not a number; the numeric grader needs one")
        return float(number)


def answer_number(text: str) -> float | None:
    """The number a response gives as its answer (see the module docstring)."""
    marks = list(_ANSWER_MARK.finditer(text))
    if marks:
        after = _numbers(text[marks[-1].end():])
        if after:
            return after[0]
    return last_number(text)


def last_number(text: str) -> float | None:
    """The last number written in ``text``, or ``None`` when there is none."""
    numbers = _numbers(text)
    return numbers[-1] if numbers else None


def _numbers(text: str) -> list[float]:
    found = []
    for match in _NUMBER.finditer(text):
        token = match.group(0).replace(",", "").replace("−", "-")
        token = token.translate(_NO_CURRENCY)
        if any(ch.isdigit() for ch in token):
            try:
                found.append(float(token))
            except ValueError:
                continue
    return found
