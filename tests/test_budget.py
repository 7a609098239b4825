"""Budgets: monthly projections, over-budget task types, over-limit requests."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import mre_eval
from economics_helpers import SmallRouter, make_run, write_routing
from mre_eval.cli import app
from mre_eval.economics import service
from mre_eval.economics.budget import monthly
from mre_eval.errors import ConfigError, DataError


def lines_by(report):
    return {(x.task_type, x.config): x for x in report.lines}


def test_run_lines_project_each_configuration_at_declared_volume(
        tmp_path: Path) -> None:
    run = make_run(tmp_path)
    report = service.budget(str(run))

    lines = lines_by(report)
    small = lines[("billing", "small / plain")]
    assert small.cost_per_request == pytest.approx(0.015)
    assert small.monthly_usd == pytest.approx(90.0)  # 0.015 x 200 x 30
    assert small.over_budget is False
    assert lines[("billing", "big / plain")].monthly_usd == pytest.approx(240.0)
    assert [(x.task_type, x.config) for x in report.over_budget] == [
        ("billing", "big / plain"), ("faq", "big / plain")]


def test_declared_growth_says_when_a_line_goes_over(tmp_path: Path) -> None:
    lines = lines_by(service.budget(str(make_run(tmp_path))))

    # $90 a month growing 10% a month: $99 after one month, $108.90 after two
    assert lines[("billing", "small / plain")].months_to_over == 2
    assert lines[("billing", "big / plain")].months_to_over == 0
    assert lines[("faq", "small / plain")].months_to_over is None  # no growth


def test_requests_above_the_per_request_limit_are_listed_dearest_first(
        tmp_path: Path) -> None:
    report = service.budget(str(make_run(tmp_path)))

    small = lines_by(report)[("billing", "small / plain")]
    assert [(o.example_id, o.cost_usd) for o in small.over_limit] == [("b4", 0.03)]
    assert len(report.over_limit) == 5  # b4 on small, all four billing on big
    assert all(o.task_type == "billing" for o in report.over_limit)


def test_unpriced_calls_are_counted_and_left_out_of_the_mean(tmp_path: Path) -> None:
    import pandas as pd

    from mre_eval.results import read_results, write_results

    run = make_run(tmp_path)
    frame = read_results(run)
    frame.loc[frame["example_id"] == "f1", "cost_usd"] = pd.NA
    write_results(frame, run / "results.parquet")
    report = service.budget(str(run), task_types=["faq"])

    small = lines_by(report)[("faq", "small / plain")]
    assert small.unpriced == 1 and small.priced == 3
    assert small.cost_per_request == pytest.approx(0.01)


def test_routing_file_alone_uses_expected_cost(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    routing = write_routing(tmp_path / "routing.json", {"billing": 0.03, "faq": None})
    report = service.budget(routing=routing, suite=run / "suite.resolved.yaml")

    lines = lines_by(report)
    assert set(lines) == {("billing", "routed"), ("faq", "routed")}
    assert lines[("billing", "routed")].monthly_usd == pytest.approx(180.0)
    assert lines[("billing", "routed")].over_budget is True
    assert lines[("faq", "routed")].monthly_usd is None  # unpriced, not $0
    assert lines[("faq", "routed")].over_budget is None


def test_routing_with_a_run_checks_each_routed_request(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mre_eval, "Router", SmallRouter, raising=False)
    run = make_run(tmp_path)
    routing = write_routing(tmp_path / "routing.json", {"billing": 0.5, "faq": 0.5})
    report = service.budget(str(run), routing=routing)

    billing = lines_by(report)[("billing", "routed")]
    assert billing.cost_per_request == pytest.approx(0.015)
    assert [o.example_id for o in billing.over_limit] == ["b4"]


@pytest.mark.parametrize("kwargs,error,match", [
    ({"task_types": ["refunds"]}, ConfigError, "unknown task type 'refunds'"),
    ({"days_per_month": 0}, ConfigError, "days per month 0 is not allowed"),
], ids=["unknown-task-type", "zero-day-month"])
def test_bad_budget_options_are_refused(tmp_path: Path, kwargs: dict,
                                        error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        service.budget(str(make_run(tmp_path)), **kwargs)


def test_routing_with_an_unknown_task_type_is_refused(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    routing = write_routing(tmp_path / "routing.json", {"refunds": 0.01})
    with pytest.raises(ConfigError, match=r"unknown task types \['refunds'\]"):
        service.budget(routing=routing, suite=run / "suite.resolved.yaml")


def test_routing_alone_without_a_suite_is_refused(tmp_path: Path) -> None:
    routing = write_routing(tmp_path / "routing.json", {"faq": 0.01})
    with pytest.raises(ConfigError, match="give --suite SUITE, or a run"):
        service.budget(routing=routing)


def test_a_file_that_is_not_a_routing_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "routing.json"
    bad.write_text("[]")
    with pytest.raises(DataError, match="is not a routing file"):
        service.budget(routing=bad, suite=make_run(tmp_path) / "suite.resolved.yaml")


@pytest.mark.parametrize("cost,volume,expected", [
    (0.01, 100, 30.0), (None, 100, None), (0.01, None, None),
], ids=["known", "unpriced", "no-volume"])
def test_monthly_is_unknown_when_an_input_is(cost, volume, expected) -> None:
    assert monthly(cost, volume) == expected


def test_cli_budget_lists_over_budget_and_strict_exits_one(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["budget", str(run)])
    strict = runner.invoke(app, ["budget", str(run), "--strict"])

    assert result.exit_code == 0, result.output
    assert "OVER" in result.output and "b4" in result.output
    assert strict.exit_code == 1


def test_cli_budget_unknown_task_type_exits_two(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["budget", str(make_run(tmp_path)),
                                      "--task-type", "nope"])

    assert result.exit_code == 2
    assert "unknown task type 'nope'" in result.output


def test_cli_budget_record_appends_to_the_log(tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    result = CliRunner().invoke(app, ["budget", str(make_run(tmp_path)),
                                      "--record", "--log", str(log), "--json"])

    assert result.exit_code == 0, result.output
    assert '"kind": "budget"' in log.read_text()
