"""`mre-eval costs` and `mre-eval logs compact|sample` through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mre_eval.cli import app
from mre_eval.observe.sample import allocate
from tests.test_observe_costs import known_calls

runner = CliRunner()


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "calls.jsonl"
    lines = [json.dumps({**c, "request_text": f"{c['feature']} request {i}"})
             for i, c in enumerate(known_calls())]
    path.write_text("\n".join(lines[:3] + ["{broken"] + lines[3:]) + "\n")
    return path


def test_costs_table_answers_why(log: Path) -> None:
    result = runner.invoke(app, ["costs", str(log), "--explain", "summarize", "chat",
                                 "--threads", "1"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "summarize costs $0.12 a request and chat $0.03 (4.00x)" in result.output
    assert "gpt-4o 100%" in result.output
    assert "1 malformed lines were left out" in result.output
    assert "calls.jsonl:4: not JSON" in result.output


def test_costs_json_and_csv(log: Path, tmp_path: Path) -> None:
    out = tmp_path / "costs.csv"
    result = runner.invoke(app, ["costs", str(log), "--json", "--by", "week",
                                 "--csv", str(out), "--threads", "1"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["totals"]["cost_usd"] == pytest.approx(0.60)
    assert data["problems"]["malformed_lines"] == 1
    assert len(data["periods"]) == 2
    assert out.read_text().startswith("section,")


@pytest.mark.parametrize("args, match", [
    (["--by", "year"], "unknown period 'year'"),
    (["--map", "tokens=prompt_tokens"], "unknown field 'tokens'"),
], ids=["bad-period", "bad-mapping"])
def test_bad_options_exit_2(log: Path, args: list[str], match: str) -> None:
    result = runner.invoke(app, ["costs", str(log), *args])
    assert result.exit_code == 2
    assert match in result.output


def test_compact_then_costs_on_parquet(log: Path, tmp_path: Path) -> None:
    out = tmp_path / "parquet"
    result = runner.invoke(app, ["logs", "compact", str(log), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote 9 calls over 2 days" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["day=2026-11-03", "day=2026-11-10"]

    again = runner.invoke(app, ["logs", "compact", str(log), "--out", str(out)])
    assert again.exit_code == 2 and "--append" in again.output

    result = runner.invoke(app, ["costs", str(out), "--json", "--threads", "1"])
    assert json.loads(result.stdout)["totals"]["cost_usd"] == pytest.approx(0.60)


def test_sample_writes_a_loadable_dataset(log: Path, tmp_path: Path) -> None:
    from mre_eval.datasets import load_examples

    out = tmp_path / "sample.jsonl"
    result = runner.invoke(app, ["logs", "sample", str(log), "--out", str(out),
                                 "--n", "4", "--seed", "1"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 4
    assert {r["task_type"] for r in rows} == {"chat", "summarize", "extract"}
    examples = load_examples(out, fmt=None, id_column="id", input_column="input",
                             messages_column=None, reference_column=None,
                             task_type_column="task_type", task_type=None)
    assert len(examples) == 4 and examples[0].text


@pytest.mark.parametrize("sizes, n, expected", [
    ({"a": 90, "b": 10}, 10, {"a": 9, "b": 1}),
    ({"a": 100, "b": 1}, 10, {"a": 9, "b": 1}),
    ({"a": 2, "b": 1}, 10, {"a": 2, "b": 1}),
], ids=["proportional", "minimum-one", "capped-by-size"])
def test_allocate(sizes: dict, n: int, expected: dict) -> None:
    assert allocate(sizes, n) == expected


def test_empty_log_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "calls.jsonl"
    empty.write_text("")
    result = runner.invoke(app, ["costs", str(empty), "--threads", "1"])
    assert result.exit_code == 0
    assert "no calls in these logs" in result.output


def _foreign_parquet(path: Path) -> Path:
    import duckdb

    duckdb.sql(f"COPY (SELECT 1 AS x) TO '{path}' (FORMAT parquet)")
    return path


def _junk(path: Path) -> Path:
    path.write_text("not parquet")
    return path


@pytest.mark.parametrize("make, match", [
    (lambda d: d, "folder without parquet files"),
    (lambda d: _foreign_parquet(d / "other.parquet"),
     "parquet without the ts, model column"),
    (lambda d: _junk(d / "junk.parquet"), "not readable as parquet"),
], ids=["empty-folder", "foreign-parquet", "not-parquet"])
def test_unusable_parquet_exits_2(tmp_path: Path, make, match: str) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    result = runner.invoke(app, ["costs", str(make(folder)), "--threads", "1"])
    assert result.exit_code == 2, result.output
    assert match in result.output


def test_parquet_without_optional_columns_is_read(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "mine.parquet"
    duckdb.sql(f"COPY (SELECT TIMESTAMP '2026-11-02 10:00:00' AS ts, "
               f"'gpt-4o-mini' AS model, 1000000 AS input_tokens, "
               f"0 AS output_tokens) TO '{path}' (FORMAT parquet)")
    result = runner.invoke(app, ["costs", str(path), "--json", "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["cost_usd"] == pytest.approx(0.15)


def test_a_memory_limit_that_is_not_a_size(log: Path) -> None:
    result = runner.invoke(app, ["costs", str(log), "--memory-limit", "lots"])
    assert result.exit_code == 2
    assert "--memory-limit 'lots' is not a size" in result.output


def test_a_suite_on_the_sampled_dataset_validates(log: Path, tmp_path: Path) -> None:
    out = tmp_path / "traffic.jsonl"
    sampled = runner.invoke(app, ["logs", "sample", str(log), "--out", str(out),
                                  "--n", "6", "--seed", "0"])
    assert sampled.exit_code == 0, sampled.output
    features = sorted({json.loads(x)["task_type"]
                       for x in out.read_text().splitlines()})
    task_types = "".join(
        f"  - name: {f}\n    description: logged {f} traffic\n"
        "    grader: {kind: regex, options: {pattern: '\\w'}}\n"
        "    threshold: 0.5\n" for f in features)
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "name: traffic\ndescription: sampled production traffic\n"
        "dataset: {path: traffic.jsonl, id: id, input: input, "
        "task_type_column: task_type}\n"
        f"task_types:\n{task_types}"
        "models:\n  - {name: mini, model: openai/gpt-4o-mini}\n"
        "prompts:\n  - {id: plain, template: '{input}'}\n")
    result = runner.invoke(app, ["validate", str(suite)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output and "6 calls per run" in result.output
