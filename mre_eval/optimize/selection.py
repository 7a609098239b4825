"""Choosing a cascade and its cut-off without grading our own homework.

Picking the cheapest of thousands of (cascade, cut-off) candidates on the
same outcomes that then measure it flatters the winner.  So the promise is
the out-of-fold quality of the whole selection procedure: for each fold, the
candidate is chosen on the other folds' outcomes only and then measured on
that fold (whose predictions are out-of-fold as well).  The candidate that
ships is the one the same procedure picks on every fold together.

The procedure asks each candidate for a margin above the threshold; of the
margins in :data:`MARGINS` whose procedure meets the threshold out of fold
(by the suite's rule), the one whose shipped cascade costs least is used.
The promised quality is the procedure's; the promised cost and traffic
shares are the shipped cascade's own, on out-of-fold predictions, which is
what it will spend, since live requests are scored the same way.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from mre_eval.optimize.candidates import TaskData
from mre_eval.optimize.policy import Cascade, Outcome, estimate, fast_low, meets

MAX_MEMBERS = 4      # configurations in one cascade
CUTOFF_LEVELS = 33   # quantiles of the predictions tried as cut-offs
MARGINS = (0.0, 0.002, 0.004, 0.006, 0.008, 0.01, 0.015, 0.02, 0.03, 0.05)


@dataclass
class Screen:
    """Every candidate's per-fold sums of quality, squared quality and cost."""

    cascades: list[Cascade]
    quality: np.ndarray      # candidates x folds
    squares: np.ndarray
    cost: np.ndarray
    counts: np.ndarray       # examples per fold


@dataclass(frozen=True)
class Selected:
    """The cascade that ships and the honest measure of how it was chosen."""

    cascade: Cascade
    outcome: Outcome
    margin: float
    candidates: int


def screen(data: TaskData, predicted: np.ndarray, index: list[int],
           fold_ids: np.ndarray, folds: int) -> Screen:
    """Route every example with every candidate and sum the outcomes per fold."""
    rows = np.arange(len(fold_ids))
    cascades, sums = [], []
    for size in range(2, min(MAX_MEMBERS, len(index)) + 1):
        for members in itertools.combinations(index, size):
            if members[-1] != index[-1]:
                continue  # every cascade ends at the most capable configuration
            for cut in _cutoffs(predicted[:, list(members[:-1])]):
                cascade = Cascade(members, (float(cut),) * (size - 1))
                picked = cascade.configs(predicted)
                q, c = data.quality[rows, picked], data.cost[rows, picked]
                sums.append([np.bincount(fold_ids, w, minlength=folds)
                             for w in (q, q * q, c)])
                cascades.append(cascade)
    table = np.asarray(sums).reshape(len(cascades), 3, folds)
    return Screen(cascades, table[:, 0], table[:, 1], table[:, 2],
                  np.bincount(fold_ids, minlength=folds))


def select(data: TaskData, predicted: np.ndarray, found: Screen,
           fold_ids: np.ndarray, static_index: int) -> Selected | None:
    """The cheapest margin whose procedure meets the threshold out of fold."""
    spec, best = data.spec, None
    for margin in MARGINS:
        final = _cheapest(found, None, spec.threshold + margin, data)
        if final is None:
            break
        q, _ = _honest(data, predicted, found, fold_ids, margin, static_index)
        quality = estimate(q, data.binary)
        cascade = found.cascades[final]
        picked = cascade.configs(predicted)
        cost = data.cost[np.arange(len(picked)), picked]
        if meets(quality, spec.threshold, spec.gate_on) and (
                best is None or cost.mean() < best.outcome.cost):
            shares = tuple(float(np.mean(picked == m)) for m in cascade.members)
            best = Selected(cascade, Outcome(quality, float(cost.mean()), shares,
                                             cost, q), margin, len(found.cascades))
    return best


def _honest(data: TaskData, predicted: np.ndarray, found: Screen,
            fold_ids: np.ndarray, margin: float,
            static_index: int) -> tuple[np.ndarray, np.ndarray]:
    # each fold routed by the candidate chosen without its outcomes
    q = np.empty(len(fold_ids))
    c = np.empty(len(fold_ids))
    for fold in range(len(found.counts)):
        rows = np.flatnonzero(fold_ids == fold)
        if not len(rows):
            continue
        pick = _cheapest(found, fold, data.spec.threshold + margin, data)
        configs = (found.cascades[pick].configs(predicted[rows]) if pick is not None
                   else np.full(len(rows), static_index))
        q[rows] = data.quality[rows, configs]
        c[rows] = data.cost[rows, configs]
    return q, c


def _cheapest(found: Screen, without: int | None, target: float,
              data: TaskData) -> int | None:
    keep = np.ones(len(found.counts), dtype=bool)
    if without is not None:
        keep[without] = False
    n = int(found.counts[keep].sum())
    if n == 0:
        return None
    q = found.quality[:, keep].sum(axis=1)
    if data.spec.gate_on == "lower_bound":
        value = fast_low(q, found.squares[:, keep].sum(axis=1), n, data.binary)
    else:
        value = q / n
    ok = np.flatnonzero(value >= target - 1e-12)
    if not len(ok):
        return None
    cost = found.cost[ok][:, keep].sum(axis=1)
    return int(ok[np.argmin(cost)])


def _cutoffs(predicted: np.ndarray) -> np.ndarray:
    levels = np.quantile(predicted, np.linspace(0, 1, CUTOFF_LEVELS))
    return np.unique(np.round(levels, 12))
