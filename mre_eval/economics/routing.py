"""What each request costs under a configuration or under a routing file.

:class:`RoutedCosts` holds, per task type and configuration, the cost of each
request (``None`` when unpriced), or only an expected cost per request when a
routing file is read without a run.  Configurations are named
``"model / prompt variant"``; the routing is named ``"routed"``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mre_eval.economics.traffic import is_missing
from mre_eval.errors import ConfigError, DataError

log = logging.getLogger(__name__)

ROUTED = "routed"

PerRequest = dict[str, float | None]  # example id -> cost


@dataclass
class RoutedCosts:
    """Costs per task type and configuration.

    Attributes:
        source: "run" or "routing".
        per_request: task type -> configuration -> example id -> cost.
        expected: task type -> configuration -> expected cost per request, used
            where no per-request costs are known.
        scores: task type -> configuration -> mean score, where measured.
    """

    source: str
    per_request: dict[str, dict[str, PerRequest]] = field(default_factory=dict)
    expected: dict[str, dict[str, float | None]] = field(default_factory=dict)
    scores: dict[str, dict[str, float]] = field(default_factory=dict)

    def by_config(self, task_type: str) -> dict[str, PerRequest | float | None]:
        """Each configuration's per-request costs, or its expected cost."""
        out: dict[str, Any] = dict(self.expected.get(task_type, {}))
        out.update(self.per_request.get(task_type, {}))
        return out

    def mean_cost(self, task_type: str, config: str) -> float | None:
        """Mean cost per priced request, or the expected cost."""
        found = self.by_config(task_type).get(config)
        if not isinstance(found, dict):
            return found
        priced = [v for v in found.values() if v is not None]
        return sum(priced) / len(priced) if priced else None

    def most_capable(self, task_type: str) -> str | None:
        """The configuration with the best mean score (dearer wins a tie)."""
        scores = self.scores.get(task_type)
        if not scores:
            return None
        return max(scores, key=lambda c: (scores[c],
                                          self.mean_cost(task_type, c) or 0.0))


def from_results(results: Any) -> RoutedCosts:
    """Per-request costs of every configuration in a run (first repeat)."""
    rows = results.sort_values("repeat").drop_duplicates(
        ["example_id", "task_type", "model", "prompt_variant"])
    costs = RoutedCosts("run")
    for row in rows.itertuples():
        config = f"{row.model} / {row.prompt_variant}"
        cost = None if is_missing(row.cost_usd) else float(row.cost_usd)
        costs.per_request.setdefault(row.task_type, {}).setdefault(
            config, {})[str(row.example_id)] = cost
    scored = rows.dropna(subset=["score"])
    for (task, model, variant), group in scored.groupby(
            ["task_type", "model", "prompt_variant"]):
        costs.scores.setdefault(task, {})[f"{model} / {variant}"] = \
            float(group["score"].astype(float).mean())
    return costs


def read_routing(path: Path) -> dict[str, Any]:
    """A routing.json file's content, checked for the parts read here."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"cannot read routing file {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("task_types"), dict):
        raise DataError(
            f"{path} is not a routing file: it needs a task_types mapping; write "
            "one with `mre-eval optimize`")
    return data


def from_routing(path: Path, run_costs: RoutedCosts | None = None,
                 examples: Any = None) -> RoutedCosts:
    """Costs under a routing file; per request when a run is given too.

    With a run, each example is routed with :class:`mre_eval.Router` and costs
    what its routed configuration cost in the run.  Without one, the routing
    file's expected cost per request stands for every request.
    """
    data = read_routing(path)
    costs = RoutedCosts("routing")
    for task, entry in data["task_types"].items():
        expected = entry.get("expected_cost_per_request")
        costs.expected[task] = {ROUTED: None if expected is None else float(expected)}
    if run_costs is not None:
        costs.scores = run_costs.scores
        costs.per_request = {t: dict(c) for t, c in run_costs.per_request.items()}
        if examples is not None:
            _route_examples(path, costs, run_costs, examples)
    return costs


def _route_examples(path: Path, costs: RoutedCosts, run_costs: RoutedCosts,
                    examples: Any) -> None:
    try:
        from mre_eval import Router  # type: ignore[attr-defined]
    except ImportError:
        log.warning("the Router is not available; using the routing file's "
                    "expected cost per request instead of routing each request")
        return
    router = Router.load(path)
    for ex in examples.itertuples():
        decision = router.route(str(ex.task_type), str(ex.input or ""))
        config = f"{decision.model} / {decision.prompt_variant}"
        table = run_costs.per_request.get(str(ex.task_type), {}).get(config, {})
        costs.per_request.setdefault(str(ex.task_type), {}).setdefault(
            ROUTED, {})[str(ex.example_id)] = table.get(str(ex.example_id))


def check_known(costs: RoutedCosts, suite: Any) -> None:
    """Refuse a routing file naming a task type the suite does not have."""
    known = {t.name for t in suite.task_types}
    unknown = sorted(set(costs.expected) - known)
    if unknown:
        raise ConfigError(
            f"the routing file has unknown task types {unknown}: the suite "
            f"{suite.name!r} has {sorted(known)}; re-run `mre-eval optimize` "
            "with this suite")
