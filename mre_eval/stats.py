"""Confidence intervals for quality figures.

Pass rates get Wilson score intervals, which stay inside [0, 1] and behave at
small n and near 0 or 1.  Graded scores get a percentile bootstrap of the mean
with a fixed seed, so the same results always print the same interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    """A quality figure with its 95% interval and the sample it rests on."""

    point: float
    low: float
    high: float
    n: int

    def as_dict(self) -> dict[str, float | int]:
        return {"point": self.point, "low": self.low, "high": self.high, "n": self.n}


def wilson(successes: float, n: int, z: float = Z95) -> Estimate:
    """Wilson score interval for a proportion.

    Args:
        successes: number of passes (may be fractional when repeats are
            averaged per example).
        n: number of trials; 0 gives the uninformative interval [0, 1].
        z: normal quantile; the default gives a two-sided 95% interval.
    """
    if n <= 0:
        return Estimate(float("nan"), 0.0, 1.0, 0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half), n)


def bootstrap_mean(values: np.ndarray, resamples: int = 2000,
                   seed: int = 0, level: float = 0.95) -> Estimate:
    """Percentile bootstrap interval for the mean of ``values``."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n == 0:
        return Estimate(float("nan"), 0.0, 1.0, 0)
    point = float(values.mean())
    if n == 1 or np.all(values == values[0]):
        return Estimate(point, point, point, n)
    rng = np.random.default_rng(seed)
    means = _resampled_means(values, resamples, rng)
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return Estimate(point, float(low), float(high), n)


def quality(scores: np.ndarray, binary: bool) -> Estimate:
    """The interval that suits the scores: Wilson when binary, else bootstrap."""
    scores = np.asarray(scores, dtype=float)
    if binary:
        return wilson(float(scores.sum()), len(scores))
    return bootstrap_mean(scores)


def is_binary(scores: np.ndarray) -> bool:
    """Whether every score is exactly 0 or 1."""
    scores = np.asarray(scores, dtype=float)
    return bool(np.all((scores == 0) | (scores == 1)))


def _resampled_means(values: np.ndarray, resamples: int,
                     rng: np.random.Generator) -> np.ndarray:
    # draw in blocks so memory stays flat for large samples
    block = max(1, 5_000_000 // max(1, len(values)))
    means = []
    done = 0
    while done < resamples:
        size = min(block, resamples - done)
        idx = rng.integers(0, len(values), size=(size, len(values)))
        means.append(values[idx].mean(axis=1))
        done += size
    return np.concatenate(means)
