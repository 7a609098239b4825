"""Every error mre-eval raises on purpose.

    MreEvalError                 base: the CLI prints its message, exit 2
    ├── ConfigError              a suite, routing file or option is wrong
    │   └── SuiteError           ... at a known place in a suite file
    ├── DataError                a dataset, results table or log is unusable
    ├── PricingError             a price override or price lookup is malformed
    ├── ProviderError            a model call failed after every retry
    ├── GradingError             a response could not be graded, at a known cost
    ├── IntegrityError           a file does not match the hash it was saved with
    └── SpendCapReached          the run stopped short of exceeding --max-spend

Messages say what the bad value was, what is allowed and how to fix it.
"""

from __future__ import annotations

from pathlib import Path


class MreEvalError(Exception):
    """Base of all deliberate errors; ``exit_code`` is what the CLI returns."""

    exit_code = 2


class ConfigError(MreEvalError):
    """A configuration value is invalid."""


class SuiteError(ConfigError):
    """A suite file is invalid at a known place.

    Args:
        message: what is wrong, what is allowed and the fix.
        path: the suite file.
        line: 1-based line, when known.
        column: 1-based column, when known.
    """

    def __init__(
        self,
        message: str,
        path: Path | str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.detail = message
        super().__init__(_located(message, path, line, column))


class DataError(MreEvalError):
    """A dataset, results table or log cannot be used."""


class PricingError(MreEvalError):
    """A price could not be worked out because its inputs are malformed."""


class ProviderError(MreEvalError):
    """A model call failed for good."""

    exit_code = 1


class GradingError(MreEvalError):
    """A response could not be graded, though grading may have been paid for.

    Args:
        message: what went wrong.
        cost_usd: what grading spent on the response (an LLM judge's call
            whose reply held no score is still billed); ``None`` when that
            cost is unknown.
    """

    exit_code = 1

    def __init__(self, message: str, cost_usd: float | None = 0.0) -> None:
        self.cost_usd = cost_usd
        super().__init__(message)


class IntegrityError(MreEvalError):
    """A saved artefact does not match the hash recorded for it."""


class SpendCapReached(MreEvalError):
    """The run stopped launching calls so as not to exceed its spend cap."""

    exit_code = 3


def _located(message: str, path: object, line: int | None, column: int | None) -> str:
    if path is None:
        return message
    where = str(path)
    if line is not None:
        where += f":{line}"
        if column is not None:
            where += f":{column}"
    return f"{where}: {message}"
