"""The regression tests of mre_eval.gate.compare: calibrated, one-sided."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mre_eval.gate.compare import (compare_quality, cost_change,
                                   paired_bootstrap_p, two_proportion_p,
                                   unpaired_bootstrap_p)


def _passes(rate: float, n: int, rng: np.random.Generator) -> np.ndarray:
    return (rng.random(n) < rate).astype(float)


def test_two_proportion_false_alarms_stay_below_alpha_on_unchanged_quality():
    rng = np.random.default_rng(7)
    alarms = sum(
        two_proportion_p(_passes(0.85, 400, rng), _passes(0.85, 400, rng), 0.02)
        < 0.05 for _ in range(400))
    assert alarms / 400 <= 0.02


def test_two_proportion_is_calibrated_at_the_margin():
    rng = np.random.default_rng(8)
    alarms = sum(
        two_proportion_p(_passes(0.85, 400, rng), _passes(0.83, 400, rng), 0.02)
        < 0.05 for _ in range(400))
    assert 0.01 <= alarms / 400 <= 0.10


def test_two_proportion_detects_a_real_drop():
    rng = np.random.default_rng(9)
    assert two_proportion_p(_passes(0.85, 400, rng), _passes(0.70, 400, rng),
                            0.02) < 1e-4


@pytest.mark.parametrize(("base", "cur", "expected"), [
    ([1, 1, 1], [1, 1, 1], 1.0),
    ([1, 1, 1], [0, 0, 0], 0.0),
], ids=["all-pass-both", "all-pass-to-all-fail"])
def test_two_proportion_without_variance(base, cur, expected):
    assert two_proportion_p(np.array(base, float), np.array(cur, float)) == expected


def test_paired_bootstrap_sees_a_consistent_small_drop():
    rng = np.random.default_rng(1)
    base = rng.random(300)
    # every example drops by 0.05: a paired test is sure, whatever the spread
    assert paired_bootstrap_p(base, base - 0.05, margin=0.02) < 0.01


def test_paired_bootstrap_does_not_flag_noise():
    rng = np.random.default_rng(2)
    base = rng.random(300)
    noisy = np.clip(base + rng.normal(0, 0.1, 300), 0, 1)
    assert paired_bootstrap_p(base, noisy, margin=0.02) > 0.05


def test_unpaired_bootstrap_detects_a_drop():
    rng = np.random.default_rng(3)
    assert unpaired_bootstrap_p(rng.normal(0.8, 0.1, 200),
                                rng.normal(0.6, 0.1, 200), 0.02) < 0.01


def test_compare_pairs_on_shared_examples_only():
    base = pd.Series([1.0, 1.0, 0.0, 1.0], index=["a", "b", "c", "d"])
    cur = pd.Series([1.0, 0.0, 0.0, 1.0], index=["b", "c", "x", "y"])
    result = compare_quality(base, cur, "pass_rate")
    assert (result.paired, result.baseline, result.current) == (2, 0.5, 0.5)


def test_compare_graded_without_shared_examples_is_unpaired():
    base = pd.Series([0.9, 0.8, 0.7], index=["a", "b", "c"])
    cur = pd.Series([0.2, 0.3, 0.1], index=["x", "y", "z"])
    result = compare_quality(base, cur, "mean_score", margin=0.02)
    assert result.test == "bootstrap"
    assert result.drop == pytest.approx(0.6)
    assert result.p_value < 0.05


@pytest.mark.parametrize(("base", "cur", "expected"), [
    (0.001, 0.0012, 0.2), (None, 0.001, None), (0.0, 0.0, 0.0),
    (0.0, 0.001, math.inf),
], ids=["rise", "unknown", "free-stays-free", "free-to-paid"])
def test_cost_change(base, cur, expected):
    assert cost_change(base, cur) == (pytest.approx(expected)
                                      if expected is not None else None)


@pytest.mark.parametrize(("point", "mean", "expected"), [
    (0.80, 0.80, "high"), (0.80, 0.79, "high"), (0.80, 0.65, "low")],
    ids=["as-promised", "within-tolerance", "far-short"])
def test_promise_shortfall_p(point, mean, expected):
    from mre_eval.gate.compare import promise_shortfall_p

    current = np.r_[np.ones(int(mean * 400)), np.zeros(400 - int(mean * 400))]
    p = promise_shortfall_p(point, point - 0.04, point + 0.04, current, 0.02)
    assert (p > 0.3) if expected == "high" else (p < 0.01), p
