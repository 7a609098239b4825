"""Forecasts: the customer-support scenario, growth, runs under a routing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import mre_eval
from economics_helpers import SmallRouter, make_run, write_routing
from mre_eval.cli import app
from mre_eval.economics import service
from mre_eval.economics.forecast import months_to_budget, project
from mre_eval.economics.scenario import load_scenario, parse_scenario
from mre_eval.errors import ConfigError, DataError

EXAMPLE = Path(__file__).parents[1] / "examples" / "scenario.yaml"

BASE = {"requests_per_day": 10000, "most_capable_price": 0.15,
        "tiers": [{"name": "all", "share": 1.0, "price": 0.01}]}


def test_customer_support_scenario_comes_out_right() -> None:
    result = project(load_scenario(EXAMPLE))

    now = result.projections[0]
    assert now.multiple == 1 and now.requests == 300_000  # 10,000 a day, 30 days
    assert now.baseline_usd == pytest.approx(45_000.0)
    assert now.cached_usd == pytest.approx(10_440.0)   # "about $10,400"
    assert now.routed_usd == pytest.approx(10_800.0)   # without the cache
    assert now.reduction == pytest.approx(0.768)       # "a 77% reduction"
    assert round(now.reduction, 2) == 0.77
    assert [p.multiple for p in result.projections] == [1, 10, 100]
    assert result.projections[2].cached_usd == pytest.approx(1_044_000.0)
    assert all("in step with traffic" in n for n in result.growth_notes())


def test_days_per_month_is_an_option() -> None:
    plan = parse_scenario(BASE | {"days_per_month": 31})

    assert project(plan).projections[0].routed_usd == pytest.approx(3100.0)


def test_volume_prices_make_cost_grow_faster_than_traffic() -> None:
    # an overflow to a dearer provider above 1M requests a month
    tier = {"name": "all", "share": 1.0, "price": 0.01, "volume_prices": [
        {"above_requests_per_month": 1_000_000, "price": 0.02}]}
    result = project(parse_scenario(BASE | {"tiers": [tier]}))

    ten = result.projections[1]
    assert ten.routed_usd == pytest.approx(1_000_000 * 0.01 + 2_000_000 * 0.02)
    assert "faster than traffic" in result.growth_notes()[0]
    assert "volume prices" in result.growth_notes()[0]


def test_fixed_cost_makes_cost_grow_slower_than_traffic() -> None:
    result = project(parse_scenario(BASE | {"fixed_monthly_usd": 1000}))

    assert result.projections[0].routed_usd == pytest.approx(4000.0)
    assert "slower than traffic" in result.growth_notes()[0]


def test_a_crossed_budget_is_named() -> None:
    result = project(parse_scenario(BASE | {"monthly_budget": 10_000}))

    assert any("over the 10,000 USD budget" in n for n in result.growth_notes())


def test_hit_rate_lowers_the_cached_price() -> None:
    tier = {"name": "all", "share": 1.0, "price": 0.01, "cache_hit_rate": 0.2}
    now = project(parse_scenario(BASE | {"tiers": [tier]})).projections[0]

    assert now.cached_usd == pytest.approx(2400.0)
    assert now.routed_usd == pytest.approx(3000.0)


def test_an_unpriced_tier_leaves_the_bill_unknown() -> None:
    tiers = [{"name": "a", "share": 0.5, "price": 0.01},
             {"name": "b", "share": 0.5, "price": None}]
    now = project(parse_scenario(BASE | {"tiers": tiers})).projections[0]

    assert now.routed_usd is None and now.reduction is None


@pytest.mark.parametrize("change,match", [
    ({"requests_per_day": -5}, r"requests_per_day: Input should be greater"),
    ({"tiers": [{"name": "a", "share": 0.5, "price": 0.01}]},
     "tier shares add up to 0.5, not 1"),
    ({"multiples": [1, -10]}, "must all be positive"),
    ({"tiers": [{"name": "a", "share": 1, "price": 0.01, "cached_price": 0.1,
                 "cache_hit_rate": 0.1}]}, "cached_price or cache_hit_rate"),
    ({"tier": []}, "tier: Extra inputs are not permitted"),
], ids=["negative-volume", "shares", "multiples", "two-cache-figures", "typo"])
def test_bad_scenarios_are_refused(change: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_scenario(BASE | change)


@pytest.mark.parametrize("now,budget,growth,months", [
    (67.5, 100, 0.1, 5), (120, 100, 0.1, 0), (50, 100, 0.0, None),
    (None, 100, 0.1, None),
], ids=["grows-into-it", "already-over", "no-growth", "unpriced"])
def test_months_to_budget(now, budget, growth, months) -> None:
    assert months_to_budget(now, budget, growth) == months


def test_run_under_routing_with_cache(tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mre_eval, "Router", SmallRouter, raising=False)
    run = make_run(tmp_path)
    routing = write_routing(tmp_path / "routing.json", {"billing": 1, "faq": 1})
    result = service.forecast(run=str(run), routing=routing, hit_rate=0.25)

    now = result.projections[0]
    # billing 200/day at $0.015, faq 1,000/day at $0.01; big costs $0.04
    assert now.routed_usd == pytest.approx(90 + 300)
    assert now.cached_usd == pytest.approx(0.75 * 390)
    assert now.baseline_usd == pytest.approx(0.04 * 1200 * 30)
    assert any("billing: over its 100.00 USD budget in 5 month" in a
               for a in result.findings)
    assert "faq: over its 1,000.00 USD budget from 10x traffic" in result.findings


def test_cache_sim_report_supplies_the_hit_rate(tmp_path: Path) -> None:
    report = tmp_path / "cache.json"
    report.write_text(json.dumps({"recommended": {"hit_rate": 0.5}}))
    run = make_run(tmp_path)
    routing = write_routing(tmp_path / "routing.json", {"billing": 0.02, "faq": 0.02})
    result = service.forecast(routing=routing, suite=run / "suite.resolved.yaml",
                              cache_sim_report=report)

    assert result.projections[0].cached_usd == pytest.approx(0.5 * 0.02 * 36_000)


@pytest.mark.parametrize("kwargs,error,match", [
    ({"hit_rate": 1.5}, ConfigError, r"cache hit rate 1.5 is outside \[0, 1\)"),
    ({"multiples": [0.0]}, ConfigError, r"growth multiples \[0.0\]"),
    ({"days_per_month": -5.0}, ConfigError,
     r"days_per_month: Input should be greater than 0 \(got -5.0\)"),
    ({"days_per_month": 0.0}, ConfigError, r"days_per_month"),
], ids=["hit-rate", "multiples", "negative-days", "zero-days"])
def test_bad_forecast_options_are_refused(kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        service.forecast(scenario=EXAMPLE, **kwargs)


def test_days_per_month_option_overrides_the_scenario() -> None:
    result = service.forecast(scenario=EXAMPLE, days_per_month=31.0)

    assert result.projections[0].cached_usd == pytest.approx(10_440.0 * 31 / 30)


def test_multiples_are_projected_smallest_first() -> None:
    result = project(parse_scenario(BASE | {"multiples": [100, 1, 10]}))

    assert [p.multiple for p in result.projections] == [1, 10, 100]
    assert result.growth_notes()[0].startswith("at 10x traffic")


def test_zero_days_per_month_on_a_run_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mre_eval, "Router", SmallRouter, raising=False)
    with pytest.raises(ConfigError, match="days_per_month"):
        service.forecast(run=str(make_run(tmp_path)), days_per_month=0.0,
                         routing=write_routing(tmp_path / "r.json",
                                               {"billing": 0.01, "faq": 0.01}))


def test_a_run_without_routing_and_many_configs_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no routing file says which one"):
        service.forecast(run=str(make_run(tmp_path)))


def test_cache_report_without_recommendation_is_refused(tmp_path: Path) -> None:
    report = tmp_path / "cache.json"
    report.write_text(json.dumps({"recommended": None}))
    with pytest.raises(DataError, match="recommends no threshold"):
        service.forecast(scenario=EXAMPLE, cache_sim_report=report)


def test_cli_forecast_scenario_json() -> None:
    result = CliRunner().invoke(app, ["forecast", "--scenario", str(EXAMPLE),
                                      "--json"])

    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout)["projections"][0]
    assert first["routed_cached_usd"] == pytest.approx(10_440.0)
    assert first["most_capable_usd"] == pytest.approx(45_000.0)


def test_cli_forecast_table_shows_the_three_multiples() -> None:
    result = CliRunner().invoke(app, ["forecast", "--scenario", str(EXAMPLE)])

    assert result.exit_code == 0, result.output
    assert "$10,440.00" in result.output and "76.8%" in result.output
    assert "100x" in result.output and "months are 30 days" in result.output


def test_cli_forecast_negative_volume_exits_two(tmp_path: Path) -> None:
    bad = tmp_path / "s.yaml"
    bad.write_text(EXAMPLE.read_text().replace("10000", "-10000"))
    result = CliRunner().invoke(app, ["forecast", "--scenario", str(bad)])

    assert result.exit_code == 2
    assert "requests_per_day" in result.output


def test_a_scenario_and_a_run_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="give a scenario file, or a run"):
        service.forecast(scenario=EXAMPLE, run=str(make_run(tmp_path)))
