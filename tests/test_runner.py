"""Runs end to end: live calls to a loopback server, the cache, the spend cap,
resume, error rows, and the recorded routerbench suite."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import REPO, ROUTERBENCH_SUITE, tiny_suite_data, write_suite
from mre_eval import results as store
from mre_eval.cli import app
from mre_eval.runner import RunReport, RunSettings, resume_run, run_suite
from openai_stub import Fault, StubServer, openai_stub  # noqa: F401

# gpt-4o-mini list price in litellm's pinned map: $0.15 / $0.60 per 1M tokens
MINI_CALL_USD = (1000 * 0.15 + 200 * 0.60) / 1_000_000


def _settings(tmp_path: Path, **kw: object) -> RunSettings:
    return RunSettings(reports=tmp_path / "reports",
                       cache_path=tmp_path / "cache.sqlite", **kw)  # type: ignore[arg-type]


def test_live_run_then_rerun_from_cache(tmp_path: Path, openai_stub: StubServer,
                                        tiny_key: str) -> None:
    suite = write_suite(tmp_path, tiny_suite_data(openai_stub.url))
    first = run_suite(suite, _settings(tmp_path))
    assert openai_stub.requests == 6
    assert first.status == "complete"
    assert first.tally.calls == 6
    assert first.tally.spent_usd == pytest.approx(6 * MINI_CALL_USD)

    frame = store.read_results(first.run_dir)
    assert len(frame) == 6
    assert frame["cost_usd"].tolist() == pytest.approx([MINI_CALL_USD] * 6)
    assert frame["input_tokens"].tolist() == [1000] * 6
    assert frame["passed"].sum() == 3
    row = first.summary[0]
    assert row["quality"]["point"] == pytest.approx(0.5)
    assert row["quality"]["low"] < 0.5 < row["quality"]["high"]

    second = run_suite(suite, _settings(tmp_path))
    assert openai_stub.requests == 6, "a re-run must make no calls"
    assert second.tally.calls == 0
    assert second.tally.spent_usd == 0
    assert second.tally.cache_hits == 6
    again = store.read_results(second.run_dir)
    # a cache hit keeps what the call cost, so the configuration's cost is true
    assert again["cost_usd"].tolist() == pytest.approx([MINI_CALL_USD] * 6)
    assert again["cache_hit"].all()


def test_rerun_says_it_cost_nothing(tmp_path: Path, openai_stub: StubServer,
                                    tiny_key: str) -> None:
    suite = write_suite(tmp_path, tiny_suite_data(openai_stub.url))
    args = ["run", str(suite), "--reports", str(tmp_path / "reports")]
    os.chdir(tmp_path)  # the default cache lives under the working directory
    assert CliRunner().invoke(app, args).exit_code == 0
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "every call came from the cache: 0 calls, $0.00 spent" in result.output
    assert openai_stub.requests == 6


def test_keys_never_written(tmp_path: Path, openai_stub: StubServer,
                            tiny_key: str) -> None:
    suite = write_suite(tmp_path, tiny_suite_data(openai_stub.url))
    openai_stub.script(Fault(status=400, message=f"bad key {tiny_key}"))
    report = run_suite(suite, _settings(tmp_path, concurrency=1))
    written = b"".join(p.read_bytes() for p in report.run_dir.iterdir())
    written += (tmp_path / "cache.sqlite").read_bytes()
    assert tiny_key.encode() not in written
    frame = store.read_results(report.run_dir)
    assert frame["error"].notna().sum() == 1, "a 400 is recorded, not retried"


def test_faults_are_retried_then_recorded(tmp_path: Path,
                                          openai_stub: StubServer,
                                          tiny_key: str) -> None:
    # retries: 1 -> two attempts; six 500s exhaust three calls' attempts
    suite = write_suite(tmp_path, tiny_suite_data(openai_stub.url, concurrency=1))
    openai_stub.script(*[Fault(status=500)] * 6)
    report = run_suite(suite, _settings(tmp_path))
    assert report.status == "complete"
    frame = store.read_results(report.run_dir)
    assert len(frame) == 6
    assert frame["error"].notna().sum() == 3
    assert frame["score"].notna().sum() == 3
    assert openai_stub.requests == 9


def test_spend_cap_stops_then_resume_finishes(tmp_path: Path,
                                              openai_stub: StubServer,
                                              tiny_key: str) -> None:
    suite = write_suite(tmp_path, tiny_suite_data(openai_stub.url, concurrency=1))
    # a real provider honours max_tokens (50) and bills the prompt it was sent
    openai_stub.reply.prompt_tokens = 20
    openai_stub.reply.completion_tokens = 50
    # worst case per call: the prompt's tokens + 50 output tokens at list
    # price, about $0.000035; a cap of $0.00012 leaves room for three calls
    reports = tmp_path / "reports"
    result = CliRunner().invoke(app, ["run", str(suite), "--max-spend", "0.00012",
                                      "--reports", str(reports)])
    assert result.exit_code == 3, result.output
    assert "stopped: spend cap $0.000120:" in result.output
    run_dir = store.find_run(None, reports)
    meta = store.read_meta(run_dir)
    assert meta["status"] == "stopped_by_spend_cap"
    assert meta["spent_usd"] <= 0.00012
    done = meta["rows"]
    assert 0 < done < 6 and meta["not_launched"] == 6 - done

    # the cap covers the whole run: resumed under the same cap, it stops at once
    again = resume_run(run_dir.name, _settings(tmp_path))
    assert again.status == "stopped_by_spend_cap"
    assert openai_stub.requests == done

    report = resume_run(run_dir.name, _settings(tmp_path, max_spend_usd=1.0))
    assert report.run_dir == run_dir
    assert report.status == "complete"
    frame = store.read_results(run_dir)
    assert len(frame) == 6
    assert openai_stub.requests == 6, "resume calls only what was not done"
    meta = store.read_meta(run_dir)
    assert meta["calls"] == 6
    assert meta["spent_usd"] == pytest.approx(frame["cost_usd"].sum())


def test_killed_run_loses_no_paid_call(tmp_path: Path, openai_stub: StubServer,
                                       tiny_key: str) -> None:
    rows = [{"id": f"k{i}", "kind": "faq", "question": f"{i}?", "answer": "x"}
            for i in range(40)]
    suite = write_suite(tmp_path, tiny_suite_data(openai_stub.url, concurrency=2),
                        rows)
    openai_stub.script(*[Fault(delay_s=0.05)] * 40)
    env = {**os.environ, "TINY_TEST_KEY": tiny_key}
    child = subprocess.Popen(
        [sys.executable, "-m", "mre_eval", "run", str(suite), "--reports",
         str(tmp_path / "reports")], cwd=tmp_path, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while openai_stub.requests < 10 and time.monotonic() < deadline:
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait()
    paid = openai_stub.requests
    assert 10 <= paid < 40

    os.chdir(tmp_path)
    result = CliRunner().invoke(app, ["run", "--resume", "latest", "--reports",
                                      str(tmp_path / "reports")])
    assert result.exit_code == 0, result.output
    run_dir = store.find_run(None, tmp_path / "reports")
    frame = store.read_results(run_dir)
    assert len(frame) == 40
    # calls finished before the kill were cached; at most the ones in flight
    # at the moment of the kill (2) are paid twice
    assert openai_stub.requests <= 40 + 2
    # answers paid before the kill come back from the cache but stay this
    # run's own calls: the run's spend is every call's, not the resume's
    assert not frame["cache_hit"].any()
    meta = store.read_meta(run_dir)
    assert meta["calls"] == 40 and meta["cache_hits"] == 0
    assert meta["spent_usd"] == pytest.approx(40 * MINI_CALL_USD)
    assert "40 live calls, 0 cache hits" in result.output

    # another run of the same suite is served by the cache and pays nothing
    again = CliRunner().invoke(app, ["run", str(suite), "--reports",
                                     str(tmp_path / "reports")])
    assert "every call came from the cache: 0 calls, $0.00 spent" in again.output


def test_missing_keys_named_before_any_call(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TINY_TEST_KEY", raising=False)
    suite = write_suite(tmp_path, tiny_suite_data("http://127.0.0.1:9/v1"))
    result = CliRunner().invoke(app, ["run", str(suite), "--reports",
                                      str(tmp_path / "reports")])
    assert result.exit_code == 2
    assert "TINY_TEST_KEY (for mini)" in result.output
    assert "mre-eval run suites/routerbench.yaml" in result.output
    assert not (tmp_path / "reports").exists()


def test_dry_run_calls_nothing(tmp_path: Path, openai_stub: StubServer,
                               tiny_key: str) -> None:
    suite = write_suite(tmp_path, tiny_suite_data(openai_stub.url))
    result = CliRunner().invoke(app, ["run", str(suite), "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.output)
    assert entry["model"] == "mini" and entry["calls"] == 6
    assert entry["worst_case_usd"] > 0
    assert openai_stub.requests == 0


def test_recorded_routerbench_replays_scores_and_costs(tmp_path: Path) -> None:
    report = run_suite(ROUTERBENCH_SUITE, _settings(tmp_path, limit=15))
    frame = store.read_results(report.run_dir)
    assert len(frame) == 15 * 3 * 11
    assert report.tally.calls == 0 and report.tally.spent_usd == 0

    recorded = pd.read_csv(REPO / "datasets/routerbench/outcomes.csv.gz")
    merged = frame.merge(recorded, left_on=["example_id", "model"],
                         right_on=["prompt_id", "model"])
    assert len(merged) == len(frame)
    assert (merged["score_x"] == merged["score_y"]).all()
    assert merged["cost_usd_x"].to_numpy() == pytest.approx(merged["cost_usd_y"])
    assert (frame["cost_source"] == "recorded").all()
    assert frame["input_tokens"].min() > 0

    summary = {(r["task_type"], r["model"]): r for r in report.summary}
    gpt4 = merged[(merged.model == "gpt-4-1106-preview")
                  & (merged.task == "arc-challenge")]
    assert summary[("arc-challenge", "gpt-4-1106-preview")]["quality"]["point"] == \
        pytest.approx(gpt4["score_y"].mean())
    written = json.loads((report.run_dir / "summary.json").read_text())
    assert len(written["rows"]) == 33


def test_repeats_are_separate_calls_and_show_pass_hat_k(
        tmp_path: Path, openai_stub: StubServer, tiny_key: str) -> None:
    suite = write_suite(tmp_path, tiny_suite_data(openai_stub.url))
    args = ["run", str(suite), "--repeats", "3", "--reports", str(tmp_path / "r")]
    os.chdir(tmp_path)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    # each repeat is its own sample: the cache must not serve repeat 1 from 0
    assert openai_stub.requests == 18
    assert "pass^3" in result.output
    frame = store.read_results(store.find_run(None, tmp_path / "r"))
    assert sorted(frame["repeat"].unique().tolist()) == [0, 1, 2]
    assert not frame["cache_hit"].any()


def test_spend_cap_with_calls_in_parallel_stops_and_finishes(
        tmp_path: Path, openai_stub: StubServer, tiny_key: str) -> None:
    # prompts of many lengths give reservations of many sizes; adding and
    # releasing them in parallel must still let the run see that none is left
    rows = [{"id": f"p{i}", "kind": "faq", "question": "why " * (1 + i * 7 % 23),
             "answer": "x"} for i in range(60)]
    suite = write_suite(tmp_path, tiny_suite_data(openai_stub.url, concurrency=4),
                        rows)
    openai_stub.reply.prompt_tokens = 40
    openai_stub.reply.completion_tokens = 50
    openai_stub.script(*[Fault(delay_s=0.01)] * 60)
    outcome: list[RunReport] = []
    worker = threading.Thread(target=lambda: outcome.append(run_suite(
        suite, _settings(tmp_path, max_spend_usd=0.0006))), daemon=True)
    worker.start()
    worker.join(timeout=120)
    assert outcome, "the run never finished: the spend cap waited for nothing"
    report = outcome[0]
    assert report.status == "stopped_by_spend_cap"
    meta = store.read_meta(report.run_dir)
    assert 0 < meta["rows"] < 60
    assert meta["spent_usd"] <= 0.0006
    assert meta["rows"] + meta["not_launched"] == 60
    assert "spend cap $0.000600:" in meta["stop_reason"]


def test_dry_run_says_why_a_cost_is_unbounded(tmp_path: Path, openai_stub: StubServer,
                                              tiny_key: str) -> None:
    models = [
        {"name": "mini", "model": "openai/gpt-4o-mini", "api_base": openai_stub.url,
         "api_key_env": "TINY_TEST_KEY", "params": {"max_tokens": 50}},
        {"name": "own", "model": "openai/my-own-model", "api_base": openai_stub.url,
         "api_key_env": "TINY_TEST_KEY", "params": {"max_tokens": 50}},
        {"name": "open-ended", "model": "openai/gpt-4o-mini",
         "api_base": openai_stub.url, "api_key_env": "TINY_TEST_KEY"}]
    suite = write_suite(tmp_path, tiny_suite_data(openai_stub.url, models))
    result = CliRunner().invoke(app, ["run", str(suite), "--dry-run"])
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines()
             if line.startswith("│")}
    assert "unbounded (unpriced: add a price override)" in lines["own"]
    assert "unbounded (no params.max_tokens)" in lines["open-ended"]
    assert "$0.0" in lines["mini"]
    assert openai_stub.requests == 0


def test_unpriced_stays_unknown_through_summary_show_and_table(
        tmp_path: Path, openai_stub: StubServer, tiny_key: str) -> None:
    models = [{"name": "own", "model": "openai/my-own-model",
               "api_base": openai_stub.url, "api_key_env": "TINY_TEST_KEY",
               "params": {"max_tokens": 50}}]
    suite = write_suite(tmp_path, tiny_suite_data(openai_stub.url, models))
    reports = str(tmp_path / "reports")
    os.chdir(tmp_path)
    result = CliRunner().invoke(app, ["run", str(suite), "--reports", reports])
    assert result.exit_code == 0, result.output
    assert "$0.00 spent plus 6 unpriced calls" in result.output
    assert "6 rows are unpriced: their cost is unknown, not zero" in result.output
    (row_line,) = [line for line in result.output.splitlines()
                   if line.startswith("│ own")]
    cells = [cell.strip() for cell in row_line.split("│")[1:-1]]
    assert cells[3:6] == ["unpriced", "unpriced", "6"]

    frame = store.read_results(store.find_run(None, tmp_path / "reports"))
    assert frame["cost_usd"].isna().all() and frame["cost_source"].isna().all()

    shown = json.loads(CliRunner().invoke(
        app, ["show", "--reports", reports, "--json"]).output)
    (row,) = shown["rows"]
    assert row["cost_total_usd"] is None and row["cost_mean_usd"] is None
    assert row["unpriced_calls"] == 6
    assert shown["totals"]["unpriced_rows"] == 6
    assert shown["totals"]["cost_usd"] is None, "no priced row: unknown, not $0"
    listed = CliRunner().invoke(app, ["runs", "--reports", reports]).output
    assert "$0.00 + 6 unpriced" in listed


def _judged_suite(tmp_path: Path, stub_url: str, judge_model: str,
                  reply: str) -> Path:
    data = tiny_suite_data(stub_url)
    data["task_types"][0]["grader"] = {"kind": "llm_judge", "options": {
        "model": judge_model, "retries": 0, "params": {"mock_response": {
            "choices": [{"message": {"role": "assistant", "content": reply}}],
            "usage": {"prompt_tokens": 500, "completion_tokens": 40,
                      "total_tokens": 540}}}}}
    return write_suite(tmp_path, data)


def test_a_judge_reply_without_a_score_keeps_its_cost(
        tmp_path: Path, openai_stub: StubServer, tiny_key: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-judge")
    judge_usd = (500 * 0.15 + 40 * 0.60) / 1_000_000   # gpt-4o-mini list price
    suite = _judged_suite(tmp_path, openai_stub.url, "gpt-4o-mini",
                          "It reads well to me.")
    report = run_suite(suite, _settings(tmp_path))

    frame = store.read_results(report.run_dir)
    assert frame["error"].str.startswith("grading failed: judge").all()
    # the judge was paid for six replies it could not use: that is spend
    assert frame["grader_cost_usd"].tolist() == pytest.approx([judge_usd] * 6)
    assert report.tally.spent_usd == pytest.approx(6 * (MINI_CALL_USD + judge_usd))


def test_an_unpriced_judge_is_counted_not_zero(
        tmp_path: Path, openai_stub: StubServer, tiny_key: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-judge")
    suite = _judged_suite(tmp_path, openai_stub.url, "openai/house-judge-v0",
                          "SCORE: 10")
    reports = str(tmp_path / "reports")
    os.chdir(tmp_path)
    result = CliRunner().invoke(app, ["run", str(suite), "--reports", reports])
    assert result.exit_code == 0, result.output
    assert "6 LLM judge calls are unpriced: their cost is unknown" in result.output

    meta = json.loads((store.find_run(None, tmp_path / "reports")
                       / store.META_FILE).read_text())
    assert meta["grader_unpriced_calls"] == 6
    assert meta["spent_usd"] == pytest.approx(6 * MINI_CALL_USD)
    shown = json.loads(CliRunner().invoke(
        app, ["show", "--reports", reports, "--json"]).output)
    assert shown["totals"]["grader_unpriced_rows"] == 6
    assert shown["rows"][0]["grader_unpriced_calls"] == 6


def test_a_run_from_before_one_hour_writes_resumes(tmp_path: Path,
                                                   openai_stub: StubServer,
                                                   tiny_key: str) -> None:
    suite = write_suite(tmp_path, tiny_suite_data(openai_stub.url))
    first = run_suite(suite, _settings(tmp_path))
    path = first.run_dir / store.RESULTS_FILE
    # the file an older mre-eval wrote: no cache_write_1h_tokens, half the rows
    older = {k: v for k, v in store.RESULT_COLUMNS.items()
             if k != "cache_write_1h_tokens"}
    kept = store.read_results(path).iloc[:3]
    store.write_table(kept, path, older)
    assert "cache_write_1h_tokens" not in pd.read_parquet(path).columns

    report = resume_run(first.run_dir.name, _settings(tmp_path))
    assert report.status == "complete"
    frame = store.read_results(first.run_dir)
    assert len(frame) == 6
    by_id = frame.set_index(["example_id", "model", "prompt_variant", "repeat"])
    old_keys = set(kept.set_index(["example_id", "model", "prompt_variant",
                                   "repeat"]).index)
    one_hour = by_id["cache_write_1h_tokens"]
    assert one_hour[list(old_keys)].isna().all()
    assert (one_hour.drop(list(old_keys)) == 0).all()
    assert frame["cost_usd"].tolist() == pytest.approx([MINI_CALL_USD] * 6)
