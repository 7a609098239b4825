"""The search: the cheapest policy that meets a task type's threshold.

1. Static: the cheapest single configuration whose quality meets the
   threshold (by its 95% lower bound unless the suite says ``gate_on: point``).
   When none does, the most capable configuration takes all traffic
   (policy ``fallback``) and the shortfall is reported.
2. Learned: cascades of frontier configurations (see :mod:`.selection` for
   how many), ending at the most capable one, with a cut-off on a member's predicted
   quality minus the most capable one's (see :mod:`.policy`), tried on
   cross-fitted (out-of-fold) predictions.  Each fold's traffic gets the
   cascade chosen without that fold's outcomes (see :mod:`.selection`), so
   the promised quality is the observed outcome of the configuration each
   request was sent to, out of fold, never a prediction.
3. The learned candidate ships only when it meets the threshold and its
   per-request cost is below the static policy's with 95% confidence (paired
   over the same requests); otherwise static ships, and the decision record
   says why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mre_eval.optimize.candidates import TaskData
from mre_eval.optimize.classifier import TaskClassifier, cross_fit, fold_of
from mre_eval.optimize.frontier import ConfigStats, config_stats, most_capable
from mre_eval.optimize.policy import Cascade, Outcome, cost_upper_gap, measure, meets
from mre_eval.optimize.selection import screen, select

log = logging.getLogger(__name__)


@dataclass
class Choice:
    """One policy considered, with what it did on the fit examples."""

    kind: str                      # learned | static | fallback
    cascade: Cascade               # its configurations, cheapest first
    outcome: Outcome               # shares follow ``cascade.members``
    meets: bool
    folds: tuple[Cascade, ...] = ()  # a learned policy's cascade per fold
    routed: np.ndarray | None = None  # configuration each fit example went to


@dataclass
class TaskResult:
    """Everything decided for one task type."""

    data: TaskData
    stats: list[ConfigStats]
    chosen: Choice
    static: Choice
    learned: Choice | None
    capable: ConfigStats
    oracle: Outcome
    classifier: TaskClassifier | None
    reason: str
    unmet: str | None = None
    record: dict[str, Any] = field(default_factory=dict)


def search_task(data: TaskData, featurizer: object, folds: int,
                seed: int) -> TaskResult:
    """Find the cheapest policy that meets ``data.spec``'s threshold."""
    spec = data.spec
    stats = config_stats(data)
    capable = most_capable(stats)
    static, unmet = _static(data, stats, capable)
    learned, classifier, record = _learned(data, stats, featurizer, folds, seed,
                                           static.cascade.members[0])
    chosen, reason = _decide(static, learned, unmet, record.get("note"))
    if chosen.kind != "learned":
        classifier = None
    log.debug("task type %r: %s policy, %s", spec.name, chosen.kind, reason)
    return TaskResult(data, stats, chosen, static, learned, capable,
                      _oracle(data), classifier, reason, unmet, record)


def _static(data: TaskData, stats: list[ConfigStats],
            capable: ConfigStats) -> tuple[Choice, str | None]:
    spec = data.spec
    passing = [s for s in stats if meets(s.quality, spec.threshold, spec.gate_on)]
    if passing:
        best = min(passing, key=lambda s: (s.cost, -s.quality.point, s.index))
        kind, unmet = "static", None
    else:
        best, kind = capable, "fallback"
        half = (best.quality.high - best.quality.low) / 2
        unmet = (f"threshold {spec.threshold:.2f} unmet: best is "
                 f"{data.configs[best.index].label} at {best.quality.point:.2f} "
                 f"± {half:.2f}")
    cascade = Cascade((best.index,), ())
    routed = np.full(len(data.example_ids), best.index)
    outcome = measure(routed, data.quality, data.cost, cascade.members, data.binary)
    return Choice(kind, cascade, outcome, unmet is None, routed=routed), unmet


def _learned(data: TaskData, stats: list[ConfigStats], featurizer: object,
             folds: int, seed: int, static_index: int
             ) -> tuple[Choice | None, TaskClassifier | None, dict[str, Any]]:
    front = sorted((s for s in stats if s.on_frontier), key=lambda s: s.cost)
    if len(front) < 2:
        return None, None, {"note": "one configuration is on the frontier: there "
                                    "is nothing to route between"}
    index = [s.index for s in front]
    try:
        oof, classifier = cross_fit(data.texts, data.quality[:, index], featurizer,
                                    folds, seed)
    except ValueError as exc:
        return None, None, {"note": f"the classifier could not be fitted: {exc}"}
    classifier.labels = [data.configs[i].label for i in index]
    predicted = np.zeros_like(data.quality)
    predicted[:, index] = oof
    fold_ids = np.array([fold_of(t, folds, seed) for t in data.texts])
    found = screen(data, predicted, index, fold_ids, folds)
    chosen = select(data, predicted, found, fold_ids, static_index)
    record: dict[str, Any] = {"candidates_screened": len(found.cascades)}
    if chosen is None:
        return None, classifier, record
    record["margin"] = chosen.margin
    union = Cascade(chosen.members, ())
    return (Choice("learned", union, chosen.outcome, True, chosen.cascades,
                   chosen.configs), classifier, record)


def _decide(static: Choice, learned: Choice | None, unmet: str | None,
            note: str | None = None) -> tuple[Choice, str]:
    name = "the static policy" if unmet is None else "the fallback configuration"
    if learned is None:
        why = note or "no learned cascade met the threshold out of fold"
        return static, f"{why}, so {name} ships"
    gap = cost_upper_gap(learned.outcome.per_request_cost,
                         static.outcome.per_request_cost)
    if gap >= 0:
        return static, (
            f"the best learned cascade met the threshold out of fold but was not "
            f"cheaper than {name} with 95% confidence (cost difference upper "
            f"bound {gap:+.3g} $/request), so {name} ships")
    return learned, (
        f"the learned cascade meets the threshold out of fold and costs less than "
        f"{name} with 95% confidence (cost difference upper bound {gap:+.3g} "
        "$/request)")


def _oracle(data: TaskData) -> Outcome:
    # per request: the cheapest configuration reaching the best observed quality
    best = data.quality.max(axis=1, keepdims=True)
    reach = data.quality >= best - 1e-12
    priced = np.where(reach, data.cost, np.inf)
    picked = np.argmin(priced, axis=1)
    return measure(picked, data.quality, data.cost, tuple(range(len(data.configs))),
                   data.binary)
