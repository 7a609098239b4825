"""`mre-eval gate` end to end: exit codes, JUnit, markdown, JSON, bad input."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mre_eval.cli import app
from mre_eval.console import usd
from test_gate_builders import Config, RunSpec, build_run, standard, suite_dict

BUDGET = {"per_request_usd": 0.002, "monthly_usd": 100, "requests_per_day": 1000}
SUITE = suite_dict(budget=BUDGET)

runner = CliRunner()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    built = {
        "baseline": standard(seed=0, suite=SUITE),
        "same": standard(seed=0, suite=SUITE),
        "noise1": standard(seed=11, suite=SUITE),
        "noise2": standard(seed=12, suite=SUITE),
        "noise3": standard(seed=13, suite=SUITE),
        "degraded": standard(quality=0.72, seed=14, suite=SUITE),
        "graded_drop": RunSpec({"qa": [Config("big", 0.85, 0.001)],
                                "summary": [Config("big", 0.6, 0.001)]},
                               seed=15, suite=SUITE),
        "pricier": standard(cost=0.0019, seed=0, suite=SUITE),
        "over_budget": standard(cost=0.003, seed=0, suite=SUITE),
        "other_suite": standard(seed=0, suite=suite_dict(name="other")),
        "two_models": RunSpec({"qa": [Config("big", 0.85, 0.001),
                                      Config("small", 0.5, 0.0001)]},
                              suite=SUITE),
        "unpriced": RunSpec({"qa": [Config("big", 0.9, None)]}, suite=SUITE),
        "flaky": RunSpec({"qa": [Config("big", 0.9, 0.001, errors=40)]},
                         suite=SUITE),
    }
    return {name: build_run(root / name, spec) for name, spec in built.items()}


def _gate(*args: object) -> tuple[int, str]:
    result = runner.invoke(app, ["gate", *map(str, args)])
    return result.exit_code, result.output


def test_a_degraded_run_fails_and_its_junit_names_the_task_type(runs, tmp_path):
    junit = tmp_path / "gate.xml"
    code, output = _gate(runs["degraded"], "--baseline", runs["baseline"],
                         "--junit", junit)

    assert code == 1, output
    root = ET.parse(junit).getroot()
    failures = [case for case in root.iter("testcase")
                if case.find("failure") is not None]
    assert {case.get("classname") for case in failures} == {"qa"}
    by_name = {case.get("name"): case for case in failures}
    regression = by_name["big:plain: quality vs baseline"].find("failure")
    assert regression.get("message").startswith("qa / big:plain / quality vs")
    assert "p=0.0" in regression.text
    assert root.get("failures") == str(len(failures))


def test_a_graded_score_drop_fails_on_the_paired_bootstrap(runs):
    # summary's mean score falls from 0.7 to 0.6: still over its threshold
    # (0.5), so only the comparison with the baseline can catch it
    code, output = _gate(runs["graded_drop"], "--baseline", runs["baseline"],
                         "--json")
    failed = [c for c in json.loads(output)["checks"] if c["status"] == "fail"]

    assert code == 1, output
    assert [(c["task_type"], c["check"]) for c in failed] == [
        ("summary", "quality vs baseline")]
    numbers = failed[0]["numbers"]
    assert numbers["test"] == "paired bootstrap"
    assert numbers["drop"] == pytest.approx(0.1, abs=0.05)
    assert f"p={numbers['p_value']:.4f}" in failed[0]["measured"]


def test_an_equal_run_passes(runs):
    code, output = _gate(runs["same"], "--baseline", runs["baseline"])
    assert code == 0, output
    assert "gate passed" in output


@pytest.mark.parametrize("name", ["noise1", "noise2", "noise3"])
def test_resampling_noise_alone_does_not_trip_the_gate(runs, name):
    code, output = _gate(runs[name], "--baseline", runs["baseline"])
    assert code == 0, output


def test_cost_up_more_than_allowed_fails(runs):
    code, output = _gate(runs["pricier"], "--baseline", runs["baseline"], "--json")
    data = json.loads(output)

    assert code == 1
    failed = [c for c in data["checks"] if c["status"] == "fail"]
    assert {c["check"] for c in failed} == {"cost vs baseline"}
    assert failed[0]["numbers"]["change"] == pytest.approx(0.9)


def test_cost_over_the_budget_fails_per_request_and_monthly(runs):
    code, output = _gate(runs["over_budget"], "--json")
    data = json.loads(output)
    failed = {(c["task_type"], c["check"]) for c in data["checks"]
              if c["status"] == "fail"}
    assert code == 1
    assert failed == {("qa", "cost per request")}
    monthly = next(c for c in data["checks"] if c["check"] == "monthly cost")
    assert monthly["numbers"]["usd"] == pytest.approx(0.003 * 1000 * 365.25 / 12)


def test_unpriced_calls_cannot_pass_a_budget(runs):
    code, output = _gate(runs["unpriced"], "--json")
    failed = {c["check"]: c for c in json.loads(output)["checks"]
              if c["status"] == "fail"}
    assert code == 1
    assert "unpriced" in failed["cost per request"]["measured"]


def test_a_cost_that_became_unknown_fails_against_the_baseline(runs):
    code, output = _gate(runs["unpriced"], "--baseline", runs["two_models"],
                         "--config", "big", "--json")
    check = next(c for c in json.loads(output)["checks"]
                 if c["check"] == "cost vs baseline")
    assert (code, check["status"]) == (1, "fail")
    assert check["measured"] == (f"{usd(0.001)} -> unpriced: some calls now "
                                 "have no price")


def test_too_many_failed_calls_fail(runs):
    code, output = _gate(runs["flaky"], "--json")
    failed = [c["check"] for c in json.loads(output)["checks"]
              if c["status"] == "fail"]
    assert (code, failed) == (1, ["failed calls"])


def test_every_configuration_is_judged_unless_one_is_named(runs):
    code_all, out_all = _gate(runs["two_models"])
    code_one, out_one = _gate(runs["two_models"], "--config", "qa=big")

    assert code_all == 1 and "small:plain" in out_all
    assert "every configuration in the run" in out_all
    assert code_one == 0, out_one
    assert "--config qa=big" in out_one and "small:plain" not in out_one


def test_a_run_stopped_early_fails(runs, tmp_path):
    import shutil

    stopped = tmp_path / "stopped"
    shutil.copytree(runs["same"], stopped)
    meta = json.loads((stopped / "run.json").read_text())
    meta.update(status="stopped_by_spend_cap", not_launched=120)
    (stopped / "run.json").write_text(json.dumps(meta))

    code, output = _gate(stopped, "--json")
    failed = [c for c in json.loads(output)["checks"] if c["status"] == "fail"]
    assert code == 1
    assert [(c["check"], c["measured"]) for c in failed] == [
        ("run complete", "status stopped_by_spend_cap, 120 calls not launched")]


def test_summary_markdown_is_written_and_appended_to_the_step_summary(
        runs, tmp_path, monkeypatch):
    step = tmp_path / "step.md"
    step.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    summary = tmp_path / "gate.md"

    code, _ = _gate(runs["degraded"], "--baseline", runs["baseline"],
                    "--summary-md", summary)

    text = summary.read_text()
    assert code == 1
    assert text.startswith("## mre-eval gate: FAILED")
    assert "| ❌ FAIL | qa |" in text
    assert step.read_text() == "earlier step\n" + text + "\n"


def test_a_committed_results_file_serves_as_baseline(runs):
    code, output = _gate(runs["same"], "--baseline",
                         runs["baseline"] / "results.parquet")
    assert code == 0, output


@pytest.mark.parametrize(("args", "message"), [
    (["{tmp}/nowhere"], "no run"),
    (["same", "--baseline", "other_suite"], "from suite 'other'"),
    (["two_models", "--baseline", "same"], "not in this run"),
    (["same", "--config", "huge"], "no model 'huge'"),
    (["same", "--alpha", "2"], "--alpha 2.0 is out of range"),
    (["same", "--routing", "{tmp}/routing.json"], "no routing file"),
], ids=["missing-run", "another-suite", "task-types-differ", "unknown-config",
        "bad-alpha", "missing-routing"])
def test_bad_input_exits_2_with_a_clear_error(runs, tmp_path, args, message):
    resolved = [str(runs[a]) if a in runs else a.format(tmp=tmp_path)
                for a in args]
    result = runner.invoke(app, ["gate", *resolved])
    assert result.exit_code == 2
    assert message in result.output


def test_a_task_type_new_since_the_baseline_is_noted(runs):
    code, output = _gate(runs["same"], "--baseline", runs["two_models"],
                         "--config", "big")
    assert code == 0, output
    assert "task type 'summary' is new since the baseline" in output
