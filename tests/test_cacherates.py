"""Each task type's cache hit rate in a forecast, and where it comes from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from economics_helpers import make_run, write_routing
from mre_eval.cli import app
from mre_eval.economics import service
from mre_eval.economics.cacherates import load_rates
from mre_eval.errors import ConfigError, DataError

EXAMPLE = Path(__file__).parents[1] / "examples" / "scenario.yaml"

# at threshold 1.0 only repeats hit: faq 3 of 4, billing 1 of 4, refunds 0 of 4
TRAFFIC = {
    "faq": [("what are your opening hours", "H")] * 4,
    "billing": [("refund my order", "R"), ("refund my order", "R"),
                ("update my card", "C"), ("cancel my plan", "P")],
    "refunds": [("refund 20 dollars", "R20"), ("refund 30 dollars", "R30"),
                ("refund 40 dollars", "R40"), ("refund 50 dollars", "R50")],
}


def cache_report(tmp_path: Path, task_types: list[str]) -> Path:
    """A real cache-sim --json report over the chosen task types' traffic."""
    data = tmp_path / "traffic.jsonl"
    rows = [{"id": f"{t}{i}", "task_type": t, "input": x, "answer_id": a,
             "cost_usd": 0.01}
            for t in task_types for i, (x, a) in enumerate(TRAFFIC[t])]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    _, report = service.cache_sim(service.CacheSimSource(dataset=data),
                                  thresholds=[1.0], tolerance=0.6)
    path = tmp_path / "cache.json"
    path.write_text(json.dumps(report, default=str))
    return path


def forecast(tmp_path: Path, **kwargs):
    """Billing 200 a day and faq 1,000 a day, both at $0.02 a request."""
    run = make_run(tmp_path)
    routing = write_routing(tmp_path / "routing.json", {"billing": 0.02, "faq": 0.02})
    return service.forecast(routing=routing, suite=run / "suite.resolved.yaml",
                            **kwargs)


def caching(result) -> dict[str, tuple[float | None, str]]:
    return {c.stream: (c.hit_rate, c.source) for c in result.caching}


def test_each_task_type_gets_its_own_measured_rate(tmp_path: Path) -> None:
    report = cache_report(tmp_path, ["faq", "billing"])
    result = forecast(tmp_path, cache_sim_report=report)

    now = result.projections[0]
    # billing: 6,000 x $0.02 x (1 - 1/4) = 90; faq: 30,000 x $0.02 x (1 - 3/4) = 150
    assert now.routed_usd == pytest.approx(120 + 600)
    assert now.cached_usd == pytest.approx(90 + 150)
    # one overall rate (4 of 8) would have said 360
    assert json.loads(report.read_text())["recommended"]["hit_rate"] == 0.5
    assert caching(result) == {"billing": (0.25, "cache-sim task type"),
                               "faq": (0.75, "cache-sim task type")}
    detail = {c.stream: c.detail for c in result.caching}
    assert "1 of 4 billing requests hit, 0 of them false" in detail["billing"]
    assert "above the 60.0% tolerance for this task type" in detail["billing"]


def test_a_task_type_the_report_lacks_gets_the_overall_rate_named(
        tmp_path: Path) -> None:
    report = cache_report(tmp_path, ["faq", "refunds"])
    result = forecast(tmp_path, cache_sim_report=report)

    # overall 3 of 8; billing borrows it, faq keeps its own 3 of 4
    assert caching(result) == {"billing": (0.375, "cache-sim overall"),
                               "faq": (0.75, "cache-sim task type")}
    assert result.projections[0].cached_usd == pytest.approx(
        120 * 0.625 + 600 * 0.25)
    billing = next(c for c in result.caching if c.stream == "billing")
    assert "holds no billing traffic" in billing.detail
    assert "overall rate over 8 requests at threshold 1.00" in billing.detail
    assert any("figures for refunds are unused" in a for a in result.assumptions)


def test_the_override_applies_to_every_task_type(tmp_path: Path) -> None:
    result = forecast(tmp_path, hit_rate=0.1)

    assert caching(result) == {"billing": (0.1, "--cache-hit-rate"),
                               "faq": (0.1, "--cache-hit-rate")}
    assert result.projections[0].cached_usd == pytest.approx(0.9 * 720)


