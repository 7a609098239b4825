"""Graders that compare text: exact, normalized exact, contains, regex.

An expected value may be one string or a list of acceptable strings: ``exact``
and ``normalized_exact`` pass when the response equals any of them, ``contains``
scores the fraction of them found (or 1 when any is found, with ``mode: any``).
"""

from __future__ import annotations

import re
import string
import unicodedata
from typing import ClassVar, Literal

from pydantic import field_validator

from mre_eval.graders.base import (ExpectedOptions, Grade, Grader, Options, Sample,
                                   as_text_list, expected_value)

_PUNCTUATION = str.maketrans("", "", string.punctuation + "“”‘’«»…–—")
_ARTICLES = re.compile(r"\b(a|an|the)\b")


class ExactOptions(ExpectedOptions):
    """Options of the ``exact`` grader."""

    strip: bool = True


class ExactGrader(Grader):
    """1 when the response equals the expected text (surrounding space ignored)."""

    kind: ClassVar[str] = "exact"
    options_model = ExactOptions
    needs_reference = True
    options: ExactOptions

    async def grade(self, sample: Sample) -> Grade:
        wanted = as_text_list(expected_value(self.options, sample, self.kind))
        got = sample.response.strip() if self.options.strip else sample.response
        if self.options.strip:
            wanted = [w.strip() for w in wanted]
        if got in wanted:
            return Grade(1.0, f"equals {got!r}")
        return Grade(0.0, f"{_short(got)} is not {_either(wanted)}")


class NormalizedOptions(ExpectedOptions):
    """Options of the ``normalized_exact`` grader."""

    ignore_case: bool = True
    ignore_punctuation: bool = True
    ignore_articles: bool = False


class NormalizedExactGrader(Grader):
    """1 when the response equals the expected text after normalization.

    Normalization: Unicode NFKC, then (by option) case folding, punctuation
    removal and English article removal, then runs of whitespace become one.
    """

    kind: ClassVar[str] = "normalized_exact"
    options_model = NormalizedOptions
    needs_reference = True
    options: NormalizedOptions

    async def grade(self, sample: Sample) -> Grade:
        wanted = as_text_list(expected_value(self.options, sample, self.kind))
        got = self.normalize(sample.response)
        if got in {self.normalize(w) for w in wanted}:
            return Grade(1.0, f"normalized response {got!r} matches")
        return Grade(0.0, f"normalized {_short(got)} is not {_either(wanted)}")

    def normalize(self, text: str) -> str:
        """The text in the form comparisons are made in."""
        text = unicodedata.normalize("NFKC", text)
        if self.options.ignore_case:
            text = text.casefold()
        if self.options.ignore_punctuation:
            text = text.translate(_PUNCTUATION)
        if self.options.ignore_articles:
            text = _ARTICLES.sub(" ", text)
        return " ".join(text.split())


class ContainsOptions(ExpectedOptions):
    """Options of the ``contains`` grader."""

    mode: Literal["all", "any"] = "all"
    ignore_case: bool = True


class ContainsGrader(Grader):
    """Looks for required strings in the response.

    With ``mode: all`` the score is the fraction of required strings found, so
    a pass mark of 1 asks for every one; with ``mode: any`` it is 1 when at
    least one is found.
    """

    kind: ClassVar[str] = "contains"
    options_model = ContainsOptions
    needs_reference = True
    options: ContainsOptions

    async def grade(self, sample: Sample) -> Grade:
        needles = as_text_list(expected_value(self.options, sample, self.kind))
        haystack = sample.response
        if self.options.ignore_case:
            haystack = haystack.casefold()
        missing = [n for n in needles if self._key(n) not in haystack]
        found = len(needles) - len(missing)
        if self.options.mode == "any":
            score = 1.0 if found else 0.0
        else:
            score = found / len(needles) if needles else 1.0
        detail = f"found {found} of {len(needles)}"
        if missing:
            detail += f"; missing {missing}"
        return Grade(score, detail)

    def _key(self, needle: str) -> str:
        return needle.casefold() if self.options.ignore_case else needle


class RegexOptions(Options):
    """Options of the ``regex`` grader."""

    pattern: str
    ignore_case: bool = False
    full_match: bool = False

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return pattern


class RegexGrader(Grader):
    """1 when the pattern is found in (or, with ``full_match``, is) the response."""

    kind: ClassVar[str] = "regex"
    options_model = RegexOptions
    options: RegexOptions

    async def grade(self, sample: Sample) -> Grade:
        flags = re.IGNORECASE if self.options.ignore_case else 0
        pattern = re.compile(self.options.pattern, flags)
        text = sample.response.strip()
        find = pattern.fullmatch if self.options.full_match else pattern.search
        match = find(text)
        if match:
            return Grade(1.0, f"matched {match.group(0)[:80]!r}")
        return Grade(0.0, f"no match for {self.options.pattern!r}")


def _short(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _either(values: list[str]) -> str:
    if len(values) == 1:
        return repr(values[0])
    return "any of " + ", ".join(repr(v) for v in values[:5])
