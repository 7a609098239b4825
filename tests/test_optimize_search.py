"""The search: static by lower bound, fallback, learned vs static, oracle."""

from __future__ import annotations

import numpy as np
import pytest

from mre_eval.optimize.candidates import Config, TaskData, TaskSpec, build_candidates
from mre_eval.optimize.features import TextFeaturizer
from mre_eval.optimize.frontier import frontier_mask, tier_names
from mre_eval.optimize.policy import Cascade, Outcome, cost_upper_gap
from mre_eval.optimize.search import Choice, _decide, search_task
from mre_eval.stats import Estimate
from test_optimize_data import synthetic


def _task(quality: list[list[float]], cost: list[float], threshold: float,
          gate_on: str = "lower_bound") -> TaskData:
    q = np.asarray(quality, dtype=float).T
    n = q.shape[0]
    return TaskData(TaskSpec("qa", threshold, "pass_rate", gate_on),
                    [f"e{i}" for i in range(n)], [f"request {i}" for i in range(n)],
                    [Config(f"m{j}", "v") for j in range(q.shape[1])], q,
                    np.tile(np.asarray(cost, dtype=float), (n, 1)),
                    [None] * q.shape[1], [None] * q.shape[1])


def _pattern(n: int, passes: int) -> list[float]:
    return [1.0 if i < passes else 0.0 for i in range(n)]


@pytest.mark.parametrize(("gate_on", "expected"),
                         [("lower_bound", "m1"), ("point", "m0")],
                         ids=["lower-bound", "point"])
def test_static_is_judged_by_the_lower_bound(gate_on: str, expected: str) -> None:
    # m0 passes 55/60 (0.917, lower bound about 0.82); m1 passes all
    data = _task([_pattern(60, 55), _pattern(60, 60)], [0.001, 0.01], 0.9, gate_on)
    result = search_task(data, TextFeaturizer(), folds=3, seed=0)
    assert result.static.kind == "static"
    assert data.configs[result.static.cascade.members[0]].model == expected


def test_unmet_threshold_falls_back_to_the_best_and_says_so() -> None:
    data = _task([_pattern(60, 30), _pattern(60, 52)], [0.001, 0.01], 0.95)
    result = search_task(data, TextFeaturizer(), folds=3, seed=0)
    assert result.chosen.kind == "fallback"
    assert result.unmet is not None
    assert result.unmet.startswith("threshold 0.95 unmet: best is m1 / v at 0.87 ± ")


def _choice(kind: str, costs: list[float]) -> Choice:
    est = Estimate(0.9, 0.85, 0.95, len(costs))
    outcome = Outcome(est, float(np.mean(costs)), (1.0,), np.asarray(costs),
                      np.ones(len(costs)))
    return Choice(kind, Cascade((0,), ()), outcome, True)


@pytest.mark.parametrize(("learned_costs", "ships"),
                         [([2.0] * 50, "static"), ([1.0] * 49 + [0.9], "static"),
                          ([0.5] * 50, "learned")],
                         ids=["dearer", "not-significantly-cheaper", "cheaper"])
def test_a_learned_policy_ships_only_when_cheaper_with_confidence(
        learned_costs: list[float], ships: str) -> None:
    static = _choice("static", [1.0] * 50)
    chosen, reason = _decide(static, _choice("learned", learned_costs), None)
    assert chosen.kind == ships
    assert ("ships" in reason) == (ships == "static")


def test_no_learned_candidate_ships_static_with_a_reason() -> None:
    chosen, reason = _decide(_choice("static", [1.0] * 10), None, None)
    assert chosen.kind == "static"
    assert "no learned cascade met the threshold" in reason


def test_learned_cascade_ships_when_the_text_tells_hard_from_easy() -> None:
    results, examples = synthetic(n=120)
    data = build_candidates(results, examples, {"qa": TaskSpec("qa", 0.9)}, 5)["qa"]
    result = search_task(data, TextFeaturizer(), folds=5, seed=0)
    assert result.chosen.kind == "learned"
    assert result.chosen.outcome.quality.low >= 0.9
    assert result.chosen.outcome.cost < result.static.outcome.cost
    assert result.chosen.outcome.shares[0] == pytest.approx(0.7, abs=0.05)


def test_learned_is_never_costlier_than_static_when_cheapest_already_passes() -> None:
    results, examples = synthetic(n=120, hard_share=0.0)
    data = build_candidates(results, examples, {"qa": TaskSpec("qa", 0.9)}, 5)["qa"]
    result = search_task(data, TextFeaturizer(), folds=5, seed=0)
    assert result.chosen.kind == "static"
    assert data.configs[result.chosen.cascade.members[0]].model == "cheap"


def test_oracle_takes_the_cheapest_passing_configuration() -> None:
    data = _task([_pattern(40, 20), _pattern(40, 40)], [1.0, 3.0], 0.5)
    result = search_task(data, TextFeaturizer(), folds=2, seed=0)
    assert result.oracle.cost == pytest.approx(2.0)
    assert result.oracle.quality.point == 1.0


@pytest.mark.parametrize(("quality", "cost", "expected"),
                         [([0.5, 0.9, 0.8], [1, 2, 3], [True, True, False]),
                          ([0.5, 0.5], [1, 1], [True, True])],
                         ids=["dominated", "tie"])
def test_frontier_mask(quality: list[float], cost: list[float],
                       expected: list[bool]) -> None:
    mask = frontier_mask(np.asarray(quality), np.asarray(cost, dtype=float))
    assert mask.tolist() == expected


def test_tier_names_and_cost_gap() -> None:
    assert tier_names(3) == ["simple", "moderate", "complex"]
    assert tier_names(6)[-1] == "tier-6"
    assert cost_upper_gap(np.zeros(10), np.ones(10)) == pytest.approx(-1.0)


def test_graded_scores_use_the_mean_and_a_bootstrap_interval() -> None:
    n = 80
    hard = np.arange(n) % 3 == 0
    cheap = np.where(hard, 0.4, 0.95)
    strong = np.full(n, 0.9)
    data = _task([cheap.tolist(), strong.tolist()], [0.001, 0.01], 0.85)
    data.spec = TaskSpec("qa", 0.85, "mean_score")
    assert not data.binary
    result = search_task(data, TextFeaturizer(), folds=4, seed=0)
    static = result.static
    assert data.configs[static.cascade.members[0]].model == "m1"
    assert static.outcome.quality.point == pytest.approx(0.9)
    assert static.outcome.quality.low == pytest.approx(0.9)   # no spread at all
