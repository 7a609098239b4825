"""The per-configuration summary: the right interval, repeats and pass^k."""

from __future__ import annotations

from typing import Any

import pytest

from mre_eval import results as store
from mre_eval.stats import wilson
from mre_eval.suite import Suite
from mre_eval.summary import summarize


def _suite(threshold_on: str = "pass_rate") -> Suite:
    return Suite.model_validate({
        "name": "s", "dataset": {"path": "d.jsonl", "task_type": "t"},
        "task_types": [{"name": "t", "grader": "exact", "threshold": 0.5,
                        "threshold_on": threshold_on, "pass_mark": 0.5}],
        "models": [{"model": "gpt-4o"}], "prompts": [{"id": "p"}]})


def _rows(scores: dict[str, list[float]], **extra: Any) -> list[dict[str, Any]]:
    rows = []
    for example, samples in scores.items():
        for repeat, score in enumerate(samples):
            rows.append({"run_id": "r", "example_id": example, "task_type": "t",
                         "model": "gpt-4o", "prompt_variant": "p", "repeat": repeat,
                         "score": score, "passed": score >= 0.5, "cost_usd": 0.01,
                         "latency_s": 0.1 * (repeat + 1), "cache_hit": False,
                         **extra})
    return rows


def test_single_samples_use_wilson() -> None:
    frame = store.results_frame(_rows({"a": [1], "b": [0], "c": [1], "d": [1]}))
    (row,) = summarize(frame, _suite())
    expected = wilson(3, 4)
    assert row["quality"] == expected.as_dict()
    assert row["pass_hat_k"] is None
    assert row["cost_total_usd"] == pytest.approx(0.04)


def test_repeats_give_mean_pass_rate_and_pass_hat_k() -> None:
    frame = store.results_frame(_rows({"a": [1, 1, 1], "b": [1, 0, 1],
                                       "c": [0, 0, 0], "d": [1, 1, 0]}))
    (row,) = summarize(frame, _suite())
    assert row["repeats"] == 3
    assert row["quality"]["point"] == pytest.approx((1 + 2 / 3 + 0 + 2 / 3) / 4)
    assert row["pass_hat_k"] == pytest.approx(0.25)  # only "a" passed all three
    assert row["quality"]["n"] == 4  # the interval rests on examples, not calls


def test_graded_scores_use_the_mean() -> None:
    frame = store.results_frame(_rows({"a": [0.2], "b": [0.9], "c": [0.7]}))
    (row,) = summarize(frame, _suite("mean_score"))
    assert row["quality"]["point"] == pytest.approx(0.6)
    assert row["quality"]["low"] < 0.6 < row["quality"]["high"]
    assert row["meets_threshold"] is False  # the lower bound is under 0.5


def test_unpriced_calls_are_counted_not_zero() -> None:
    rows = _rows({"a": [1], "b": [1]})
    rows[1]["cost_usd"] = None
    (row,) = summarize(store.results_frame(rows), _suite())
    assert row["unpriced_calls"] == 1
    assert row["cost_mean_usd"] == pytest.approx(0.01)
