"""Quality and cost of one served configuration, measured from results rows.

The gate and the report measure a set of results rows the same way:

- quality is taken per example (the mean over its repeats), so repeats of one
  request do not count as independent evidence;
- as in :mod:`mre_eval.summary`, a call that failed is not scored: quality
  rests on the calls that returned, and failed calls are counted beside it
  (the gate judges their share with its own check);
- a pass rate over single samples gets a Wilson interval; graded scores, and
  pass rates averaged over repeats, get a bootstrap interval over examples
  (:mod:`mre_eval.stats`);
- cost per request is the mean recorded cost over the calls that have a
  price; calls without one are counted, never averaged in as zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from mre_eval.stats import Estimate, bootstrap_mean, wilson

if TYPE_CHECKING:
    import pandas as pd

QualityOn = Literal["pass_rate", "mean_score"]

DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class CostFigure:
    """Mean dollars per request over priced calls, and how many were unpriced."""

    per_request: float | None
    priced: int
    unpriced: int

    @property
    def complete(self) -> bool:
        """Whether every call had a price."""
        return self.unpriced == 0 and self.priced > 0


def example_quality(frame: pd.DataFrame, on: QualityOn) -> pd.Series:
    """Quality per example: the mean over its scored repeats.

    Args:
        frame: results rows of one configuration (or one routed policy).
        on: ``pass_rate`` reads the ``passed`` column, ``mean_score`` reads
            ``score``.

    Returns:
        A float series indexed by ``example_id``.
    """
    scored = frame[frame["score"].notna()]
    column = "passed" if on == "pass_rate" else "score"
    values = scored[column].astype("Float64").astype(float)
    return values.groupby(scored["example_id"].astype(str)).mean()


def quality(frame: pd.DataFrame, on: QualityOn) -> Estimate:
    """The quality of ``frame``'s rows with its 95% interval."""
    repeated = bool(len(frame)) and int(frame["repeat"].max()) > 0
    return quality_estimate(example_quality(frame, on), on, repeated)


def quality_estimate(values: pd.Series | np.ndarray, on: QualityOn,
                     repeated: bool = False) -> Estimate:
    """The point estimate and 95% interval of per-example quality values.

    A pass rate over single samples gets a Wilson interval; scores and pass
    rates averaged over repeats get a bootstrap over examples.
    """
    array = np.asarray(values, dtype=float)
    if on == "pass_rate" and not repeated:
        return wilson(float(array.sum()), len(array))
    return bootstrap_mean(array)


def gated_value(estimate: Estimate, gate_on: str) -> float:
    """The figure compared with a threshold: the lower bound or the point."""
    return estimate.low if gate_on == "lower_bound" else estimate.point


def cost_figure(frame: pd.DataFrame) -> CostFigure:
    """Mean cost per request of ``frame``'s rows, over those with a price."""
    costs = frame["cost_usd"].astype("Float64")
    priced = costs.dropna()
    mean = float(priced.mean()) if len(priced) else None
    return CostFigure(mean, len(priced), int(costs.isna().sum()))


def monthly_cost(per_request: float | None,
                 requests_per_day: float | None) -> float | None:
    """Dollars a month at the declared traffic, with no growth applied."""
    if per_request is None or requests_per_day is None:
        return None
    return per_request * requests_per_day * DAYS_PER_MONTH


def failed_share(frame: pd.DataFrame) -> float:
    """The share of ``frame``'s calls that failed (0 when it has none)."""
    return failed_calls(frame) / len(frame) if len(frame) else 0.0


def failed_calls(frame: pd.DataFrame) -> int:
    """How many rows record a call that failed."""
    return int(frame["error"].notna().sum())


def latency_quantiles(frame: pd.DataFrame,
                      quantiles: tuple[float, ...] = (0.5, 0.95)) -> list[float]:
    """Latency quantiles in seconds over calls that have one (NaN when none)."""
    latency = frame["latency_s"].astype("Float64").dropna().astype(float)
    if latency.empty:
        return [math.nan for _ in quantiles]
    return [float(v) for v in np.quantile(latency.to_numpy(), quantiles)]
