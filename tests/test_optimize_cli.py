"""The optimize and route commands, through typer's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from mre_eval.cli import app
from mre_eval.results import EXAMPLE_COLUMNS, write_results, write_table
from test_optimize_data import synthetic

runner = CliRunner()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    results, examples = synthetic(n=120)
    run = tmp_path_factory.mktemp("reports") / "synthetic-run"
    run.mkdir()
    write_results(results, run / "results.parquet")
    write_table(examples, run / "examples.parquet", EXAMPLE_COLUMNS)
    return run


@pytest.fixture(scope="module")
def emitted(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("out") / "routing.json"
    result = runner.invoke(app, ["optimize", str(run_dir), "--emit", str(path),
                                 "--threshold", "qa=0.9"])
    assert result.exit_code == 0, result.output
    return path


def test_optimize_shows_the_frontier_and_writes_the_file(emitted: Path,
                                                         run_dir: Path) -> None:
    result = runner.invoke(app, ["optimize", str(run_dir), "--threshold", "qa=0.9"])
    assert result.exit_code == 0, result.output
    assert "policy: learned" in result.output
    assert "cheap / as-recorded" in result.output
    assert "saves" in result.output
    assert json.loads(emitted.read_text())["task_types"]["qa"]["policy"] == "learned"


def test_optimize_json_prints_the_routing_document(run_dir: Path) -> None:
    result = runner.invoke(app, ["optimize", str(run_dir), "--json",
                                 "--threshold", "qa=0.9", "--folds", "3"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["method"]["folds"] == 3
    assert document["classifier"]["file"] is None


def test_strict_exits_1_on_an_unmet_threshold(run_dir: Path) -> None:
    result = runner.invoke(app, ["optimize", str(run_dir), "--strict", "--json",
                                 "--threshold", "qa=0.999"])
    assert result.exit_code == 1
    assert "threshold 1.00 unmet: best is strong / as-recorded" in result.stderr


@pytest.mark.parametrize(("args", "message"),
                         [(["--threshold", "qa=1.5"], "outside [0, 1]"),
                          (["--folds", "1"], "--folds 1 is not allowed"),
                          (["--featurizer", "bert"], "featurizer 'bert' is not known")],
                         ids=["threshold", "folds", "featurizer"])
def test_bad_options_exit_2(run_dir: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["optimize", str(run_dir), *args])
    assert result.exit_code == 2
    assert message in result.stderr


def test_no_runs_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["optimize", "--reports", str(tmp_path)])
    assert result.exit_code == 2
    assert "no runs under" in result.stderr


def test_results_of_another_schema_version_exit_2(run_dir: Path,
                                                  tmp_path: Path) -> None:
    table = pq.read_table(run_dir / "results.parquet")
    table = table.replace_schema_metadata({b"mre_eval.schema_version": b"99"})
    run = tmp_path / "old-run"
    run.mkdir()
    pq.write_table(table, run / "results.parquet")
    result = runner.invoke(app, ["optimize", str(run), "--threshold", "qa=0.9"])
    assert result.exit_code == 2
    assert "schema version 99" in result.stderr


def test_route_writes_one_decision_per_request(emitted: Path, tmp_path: Path) -> None:
    requests = tmp_path / "requests.jsonl"
    requests.write_text('{"id": "a", "text": "what is 3 plus two, quickly"}\n'
                        '{"id": "b", "text": "prove the theorem about primes '
                        'number 4 rigorously"}\n')
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["route", str(emitted), "--input", str(requests),
                                 "--task-type", "qa", "--output", str(out)])
    assert result.exit_code == 0, result.output
    decisions = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(d["id"], d["model"]) for d in decisions] == [("a", "cheap"),
                                                          ("b", "strong")]


def test_route_exports_litellm_tiers(emitted: Path) -> None:
    result = runner.invoke(app, ["route", str(emitted), "--format", "litellm"])
    assert result.exit_code == 0, result.output
    assert "model_name: qa/simple" in result.stdout
    assert "model_name: qa/complex" in result.stdout


@pytest.mark.parametrize(("args", "message"),
                         [(["--format", "csv"], "--format 'csv' is not known"),
                          ([], "--input is needed")], ids=["format", "no-input"])
def test_route_bad_options_exit_2(emitted: Path, args: list[str],
                                  message: str) -> None:
    result = runner.invoke(app, ["route", str(emitted), *args])
    assert result.exit_code == 2
    assert message in result.stderr


def test_unpriced_configuration_is_named_on_screen_and_in_the_file(
        tmp_path: Path) -> None:
    results, examples = synthetic(n=120)
    results.loc[results["model"] == "cheap", "cost_usd"] = None
    run = tmp_path / "unpriced-run"
    run.mkdir()
    write_results(results, run / "results.parquet")
    write_table(examples, run / "examples.parquet", EXAMPLE_COLUMNS)
    out = tmp_path / "routing.json"
    result = runner.invoke(app, ["optimize", str(run), "--threshold", "qa=0.9",
                                 "--emit", str(out)])
    assert result.exit_code == 0, result.output
    assert "left out, unpriced: cheap / as-recorded (120 unpriced calls)" in \
        " ".join(result.stdout.split())
    assert "nothing to route between, so the static policy ships" in \
        " ".join(result.stdout.split())
    entry = json.loads(out.read_text())["task_types"]["qa"]
    assert entry["left_out"] == ["cheap / as-recorded (120 unpriced calls)"]
    assert [c["model"] for c in entry["candidates"]] == ["strong"]


GRADED_SUITE = """\
name: graded
dataset: {path: data.jsonl, id: id, input: q, task_type_column: task}
recorded:
  path: outcomes.csv
  columns: {example_id: id, model: model, response: response, score: score,
            cost_usd: cost_usd}
