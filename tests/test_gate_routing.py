"""The gate replays a routing.json and checks the promise it made.

A stand-in Router (same contract as mre_eval.Router: ``load``, ``route``)
sends requests with "long" in their text to ``big`` and the rest to
``small``, so these tests check the replay and the promise, not a classifier.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import mre_eval
from mre_eval.cli import app
from mre_eval.console import usd
from test_gate_builders import Config, RunSpec, build_run, suite_dict

runner = CliRunner()


@dataclass(frozen=True)
class Decision:
    model: str
    prompt_variant: str
    tier: str = "t"
    predicted_quality: float | None = None


class LengthRouter:
    """Routes long requests to ``big`` and short ones to ``small``."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @classmethod
    def load(cls, path: Path) -> LengthRouter:
        return cls(json.loads(Path(path).read_text()))

    def route(self, task_type: str, text: str) -> Decision:
        strong = self.data["task_types"][task_type].get("strong", "big")
        return Decision(strong if "long" in text else "small", "plain")


@pytest.fixture(autouse=True)
def _router(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mre_eval, "Router", LengthRouter, raising=False)


def routing_file(folder: Path, suite: str = "demo", threshold: float = 0.75,
                 expected_cost: float | None = 0.00087, strong: str = "big",
                 task: str = "qa", promised: float = 0.84) -> Path:
    data = {
        "schema_version": 1,
        "suite": {"name": suite, "sha256": "0" * 64},
        "task_types": {task: {
            "threshold": threshold, "threshold_on": "pass_rate",
            "policy": "learned", "strong": strong,
            "routes": [{"tier": "t", "model": "big", "prompt_variant": "plain",
                        "share": 0.86}],
            "expected_quality": {"point": promised, "low": promised - 0.04,
                                 "high": promised + 0.03, "n": 400},
            "expected_cost_per_request": expected_cost,
        }},
    }
    path = folder / "routing.json"
    path.write_text(json.dumps(data))
    return path


def two_model_run(folder: Path, big_quality: float = 0.88, seed: int = 0) -> Path:
    spec = RunSpec({"qa": [Config("big", big_quality, 0.001),
                           Config("small", 0.8, 0.0001)]},
                   seed=seed, suite=suite_dict())
    return build_run(folder, spec)


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return two_model_run(tmp_path_factory.mktemp("good") / "run")


def _gate(*args: object) -> tuple[int, str]:
    result = runner.invoke(app, ["gate", *map(str, args)])
    return result.exit_code, result.output


def _checks(output: str) -> dict[str, dict[str, Any]]:
    return {c["check"]: c for c in json.loads(output)["checks"]}


def test_a_kept_promise_passes_and_judges_only_the_routed_policy(good, tmp_path):
    code, output = _gate(good, "--routing", routing_file(tmp_path), "--json")
    data = json.loads(output)
    assert code == 0, output
    assert data["chosen_by"]["qa"] == "routing policy routing.json"
    assert {c["subject"] for c in data["checks"]
            if c["task_type"] == "qa"} == {"routing.json"}
    cost = _checks(output)["routing cost promise"]["numbers"]["per_request_usd"]
    # 342 of 400 examples are long (routed to big at $0.001), 58 short ($0.0001)
    assert cost == pytest.approx((342 * 0.001 + 58 * 0.0001) / 400)


def test_a_broken_quality_promise_fails(tmp_path):
    run = two_model_run(tmp_path / "run", big_quality=0.6)
    code, output = _gate(run, "--routing", routing_file(tmp_path), "--json")
    checks = _checks(output)
    assert code == 1
    assert checks["routing quality promise"]["status"] == "fail"
    assert checks["routing cost promise"]["status"] == "pass"


@pytest.mark.parametrize(("promised", "status"), [
    (0.84, "pass"), (0.86, "pass"), (0.97, "fail")],
    ids=["as-promised", "short-within-noise", "far-short"])
def test_a_policy_far_below_its_promised_quality_fails(good, tmp_path,
                                                       promised, status):
    # the threshold (0.75) is met in every case; only the promise differs
    path = routing_file(tmp_path, promised=promised)
    code, output = _gate(good, "--routing", path, "--json")
    check = _checks(output)["routing quality promise"]
    assert check["status"] == status, check["measured"]
    assert code == (1 if status == "fail" else 0)
    assert f"p={check['numbers']['p_value']:.4f}" in check["measured"]
    assert check["numbers"]["shortfall"] == pytest.approx(
        promised - check["numbers"]["point"])


def test_a_broken_cost_promise_fails(good, tmp_path):
    path = routing_file(tmp_path, expected_cost=0.0005)
    code, output = _gate(good, "--routing", path, "--json")
    check = _checks(output)["routing cost promise"]
    assert (code, check["status"]) == (1, "fail")
    assert f"promised {usd(0.0005)}" in check["limit"]


def test_an_unpriced_promise_skips_the_cost_promise(good, tmp_path):
    code, output = _gate(good, "--routing", routing_file(tmp_path,
                                                         expected_cost=None),
                         "--json")
    assert code == 0
    assert _checks(output)["routing cost promise"]["status"] == "skip"


def test_the_routed_policy_is_compared_with_the_baseline(good, tmp_path):
    worse = two_model_run(tmp_path / "worse", big_quality=0.7, seed=3)
    code, output = _gate(worse, "--baseline", good, "--routing",
                         routing_file(tmp_path, threshold=0.5), "--json")
    check = _checks(output)["quality vs baseline"]
    assert (code, check["status"]) == (1, "fail")
    assert check["numbers"]["paired"] == 400


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"suite": "billing"}, "made for suite 'billing'"),
    ({"strong": "giant"}, "configurations this run did not evaluate"),
    ({"task": "translate"}, "routes task types ['translate']"),
], ids=["another-suite", "unknown-model", "unknown-task-type"])
def test_a_routing_file_for_something_else_exits_2(good, tmp_path, kwargs,
                                                    message):
    code, output = _gate(good, "--routing", routing_file(tmp_path, **kwargs))
    assert code == 2
    assert message in output


def test_config_and_routing_for_the_same_task_type_exit_2(good, tmp_path):
    code, output = _gate(good, "--routing", routing_file(tmp_path), "--config",
                         "qa=big")
    assert code == 2
    assert "named by --config and routed by routing.json" in output


def test_the_replay_covers_only_examples_the_run_measured(tmp_path):
    from mre_eval.results import read_results, write_results

    run = two_model_run(tmp_path / "run")
    results = read_results(run)
    kept = results["example_id"].isin([f"qa-{i}" for i in range(100)])
    write_results(results[kept].reset_index(drop=True), run / "results.parquet")
    _, output = _gate(run, "--routing", routing_file(tmp_path), "--json")
    assert _checks(output)["quality"]["numbers"]["n"] == 100


def test_a_malformed_routing_file_exits_2_with_its_line(good, tmp_path):
    path = tmp_path / "routing.json"
    path.write_text('{"suite": {"name": "demo"},\n "task_types": [}')
    code, output = _gate(good, "--routing", path)
    assert code == 2
    assert "routing.json:2:" in output
