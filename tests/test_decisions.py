"""The decision log: append-only records, markdown, routing and cache decisions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from economics_helpers import make_run, write_routing
from mre_eval.cli import app
from mre_eval.economics.decisions import (append_decision, read_decisions,
                                          render_markdown, routing_decision)
from mre_eval.errors import ConfigError, DataError

SUPPORT = Path(__file__).parents[1] / "datasets" / "support_cache" / "requests.jsonl"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_records_are_appended_never_rewritten(tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    first = append_decision(log, "budget", {"over": []}, {"x": 1}, {"run_id": "r"},
                            now=NOW)
    before = log.read_text()
    append_decision(log, "forecast", {"monthly_usd": 10.0}, {}, {}, now=NOW)

    assert log.read_text().startswith(before)
    records = read_decisions(log)
    assert [r["kind"] for r in records] == ["budget", "forecast"]
    assert records[0] == first
    assert first["timestamp"] == "2026-12-01T12:00:00+00:00"
    assert len(first["id"]) == 12


def test_markdown_shows_each_decision_with_its_numbers(tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    append_decision(log, "cache_threshold", {"threshold": 0.8},
                    {"hits": 333}, {"dataset_sha256": "abc"}, now=NOW)
    page = render_markdown(read_decisions(log))

    assert "## 2026-12-01T12:00:00+00:00 cache_threshold" in page
    assert "- threshold: 0.8" in page and "- hits: 333" in page
    assert render_markdown([]).endswith("No decisions recorded yet.\n")


def test_markdown_turns_lists_of_records_into_tables(tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    sweep = [{"cache": "0.80", "hits": 333, "saved_usd": 0.997281},
             {"cache": "0.90", "hits": 197, "saved_usd": 0.589307}]
    append_decision(log, "forecast", {"monthly_usd": 1_044_000.0},
                    {"sweep": sweep, "notes": ["a", "b"]}, {}, now=NOW)
    page = render_markdown(read_decisions(log))

    assert "| cache | hits | saved_usd |" in page
    assert "| 0.80 | 333 | 0.997281 |" in page
    assert "- monthly_usd: 1,044,000" in page and "- notes: a; b" in page


def test_routing_decision_renders_one_row_per_task_type(tmp_path: Path) -> None:
    routing = write_routing(tmp_path / "routing.json", {"faq": 0.02, "billing": 0.01})
    log = tmp_path / "d.jsonl"
    append_decision(log, "routing", *routing_decision(routing), now=NOW)
    page = render_markdown(read_decisions(log))

    assert "| faq | static |" in page and "| billing | static |" in page


def test_unknown_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown decision kind 'vibes'"):
        append_decision(tmp_path / "d.jsonl", "vibes", {}, {}, {})


@pytest.mark.parametrize("line,match", [
    ("not json", r"d.jsonl:2: not a JSON record"),
    (json.dumps({"kind": "budget"}), r"d.jsonl:2: record lacks \['id', 'timestamp'"),
], ids=["not-json", "missing-fields"])
def test_damaged_log_names_the_line(tmp_path: Path, line: str, match: str) -> None:
    log = tmp_path / "d.jsonl"
    append_decision(log, "budget", {}, {}, {}, now=NOW)
    with log.open("a") as handle:
        handle.write(line + "\n")
    with pytest.raises(DataError, match=match):
        read_decisions(log)


def test_missing_log_reads_as_empty(tmp_path: Path) -> None:
    assert read_decisions(tmp_path / "none.jsonl") == []


def test_routing_decision_keeps_the_file_hash(tmp_path: Path) -> None:
    routing = write_routing(tmp_path / "routing.json", {"faq": 0.02})
    recommendation, measurements, inputs = routing_decision(routing)

    assert recommendation == {"faq": ["small / plain (100.0%)"]}
    assert measurements["faq"]["expected_cost_per_request"] == 0.02
    assert inputs["suite_sha256"] == "abc" and len(inputs["file_sha256"]) == 64


def test_cli_records_a_routing_choice_and_renders_markdown(tmp_path: Path) -> None:
    log = tmp_path / "d.jsonl"
    routing = write_routing(tmp_path / "routing.json", {"faq": 0.02})
    runner = CliRunner()
    added = runner.invoke(app, ["decisions", "--log", str(log),
                                "--add-routing", str(routing)])
    page = runner.invoke(app, ["decisions", "--log", str(log), "--markdown"])

    assert added.exit_code == 0, added.output
    assert "recorded routing decision" in added.output
    assert page.exit_code == 0 and "routing (" in page.output


def test_cli_cache_sim_records_its_threshold(tmp_path: Path) -> None:
    log = tmp_path / "d.jsonl"
    result = CliRunner().invoke(app, ["cache-sim", str(SUPPORT), "--record",
                                      "--log", str(log), "--json"])

    assert result.exit_code == 0, result.output
    record = read_decisions(log)[0]
    report = json.loads(result.stdout)
    assert record["kind"] == "cache_threshold"
    assert record["recommendation"]["threshold"] == report["recommended"]["threshold"]
    assert record["inputs"]["dataset_sha256"]
    assert len(record["measurements"]["sweep"]) == len(report["sweep"])


def test_cache_sim_records_a_decision_not_to_cache(tmp_path: Path) -> None:
    log = tmp_path / "d.jsonl"
    # a tolerance no sweep of 600 requests can bound: nothing is recommended
    result = CliRunner().invoke(app, ["cache-sim", str(SUPPORT), "--record",
                                      "--log", str(log), "--tolerance", "0.001"])

    assert result.exit_code == 0, result.output
    assert "No threshold keeps" in result.output
    record = read_decisions(log)[0]
    assert record["recommendation"]["threshold"] is None
    assert "do not cache semantically" in record["recommendation"]["decision"]


def test_cli_forecast_and_budget_record_too(tmp_path: Path) -> None:
    log = tmp_path / "d.jsonl"
    scenario = Path(__file__).parents[1] / "examples" / "scenario.yaml"
    runner = CliRunner()
    runner.invoke(app, ["forecast", "--scenario", str(scenario), "--record",
                        "--log", str(log)])
    runner.invoke(app, ["budget", str(make_run(tmp_path)), "--record",
                        "--log", str(log)])

    kinds = [r["kind"] for r in read_decisions(log)]
    assert kinds == ["forecast", "budget"]
    assert read_decisions(log)[0]["recommendation"]["monthly_usd"] == \
        pytest.approx(10_440.0)
