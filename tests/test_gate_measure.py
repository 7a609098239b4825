"""Quality and cost of a set of results rows, as the gate and report measure them."""

from __future__ import annotations

import math

import pytest

from mre_eval.gate import measure
from mre_eval.results import results_frame


def _rows(outcomes: list[tuple[str, int, float | None, float | None]]):
    """(example_id, repeat, score, cost) -> a results frame; None score = failed."""
    return results_frame([
        {"example_id": eid, "task_type": "qa", "model": "m", "prompt_variant": "p",
         "repeat": repeat, "score": score,
         "passed": None if score is None else score >= 1.0,
         "error": "timeout" if score is None else None, "cost_usd": cost,
         "latency_s": 0.1 * (i + 1)}
        for i, (eid, repeat, score, cost) in enumerate(outcomes)])


def test_repeats_are_averaged_per_example_and_failed_calls_left_out():
    frame = _rows([("a", 0, 1.0, 0.1), ("a", 1, 0.0, 0.1), ("b", 0, 1.0, 0.1),
                   ("c", 0, None, None)])
    values = measure.example_quality(frame, "pass_rate")
    assert values.to_dict() == {"a": 0.5, "b": 1.0}
    assert measure.failed_calls(frame) == 1
    assert measure.failed_share(frame) == 0.25


@pytest.mark.parametrize(("repeats", "expected_n", "wilson"), [
    (1, 4, True), (2, 4, False),
], ids=["single-samples-wilson", "repeats-bootstrap"])
def test_the_interval_suits_the_sample(repeats, expected_n, wilson):
    frame = _rows([(eid, r, float(eid in "ab"), 0.1)
                   for eid in "abcd" for r in range(repeats)])
    est = measure.quality(frame, "pass_rate")
    assert (est.n, est.point) == (expected_n, 0.5)
    # Wilson stays strictly inside (0, 1); the bootstrap of 4 values can reach both
    assert (0 < est.low and est.high < 1) == wilson


def test_cost_is_averaged_over_priced_calls_only():
    cost = measure.cost_figure(_rows([("a", 0, 1.0, 0.2), ("b", 0, 1.0, None),
                                      ("c", 0, 0.0, 0.4)]))
    assert cost.per_request == pytest.approx(0.3)
    assert (cost.priced, cost.unpriced, cost.complete) == (2, 1, False)


def test_monthly_cost_uses_the_average_month_and_keeps_unknown_unknown():
    assert measure.monthly_cost(0.01, 100) == pytest.approx(0.01 * 100 * 30.4375)
    assert measure.monthly_cost(None, 100) is None


@pytest.mark.parametrize(("gate_on", "expected"), [
    ("lower_bound", 0.4), ("point", 0.5)], ids=["lower-bound", "point"])
def test_gated_value(gate_on, expected):
    from mre_eval.stats import Estimate

    assert measure.gated_value(Estimate(0.5, 0.4, 0.6, 10), gate_on) == expected


def test_latency_quantiles_without_latencies_are_nan():
    frame = _rows([("a", 0, 1.0, 0.1)])
    frame["latency_s"] = None
    assert all(math.isnan(v) for v in measure.latency_quantiles(frame))