def test_no_cache_figures_are_named_not_silent(tmp_path: Path) -> None:
    result = forecast(tmp_path)

    assert caching(result) == {"billing": (None, "none"), "faq": (None, "none")}
    assert result.projections[0].cached_usd == result.projections[0].routed_usd
    assert all("caching is not counted" in c.detail for c in result.caching)


def test_an_older_report_without_per_type_figures_says_so(tmp_path: Path) -> None:
    report = tmp_path / "old.json"
    report.write_text(json.dumps({"requests": 50, "recommended": {
        "threshold": 0.8, "hit_rate": 0.2}}))
    result = forecast(tmp_path, cache_sim_report=report)

    assert caching(result) == {"billing": (0.2, "cache-sim overall"),
                               "faq": (0.2, "cache-sim overall")}
    assert all("has no per-task-type figures" in c.detail for c in result.caching)


def test_scenario_streams_say_which_figure_they_use() -> None:
    result = service.forecast(scenario=EXAMPLE)

    assert result.projections[0].cached_usd == pytest.approx(10_440.0)
    assert caching(result) == {"simple": (None, "scenario"),
                               "moderate": (None, "none"),
                               "complex": (None, "none")}


@pytest.mark.parametrize("kwargs", [
    {"hit_rate": 0.2}, {"cache_sim_report": "REPORT"},
], ids=["hit-rate", "cache-sim"])
def test_cache_options_with_a_scenario_are_refused(tmp_path: Path,
                                                   kwargs: dict) -> None:
    if "cache_sim_report" in kwargs:
        kwargs = {"cache_sim_report": cache_report(tmp_path, ["faq"])}
    with pytest.raises(ConfigError, match="not to a scenario: set cache_hit_rate"):
        service.forecast(scenario=EXAMPLE, **kwargs)


@pytest.mark.parametrize("recommended,error,match", [
    ({"hit_rate": 1.0}, DataError, r"recommended.hit_rate 1.0 is outside \[0, 1\)"),
    ({"hit_rate": 0.2, "by_task_type": {"faq": {"hit_rate": 0.5}}}, DataError,
     r"by_task_type.faq: needs requests, hits"),
    ({"hit_rate": 0.2, "by_task_type": {"faq": {
        "requests": 4, "hits": 3, "hit_rate": -0.5, "false_hits": 0,
        "false_hit_rate_high": 0.5}}}, DataError, r"faq.hit_rate -0.5 is outside"),
    ({"hit_rate": 0.2, "by_task_type": []}, DataError, "not an object"),
    ({"hit_rate": 0.2, "threshold": "high"}, DataError, "'high' is not a number"),
    ({"threshold": 0.8}, DataError, "has no hit_rate"),
], ids=["overall-rate", "row-fields", "row-rate", "not-object", "threshold",
        "no-rate"])
def test_bad_cache_reports_are_refused(tmp_path: Path, recommended: dict,
                                       error: type, match: str) -> None:
    report = tmp_path / "cache.json"
    report.write_text(json.dumps({"recommended": recommended}))
    with pytest.raises(error, match=match):
        load_rates(None, report)


def test_a_rate_and_a_report_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--cache-hit-rate or --cache-sim"):
        load_rates(0.2, tmp_path / "cache.json")


def test_cli_forecast_shows_each_streams_rate_and_source(tmp_path: Path) -> None:
    report = cache_report(tmp_path, ["faq", "refunds"])
    run = make_run(tmp_path)
    routing = write_routing(tmp_path / "routing.json", {"billing": 0.02, "faq": 0.02})
    args = ["forecast", "--routing", str(routing), "--suite",
            str(run / "suite.resolved.yaml"), "--cache-sim", str(report)]
    shown = CliRunner().invoke(app, args)
    result = CliRunner().invoke(app, [*args, "--json"])

    assert shown.exit_code == 0, shown.output
    assert "cache billing: hit rate 37.5% [cache-sim overall]" in shown.output
    assert "cache faq: hit rate 75.0% [cache-sim task type]" in shown.output
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {c["stream"]: c["source"] for c in data["caching"]} == {
        "billing": "cache-sim overall", "faq": "cache-sim task type"}
    assert data["projections"][0]["routed_cached_usd"] == pytest.approx(225.0)


def test_cli_forecast_scenario_with_a_hit_rate_exits_two() -> None:
    result = CliRunner().invoke(app, ["forecast", "--scenario", str(EXAMPLE),
                                      "--cache-hit-rate", "0.2"])

    assert result.exit_code == 2
    assert "not to a scenario" in result.output
