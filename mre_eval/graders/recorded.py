"""The ``recorded`` grader: the score stored with a recorded outcome.

Offline suites replay real calls whose correctness was judged when they were
recorded (RouterBench's scores, for instance).  This grader passes that score
through, so a replayed run reports the quality the recording measured.
"""

from __future__ import annotations

from typing import ClassVar

from mre_eval.errors import DataError
from mre_eval.graders.base import Grade, Grader, Sample, is_unit_score


class RecordedGrader(Grader):
    """The recorded score of the outcome, unchanged."""

    kind: ClassVar[str] = "recorded"

    async def grade(self, sample: Sample) -> Grade:
        score = sample.recorded_score
        example = sample.example
        if score is None:
            raise DataError(
                f"example {example.id!r} ({example.where}) has no recorded score; "
                "the recorded grader only works with a suite whose recorded "
                "outcomes have a score column (recorded.columns.score): add it, "
                "or pick another grader")
        if not is_unit_score(score):
            raise DataError(
                f"example {example.id!r} ({example.where}): recorded score "
                f"{score!r} is not in [0, 1]; scores in recorded outcomes must be "
                "between 0 and 1")
        return Grade(float(score), "recorded score")
