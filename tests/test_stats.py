"""Confidence intervals."""

from __future__ import annotations

import numpy as np
import pytest

from mre_eval.stats import bootstrap_mean, is_binary, quality, wilson


@pytest.mark.parametrize(("k", "n", "low", "high"), [
    pytest.param(50, 100, 0.4038, 0.5962, id="half"),
    pytest.param(0, 10, 0.0, 0.2775, id="none"),
    pytest.param(10, 10, 0.7225, 1.0, id="all"),
])
def test_wilson_matches_reference_values(k: int, n: int, low: float,
                                         high: float) -> None:
    est = wilson(k, n)
    assert est.point == pytest.approx(k / n)
    assert est.low == pytest.approx(low, abs=1e-4)
    assert est.high == pytest.approx(high, abs=1e-4)
    assert est.n == n


def test_wilson_of_nothing_is_uninformative() -> None:
    est = wilson(0, 0)
    assert (est.low, est.high, est.n) == (0.0, 1.0, 0)


def test_bootstrap_is_deterministic_and_covers_the_mean() -> None:
    values = np.random.default_rng(3).uniform(size=200)
    a, b = bootstrap_mean(values), bootstrap_mean(values)
    assert a == b
    assert a.low < values.mean() < a.high
    # the interval is about +-1.96 standard errors wide
    se = values.std(ddof=1) / np.sqrt(len(values))
    assert a.high - a.low == pytest.approx(2 * 1.96 * se, rel=0.15)


def test_quality_picks_the_interval() -> None:
    binary = np.array([1, 0, 1, 1.0])
    assert is_binary(binary) and not is_binary(np.array([0.5, 1.0]))
    assert quality(binary, binary=True) == wilson(3, 4)
