"""Choosing cascades and cut-offs without grading our own homework.

Picking the cheapest of many (cascade, cut-off) candidates on the same
outcomes that then measure it flatters the winner.  So the policy is
cross-fitted all the way: for each fold, a cascade is chosen on the other
folds' outcomes only, and that fold's traffic is routed by it (scored by
the fold's own classifier, which never saw the fold either).  Live requests
fall in a fold by the same hash.  The promised quality, cost and traffic
shares are therefore the shipped policy's own out-of-fold outcomes.

Each fold asks its candidates for a margin above the threshold; of the
margins in :data:`MARGINS` whose policy meets the threshold out of fold (by
the suite's rule), the cheapest is used.  A fold where no candidate clears
the bar is routed by the static policy.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from mre_eval.optimize.candidates import TaskData
from mre_eval.optimize.policy import Cascade, Outcome, estimate, fast_low, meets

# Two members (one cheaper configuration, then the most capable) chose better
# policies out of fold on the RouterBench fit data than up to four: fewer
# candidates, less luck in the per-fold pick.  The limit is per fold: folds
# may pick different cheaper members, so the shipped policy can use more
# configurations in all, though no request meets more than two.
MAX_MEMBERS = 2      # configurations in one fold's cascade
CUTOFF_LEVELS = 33   # quantiles of the predictions tried as cut-offs
# A fold picks on four fifths of the requests, whose 95% lower bound is wider
# than the whole set's; small negative margins let it ask for what the whole
# out-of-fold set can show.  The out-of-fold check below still decides.  Steps
# of a tenth of a point: with coarser steps the cheapest passing margin can
# sit up to a point above the one needed, paid in traffic kept on the costly
# member.  Cross-validated on the RouterBench fit part
# (benchmarks/tune_optimize.py), the finer ladder saved a little more with the
# same held-out shortfalls and the same gap between promise and outcome.
MARGINS = tuple(round(-0.01 + 0.001 * step, 3) for step in range(41)) + (0.05,)


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
    """The per-fold cascades that ship and their out-of-fold outcome."""

    cascades: tuple[Cascade, ...]    # one per fold
    configs: np.ndarray              # configuration each example went to
    outcome: Outcome                 # shares follow ``members``
    members: tuple[int, ...]         # configurations used, cheapest first
    margin: float
    candidates: int


def screen(data: TaskData, predicted: np.ndarray, index: list[int],
           fold_ids: np.ndarray, folds: int) -> Screen:
    """Route every example with every candidate and sum the outcomes per fold."""
    rows = np.arange(len(fold_ids))
    cascades, sums = [], []

    def add(cascade: Cascade) -> None:
        picked = cascade.configs(predicted)
        q, c = data.quality[rows, picked], data.cost[rows, picked]
        sums.append([np.bincount(fold_ids, w, minlength=folds) for w in (q, q * q, c)])
        cascades.append(cascade)

    # Single configurations come first, so that on a tie they win over a
    # cascade whose cut-off sends none of the fit requests to its costly
    # member but would send it a few new ones.
    for member in index:
        add(Cascade((member,), ()))
    for size in range(2, min(MAX_MEMBERS, len(index)) + 1):
        for members in itertools.combinations(index, size):
            if members[-1] != index[-1]:
                continue  # every cascade ends at the most capable configuration
            # cut-offs on the predicted gap to the most capable member
            gaps = predicted[:, list(members[:-1])] - predicted[:, [members[-1]]]
            for cut in _cutoffs(gaps):
                add(Cascade(members, (float(cut),) * (size - 1), True))
    table = np.asarray(sums).reshape(len(cascades), 3, folds)
    return Screen(cascades, table[:, 0], table[:, 1], table[:, 2],
                  np.bincount(fold_ids, minlength=folds))


def select(data: TaskData, predicted: np.ndarray, found: Screen,
           fold_ids: np.ndarray, static_index: int) -> Selected | None:
    """The cheapest margin whose cross-fitted policy meets the threshold."""
    spec, best = data.spec, None
    for margin in MARGINS:
        if _cheapest(found, None, spec.threshold + margin, data) is None:
            break
        cascades, picked = _per_fold(data, predicted, found, fold_ids, margin,
                                     static_index)
        if all(len(c.members) == 1 for c in cascades):
            continue
        rows = np.arange(len(picked))
        q, c = data.quality[rows, picked], data.cost[rows, picked]
        quality = estimate(q, data.binary)
        if meets(quality, spec.threshold, spec.gate_on) and (
                best is None or c.mean() < best.outcome.cost):
            members = _members(data, cascades)
            shares = tuple(float(np.mean(picked == m)) for m in members)
            best = Selected(cascades, picked,
                            Outcome(quality, float(c.mean()), shares, c, q),
                            members, margin, len(found.cascades))
    return best


def _per_fold(data: TaskData, predicted: np.ndarray, found: Screen,
              fold_ids: np.ndarray, margin: float, static_index: int
              ) -> tuple[tuple[Cascade, ...], np.ndarray]:
    # each fold routed by the candidate chosen without its outcomes
    picked = np.empty(len(fold_ids), dtype=int)
    cascades = []
    for fold in range(len(found.counts)):
        pick = _cheapest(found, fold, data.spec.threshold + margin, data)
        cascade = (found.cascades[pick] if pick is not None
                   else Cascade((static_index,), ()))
        rows = np.flatnonzero(fold_ids == fold)
        if len(rows):
            picked[rows] = cascade.configs(predicted[rows])
        cascades.append(cascade)
    return tuple(cascades), picked


def _members(data: TaskData, cascades: tuple[Cascade, ...]) -> tuple[int, ...]:
    used = {m for c in cascades for m in c.members}
    costs = data.cost.mean(axis=0)
    return tuple(sorted(used, key=lambda m: (costs[m], m)))


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
    # Not the minimum: a cut-off there sends none of the fit requests to the
    # costly member, so its cost was never measured, yet new requests below
    # it go there.  Sending everything to the cheaper member is a single
    # configuration, screened on its own.
    levels = np.quantile(predicted, np.linspace(0, 1, CUTOFF_LEVELS)[1:])
    return np.unique(np.round(levels, 12))