task_types:
  - {name: sum, grader: recorded, threshold: 0.85, threshold_on: mean_score,
     pass_mark: 0.7}
models:
  - {name: cheap, model: gpt-4o-mini}
  - {name: strong, model: gpt-4o}
prompts:
  - {id: plain, template: "{q}"}
run: {repeats: 2}
"""


def test_graded_threshold_from_the_suite_with_repeats(tmp_path: Path) -> None:
    # hard requests score 0.4 on the cheap model, 0.9 on the strong one
    lines, rows = [], ["id,model,response,score,cost_usd"]
    for i in range(80):
        hard = i % 3 == 0
        text = f"prove the theorem {i} rigorously" if hard else f"what is {i} plus two"
        lines.append(json.dumps({"id": f"q{i}", "task": "sum", "q": text}))
        rows += [f"q{i},cheap,x,{0.4 if hard else 0.95},0.001",
                 f"q{i},strong,x,0.9,0.01"]
    (tmp_path / "data.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "outcomes.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "suite.yaml").write_text(GRADED_SUITE)
    reports = str(tmp_path / "reports")
    ran = runner.invoke(app, ["run", str(tmp_path / "suite.yaml"), "--reports",
                              reports, "--cache", str(tmp_path / "cache.db")])
    assert ran.exit_code == 0, ran.output

    result = runner.invoke(app, ["optimize", "--json", "--reports", reports])
    assert result.exit_code == 0, result.output
    entry = json.loads(result.stdout)["task_types"]["sum"]
    assert (entry["threshold"], entry["threshold_on"]) == (0.85, "mean_score")
    cheap = next(c for c in entry["candidates"] if c["model"] == "cheap")
    assert cheap["quality"]["n"] == 80            # two repeats, one per example
    assert cheap["quality"]["point"] == pytest.approx((27 * 0.4 + 53 * 0.95) / 80)
    assert entry["policy"] == "learned"
    assert entry["expected_quality"]["low"] >= 0.85
