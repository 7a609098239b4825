"""Candidates per task type: pricing, repeats, thresholds and sample size."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from mre_eval.errors import ConfigError, DataError
from mre_eval.optimize.candidates import TaskSpec, build_candidates, min_examples
from mre_eval.optimize.optimizer import parse_thresholds, task_specs
from mre_eval.results import results_frame
from test_optimize_data import result_row, synthetic


def _examples(n: int, task: str = "qa") -> pd.DataFrame:
    return pd.DataFrame({"example_id": [f"e{i:03d}" for i in range(n)],
                         "task_type": task, "input": [f"q {i}" for i in range(n)],
                         "reference": None})


def test_unpriced_configuration_is_left_out_and_named(caplog) -> None:
    results, examples = synthetic(n=60)
    extra = [result_row(f"e{i:03d}", "qa", "mystery", 1.0, None) for i in range(60)]
    both = pd.concat([results, results_frame(extra)], ignore_index=True)
    with caplog.at_level(logging.WARNING, logger="mre_eval.optimize"):
        data = build_candidates(both, examples, {"qa": TaskSpec("qa", 0.8)}, 5)["qa"]
    assert [c.model for c in data.configs] == ["cheap", "strong"]
    assert "mystery / as-recorded (60 unpriced calls)" in caplog.text
    assert data.left_out == ["mystery / as-recorded (60 unpriced calls)"]


@pytest.mark.parametrize(("threshold_on", "expected"),
                         [("mean_score", 0.5), ("pass_rate", 0.5)],
                         ids=["mean-score", "pass-rate"])
def test_repeats_are_averaged_per_example(threshold_on: str, expected: float) -> None:
    rows = [result_row(f"e{i:03d}", "qa", "m", float(r == 0), 0.01, repeat=r)
            for i in range(60) for r in range(2)]
    spec = TaskSpec("qa", 0.5, threshold_on)
    data = build_candidates(results_frame(rows), _examples(60), {"qa": spec}, 5)["qa"]
    assert data.quality.shape == (60, 1)
    assert data.quality[:, 0] == pytest.approx([expected] * 60)
    assert data.cost[:, 0] == pytest.approx([0.01] * 60)


def test_pass_rate_reads_passed_and_mean_score_reads_score() -> None:
    rows = [dict(result_row(f"e{i:03d}", "qa", "m", 0.7, 0.01), passed=True)
            for i in range(60)]
    results = results_frame(rows)
    for on, value in (("pass_rate", 1.0), ("mean_score", 0.7)):
        data = build_candidates(results, _examples(60),
                                {"qa": TaskSpec("qa", 0.5, on)}, 5)["qa"]
        assert data.quality[0, 0] == pytest.approx(value)
    graded = build_candidates(results, _examples(60),
                              {"qa": TaskSpec("qa", 0.5, "mean_score")}, 5)["qa"]
    assert not graded.binary


def test_failed_call_counts_as_a_failure() -> None:
    rows = [result_row(f"e{i:03d}", "qa", "m", None if i == 0 else 1.0, 0.01)
            for i in range(60)]
    data = build_candidates(results_frame(rows), _examples(60),
                            {"qa": TaskSpec("qa", 0.5)}, 5)["qa"]
    assert data.quality[0, 0] == 0.0
    assert data.quality[1:, 0].min() == 1.0


def test_too_few_examples_says_how_many_are_needed() -> None:
    results, examples = synthetic(n=20)
    with pytest.raises(DataError, match=r"has 20 examples.*needs at least 50"):
        build_candidates(results, examples, {"qa": TaskSpec("qa", 0.8)}, 5)
    assert min_examples(3) == 30


def test_empty_results_are_refused() -> None:
    with pytest.raises(DataError, match="empty"):
        build_candidates(results_frame([]), _examples(1), {"qa": TaskSpec("qa", .8)}, 5)


@pytest.mark.parametrize("value", [1.5, -0.1, float("nan")], ids=["high", "low", "nan"])
def test_threshold_outside_unit_interval_is_refused(value: float) -> None:
    with pytest.raises(ConfigError, match=r"outside \[0, 1\]"):
        TaskSpec("qa", value)


@pytest.mark.parametrize(("items", "message"),
                         [(["qa"], "not TASK=VALUE"), (["qa=x"], "not TASK=VALUE"),
                          (["qa=2"], "outside")], ids=["no-eq", "not-number", "range"])
def test_parse_thresholds_refuses_bad_items(items: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_thresholds(items)


def test_overrides_replace_suite_thresholds_and_none_is_an_error() -> None:
    assert task_specs(None, {"qa": 0.7})["qa"].threshold == 0.7
    with pytest.raises(ConfigError, match="--threshold TASK=VALUE"):
        task_specs(None, {})
