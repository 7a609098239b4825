"""Did quality drop since the baseline by more than the tolerance?

The question each test answers is one-sided: is the current run worse than
the baseline by more than ``margin`` (the allowed drop)?  The p-value is that
of the null hypothesis "the true drop is at most the margin", so resampling
noise around an unchanged quality trips the check far less often than
``alpha``, and a drop within the tolerance can never be significant.
Examples are paired by id where both runs have them (repeats are first
averaged per example), so two runs are compared on the same questions.

- Pass rates: a two-proportion z-test (unpooled standard error, shifted by
  the margin) on the per-example pass rates.  With paired examples it ignores
  their positive correlation, which makes it conservative: it flags fewer
  drops than a paired test would.
- Graded scores: a paired bootstrap of the mean per-example difference; an
  unpaired bootstrap of the difference of means when the runs share no
  example.

A routing.json's promise keeps no per-example values, only its estimate and
95% interval, so the replayed quality is tested against it with a normal
approximation (:func:`promise_shortfall_p`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from mre_eval.gate.measure import QualityOn

RESAMPLES = 2000
SEED = 0


@dataclass(frozen=True)
class Comparison:
    """Baseline against current quality on the examples they were compared on."""

    baseline: float
    current: float
    p_value: float
    test: str
    n_baseline: int
    n_current: int
    paired: int  # examples present in both runs

    @property
    def drop(self) -> float:
        """How much quality fell; negative when it rose."""
        return self.baseline - self.current


def compare_quality(baseline: pd.Series, current: pd.Series, on: QualityOn,
                    margin: float = 0.0) -> Comparison:
    """Test whether ``current`` quality is below ``baseline``'s by over ``margin``.

    Args:
        baseline: per-example quality of the baseline, indexed by example id.
        current: the same for the current run.
        on: ``pass_rate`` (two-proportion test) or ``mean_score`` (bootstrap).
        margin: the drop that is tolerated.
    """
    shared = baseline.index.intersection(current.index)
    if len(shared):
        baseline, current = baseline.loc[shared], current.loc[shared]
    base = baseline.to_numpy(dtype=float)
    cur = current.to_numpy(dtype=float)
    if on == "pass_rate":
        p_value = two_proportion_p(base, cur, margin)
        test = "two-proportion z-test"
    elif len(shared):
        p_value, test = paired_bootstrap_p(base, cur, margin), "paired bootstrap"
    else:
        p_value, test = unpaired_bootstrap_p(base, cur, margin), "bootstrap"
    return Comparison(float(base.mean()), float(cur.mean()), p_value, test,
                      len(base), len(cur), len(shared))


def two_proportion_p(baseline: np.ndarray, current: np.ndarray,
                     margin: float = 0.0) -> float:
    """One-sided p-value of "the pass rate fell by at most ``margin``"."""
    n1, n2 = len(baseline), len(current)
    if n1 == 0 or n2 == 0:
        return 1.0
    p1, p2 = float(baseline.mean()), float(current.mean())
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return _normal_p(p1 - p2 - margin, se)


def paired_bootstrap_p(baseline: np.ndarray, current: np.ndarray,
                       margin: float = 0.0, resamples: int = RESAMPLES,
                       seed: int = SEED) -> float:
    """One-sided p-value of "the mean paired drop is at most ``margin``"."""
    drops = baseline - current
    if len(drops) == 0:
        return 1.0
    if np.all(drops == drops[0]):
        return 0.0 if drops[0] > margin else 1.0
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(drops), size=(resamples, len(drops)))
    means = drops[idx].mean(axis=1)
    return float((1 + np.sum(means <= margin)) / (resamples + 1))


def unpaired_bootstrap_p(baseline: np.ndarray, current: np.ndarray,
                         margin: float = 0.0, resamples: int = RESAMPLES,
                         seed: int = SEED) -> float:
    """One-sided p-value of "the mean fell by at most ``margin``"."""
    if len(baseline) == 0 or len(current) == 0:
        return 1.0
    rng = np.random.default_rng(seed)
    base = baseline[rng.integers(0, len(baseline), (resamples, len(baseline)))]
    cur = current[rng.integers(0, len(current), (resamples, len(current)))]
    drops = base.mean(axis=1) - cur.mean(axis=1)
    return float((1 + np.sum(drops <= margin)) / (resamples + 1))


def promise_shortfall_p(point: float, low: float, high: float,
                        current: np.ndarray, margin: float = 0.0) -> float:
    """One-sided p-value of "quality is at most ``margin`` below a promise".

    Args:
        point: the promised quality.
        low: the lower end of the promise's 95% interval.
        high: its upper end.
        current: per-example quality of the replayed policy.
        margin: the shortfall that is tolerated.

    The promise's standard error is read from its interval (its width over
    2 x 1.96), the current one from the spread of the per-example values;
    the two are combined as independent, which is conservative when the
    promise was measured on the same examples.
    """
    if len(current) == 0 or not all(map(math.isfinite, (point, low, high))):
        return 1.0
    se_promise = max(0.0, high - low) / (2 * 1.959964)
    se_current = float(np.std(current)) / math.sqrt(len(current))
    se = math.hypot(se_promise, se_current)
    return _normal_p(point - float(np.mean(current)) - margin, se)


def _normal_p(excess: float, se: float) -> float:
    # one-sided p-value of an excess drop under a normal approximation
    if se == 0:
        return 0.0 if excess > 0 else 1.0
    return 0.5 * math.erfc(excess / se / math.sqrt(2))


def cost_change(baseline: float | None, current: float | None) -> float | None:
    """Relative change of cost per request; ``None`` when either is unknown."""
    if baseline is None or current is None:
        return None
    if baseline == 0:
        return 0.0 if current == 0 else math.inf
    return (current - baseline) / baseline
