"""The gate with a routing.json made by the real optimizer and loaded by Router."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mre_eval.cli import app
from mre_eval.optimize.optimizer import optimize_run
from mre_eval.optimize.routing_file import write_routing
from test_gate_builders import Config, RunSpec, build_run, suite_dict

runner = CliRunner()
SUITE = suite_dict(threshold=0.8)


def _run(folder: Path, big: float, seed: int = 0) -> Path:
    spec = RunSpec({"qa": [Config("big", big, 0.001), Config("small", 0.75, 0.0001)]},
                   examples=300, seed=seed, suite=SUITE)
    return build_run(folder, spec)


@pytest.fixture(scope="module")
def optimized(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("optimized")
    run = _run(root / "run", big=0.9)
    routing = root / "routing.json"
    write_routing(optimize_run(run), routing)
    return run, routing


def _gate(*args: object) -> tuple[int, str]:
    result = runner.invoke(app, ["gate", *map(str, args), "--json"])
    return result.exit_code, result.output


def test_the_run_it_was_made_on_keeps_its_promise(optimized):
    run, routing = optimized
    code, output = _gate(run, "--routing", routing)
    promised = json.loads(routing.read_text())["task_types"]["qa"]
    quality = next(c for c in json.loads(output)["checks"]
                   if c["check"] == "routing quality promise")

    assert code == 0, output
    assert quality["numbers"]["point"] == pytest.approx(
        promised["expected_quality"]["point"])


def test_a_worse_strong_model_breaks_the_promise(optimized, tmp_path):
    _, routing = optimized
    worse = _run(tmp_path / "worse", big=0.72, seed=5)
    code, output = _gate(worse, "--routing", routing)
    failed = {c["check"] for c in json.loads(output)["checks"]
              if c["status"] == "fail"}
    assert code == 1
    assert "routing quality promise" in failed


def test_a_swapped_classifier_file_exits_2(optimized, tmp_path):
    run, routing = optimized
    data = json.loads(routing.read_text())
    copy = tmp_path / "routing.json"
    copy.write_text(json.dumps(data))
    classifier = routing.parent / data["classifier"]["file"]
    (tmp_path / data["classifier"]["file"]).write_bytes(
        classifier.read_bytes() + b"tampered")

    result = runner.invoke(app, ["gate", str(run), "--routing", str(copy)])
    assert result.exit_code == 2
    assert "sha256" in result.output
