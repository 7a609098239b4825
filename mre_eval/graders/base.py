"""What every grader shares: the sample it sees, the grade it gives, its options.

A grader turns one response into a score in [0, 1].  Graders that compare
against an expected answer read it, in this order, from a fixed ``expected``
option, from the example's ``field`` column, or from the example's reference.
When none of those holds a value (an empty CSV cell counts as none) the grader
raises :class:`DataError` naming the example and its line, rather than scoring
the response as wrong.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, model_validator

from mre_eval.errors import DataError

if TYPE_CHECKING:
    from mre_eval.datasets import Example


@dataclass(frozen=True)
class Sample:
    """One response to grade, with the example it answers."""

    response: str
    example: Example
    recorded_score: float | None = None


@dataclass(frozen=True)
class Grade:
    """A score in [0, 1], why, and what grading itself cost.

    ``cost_usd`` is an LLM judge's own cost; ``None`` means the judge's price
    is not known, which is never the same as free.
    """

    score: float
    detail: str | None = None
    cost_usd: float | None = 0.0

    def __post_init__(self) -> None:
        if not is_unit_score(self.score):
            raise ValueError(f"a grade's score must be in [0, 1], got {self.score!r}")


class Options(BaseModel):
    """Base of every grader's options: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ExpectedOptions(Options):
    """Options of graders that compare a response with an expected value."""

    expected: Any = None
    field: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ExpectedOptions:
        if self.expected is not None and self.field is not None:
            raise ValueError(
                "give at most one of expected (a fixed value) or field (a dataset "
                "column); with neither, the example's reference is used")
        return self


class Grader(ABC):
    """Scores one response.

    Subclasses set :attr:`kind` (the name a suite uses) and :attr:`options_model`
    (the pydantic model their options are checked with).
    """

    kind: ClassVar[str]
    options_model: ClassVar[type[Options]] = Options
    needs_reference: ClassVar[bool] = False

    def __init__(self, options: Options, base_dir: Path | None = None) -> None:
        self.options = options
        self.base_dir = base_dir

    @abstractmethod
    async def grade(self, sample: Sample) -> Grade:
        """Score ``sample.response``; raise DataError when it cannot be graded."""

    def required_env(self) -> list[str]:
        """Environment variables the grader needs at grading time."""
        return []


def is_unit_score(value: object) -> bool:
    """Whether ``value`` is a real number in [0, 1] (bools excluded)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not math.isnan(value) and 0.0 <= value <= 1.0


def expected_value(options: ExpectedOptions, sample: Sample, kind: str) -> Any:
    """The value a response is compared with, from options, a column or reference.

    Raises:
        DataError: when the chosen source holds no value for this example.
    """
    if options.expected is not None:
        return options.expected
    example = sample.example
    if options.field is not None:
        if options.field not in example.fields:
            raise DataError(
                f"example {example.id!r} ({example.where}) has no column "
                f"{options.field!r}, which the {kind} grader reads; columns are "
                f"{sorted(example.fields)}")
        value = example.fields[options.field]
        source = f"column {options.field!r}"
    else:
        value = example.reference
        source = "reference"
    if _is_blank(value):
        raise DataError(
            f"example {example.id!r} ({example.where}) has no {source}, and "
            f"the {kind} grader needs one: fill it in the dataset, or give the "
            "grader a fixed value with options.expected")
    return value


def _is_blank(value: Any) -> bool:
    """No value: None, NaN, or (as an empty CSV cell reads) blank text."""
    if isinstance(value, float):
        return math.isnan(value)
    return value is None or (isinstance(value, str) and not value.strip())


def as_text_list(value: Any) -> list[str]:
    """An expected value as a list of strings (one string, or a list of them)."""
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return [str(value)]
