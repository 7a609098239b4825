"""A routing file measured on results it was not made from.

Give it the results of requests the optimizer never saw (a kept-out split,
or a later run of the same suite) and it routes each request with the
:class:`~mre_eval.optimize.router.Router`, then reads off the observed
quality and cost of the configuration chosen, beside the static policy and
the most capable configuration on the same requests.  This is how a promise
in routing.json is checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mre_eval.errors import DataError
from mre_eval.optimize.candidates import TaskData, TaskSpec, build_candidates
from mre_eval.optimize.policy import estimate
from mre_eval.stats import Estimate

if TYPE_CHECKING:
    import pandas as pd

    from mre_eval.optimize.router import Router


@dataclass(frozen=True)
class Check:
    """Observed quality and cost of a routing file on new requests."""

    task_type: str
    promised: Estimate
    observed: Estimate
    cost: float
    static_cost: float
    capable_cost: float

    @property
    def saving_vs_static(self) -> float:
        return 100.0 * (1 - self.cost / self.static_cost) if self.static_cost else 0.0

    @property
    def saving_vs_capable(self) -> float:
        return (100.0 * (1 - self.cost / self.capable_cost)
                if self.capable_cost else 0.0)

    def as_dict(self) -> dict[str, Any]:
        return {"task_type": self.task_type, "promised": self.promised.as_dict(),
                "observed": self.observed.as_dict(), "cost_per_request": self.cost,
                "static_cost_per_request": self.static_cost,
                "most_capable_cost_per_request": self.capable_cost,
                "saving_vs_static_pct": self.saving_vs_static,
                "saving_vs_most_capable_pct": self.saving_vs_capable}


def check(router: Router, results: pd.DataFrame,
          examples: pd.DataFrame) -> dict[str, Check]:
    """Route every request in ``results`` and measure what happened.

    Raises:
        DataError: when the results lack a configuration the file routes to.
    """
    entries = router.routing["task_types"]
    specs = {name: TaskSpec(name, e["threshold"], e["threshold_on"], e["gate_on"])
             for name, e in entries.items()}
    data = build_candidates(results, examples, specs, folds=2)
    return {name: _check_task(router, task, entries[name])
            for name, task in data.items()}


def _check_task(router: Router, task: TaskData, entry: dict[str, Any]) -> Check:
    name = task.spec.name
    index = {(c.model, c.prompt_variant): i for i, c in enumerate(task.configs)}
    picked = np.array([_index(index, router.route(name, text), name)
                       for text in task.texts])
    rows = np.arange(len(picked))
    base = entry["baselines"]
    static = _index(index, base["static"], name)
    capable = _index(index, base["most_capable"], name)
    return Check(
        name, Estimate(**entry["expected_quality"]),
        estimate(task.quality[rows, picked], task.binary),
        float(task.cost[rows, picked].mean()), float(task.cost[:, static].mean()),
        float(task.cost[:, capable].mean()))


def _index(index: dict[tuple[str, str], int], where: Any, task: str) -> int:
    model = where["model"] if isinstance(where, dict) else where.model
    variant = (where["prompt_variant"] if isinstance(where, dict)
               else where.prompt_variant)
    if (model, variant) not in index:
        raise DataError(
            f"task type {task!r}: the results hold no priced answers of "
            f"{model} / {variant}, which the routing file uses: check it on "
            "results of the same models and prompt variants")
    return index[(model, variant)]
