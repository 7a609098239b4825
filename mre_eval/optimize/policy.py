"""Routing policies and how their quality and cost are measured.

A cascade lists configurations from cheapest to most capable, each but the
last with a cut-off: a request goes to the first configuration whose score
clears its cut-off, and to the last one otherwise.  The score is either the
configuration's predicted quality, or (``on_gap``) that minus the last
configuration's predicted quality on the same request.  The gap sends a
request to a cheap configuration when little is predicted to be lost by it,
including requests that are hard for every configuration.  The optimizer
searches gap cut-offs; bare ones are how older routing files route.  A
static policy is a cascade of one.  A policy's quality is measured on real
outcomes (the observed score of the configuration each request was sent to),
never on predictions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mre_eval.stats import Z95, Estimate, bootstrap_mean, wilson

GAP = "gap_to_last"   # routing.json's name for cut-offs on the gap


@dataclass(frozen=True)
class Cascade:
    """Members (indices into the task's configurations) and their cut-offs."""

    members: tuple[int, ...]
    cutoffs: tuple[float, ...]
    on_gap: bool = False       # cut-offs read the gap to the last member

    def choose(self, predicted: np.ndarray) -> np.ndarray:
        """Which member each request goes to, given predictions (n x configs)."""
        n = predicted.shape[0]
        choice = np.full(n, len(self.members) - 1)
        undecided = np.ones(n, dtype=bool)
        last = predicted[:, self.members[-1]] if self.on_gap else 0.0
        for pos, (member, cut) in enumerate(zip(self.members, self.cutoffs)):
            take = undecided & (predicted[:, member] - last >= cut)
            choice[take] = pos
            undecided &= ~take
        return choice

    def configs(self, predicted: np.ndarray) -> np.ndarray:
        """The configuration index each request goes to."""
        return np.asarray(self.members)[self.choose(predicted)]


@dataclass(frozen=True)
class Outcome:
    """What a policy did on a set of requests."""

    quality: Estimate
    cost: float                 # mean dollars per request
    shares: tuple[float, ...]   # traffic share of each member
    per_request_cost: np.ndarray
    per_request_quality: np.ndarray


def measure(config_per_request: np.ndarray, quality: np.ndarray,
            cost: np.ndarray, members: tuple[int, ...], binary: bool) -> Outcome:
    """Realised quality (with its 95% interval) and cost of a routing."""
    rows = np.arange(len(config_per_request))
    q = quality[rows, config_per_request]
    c = cost[rows, config_per_request]
    shares = tuple(float(np.mean(config_per_request == m)) for m in members)
    return Outcome(estimate(q, binary), float(c.mean()), shares, c, q)


def estimate(values: np.ndarray, binary: bool) -> Estimate:
    """Quality with its 95% interval: Wilson for pass rates, else bootstrap."""
    values = np.asarray(values, dtype=float)
    if binary:
        return wilson(float(values.sum()), len(values))
    return bootstrap_mean(values)


def fast_low(total: np.ndarray, squares: np.ndarray, n: int,
             binary: bool) -> np.ndarray:
    """Vectorised 95% lower bounds from sums, for searching many policies.

    Wilson for pass rates; a normal bound for graded scores (the bootstrap
    checks the winner afterwards).
    """
    p = total / n
    z2 = Z95 * Z95
    if binary:
        centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        half = Z95 * np.sqrt(np.maximum(p * (1 - p), 0) / n + z2 / (4 * n * n))
        return np.maximum(0.0, centre - half / (1 + z2 / n))
    var = np.maximum(squares / n - p * p, 0.0) * n / max(n - 1, 1)
    return p - Z95 * np.sqrt(var / n)


def meets(quality: Estimate, threshold: float, gate_on: str) -> bool:
    """Whether a quality estimate clears the threshold the way the suite says."""
    value = quality.low if gate_on == "lower_bound" else quality.point
    return bool(value >= threshold - 1e-12)


def cost_upper_gap(candidate: np.ndarray, reference: np.ndarray) -> float:
    """95% upper bound of mean(candidate - reference) per request, paired."""
    diff = np.asarray(candidate, dtype=float) - np.asarray(reference, dtype=float)
    n = len(diff)
    spread = float(diff.std(ddof=1)) if n > 1 else 0.0
    return float(diff.mean() + Z95 * spread / math.sqrt(max(n, 1)))
