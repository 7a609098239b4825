"""Quality and cost of one served configuration, measured from results rows.

The gate and the report measure a set of results rows the same way:

- quality is taken per example (the mean over its repeats), so repeats of one
  request do not count as independent evidence; a call that failed counts as
  a response that did not pass and scored 0, because the product would have
  served nothing;
- pass rates get a Wilson interval and graded scores a bootstrap interval
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
    """Quality per example: the mean over repeats, failed calls as 0.

    Args:
        frame: results rows of one configuration (or one routed policy).
        on: ``pass_rate`` reads the ``passed`` column, ``mean_score`` reads
            ``score``.

    Returns:
        A float series indexed by ``example_id``.
    """
    column = "passed" if on == "pass_rate" else "score"
    values = frame[column].astype("Float64").fillna(0.0).astype(float)
    return values.groupby(frame["example_id"].astype(str)).mean()


def quality_estimate(values: pd.Series | np.ndarray, on: QualityOn) -> Estimate:
    """The point estimate and 95% interval of per-example quality values."""
    array = np.asarray(values, dtype=float)
    if on == "pass_rate":
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
