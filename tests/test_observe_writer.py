"""The buffered writer: batches, flush on close, several processes, failures."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mre_eval.observe.record import CallRecord
from mre_eval.observe.writer import RecordWriter
from mre_eval.pricing import Cost
from mre_eval.usage import Usage

PROCESSES = 4
PER_PROCESS = 400


def _record(i: int, worker: int = 0) -> CallRecord:
    return CallRecord(ts=datetime(2026, 11, 2, tzinfo=UTC), model="gpt-4o-mini",
                      feature="chat", tags={"worker": str(worker), "i": str(i)},
                      usage=Usage(100 + i, 10), cost=Cost(0.001, "provider"))


def _write_many(path: str, worker: int) -> None:
    writer = RecordWriter(path, batch_size=7, flush_interval_s=0.01)
    for i in range(PER_PROCESS):
        writer.write(_record(i, worker))
    writer.close()


def _read(path: Path) -> list[dict]:
    if path.suffix == ".db":
        con = sqlite3.connect(path)
        rows = con.execute("SELECT tags FROM calls").fetchall()
        return [{"tags": json.loads(tags)} for (tags,) in rows]
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("name", ["calls.jsonl", "calls.db"], ids=["jsonl", "sqlite"])
def test_concurrent_processes_lose_no_record(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_write_many, args=(str(path), w))
               for w in range(PROCESSES)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert all(w.exitcode == 0 for w in workers)

    rows = _read(path)
    seen = {(r["tags"]["worker"], r["tags"]["i"]) for r in rows}
    assert len(rows) == PROCESSES * PER_PROCESS
    assert len(seen) == PROCESSES * PER_PROCESS


def test_close_flushes_what_is_buffered(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    writer = RecordWriter(path, batch_size=1000, flush_interval_s=60)
    for i in range(5):
        writer.write(_record(i))
    assert writer.pending == 5
    writer.close()
    assert len(path.read_text().splitlines()) == 5
    assert writer.written == 5 and writer.lost == 0


def test_full_buffer_is_written_not_dropped(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    writer = RecordWriter(path, batch_size=10_000, flush_interval_s=60,
                          max_buffer=3)
    for i in range(7):
        writer.write(_record(i))
    assert len(path.read_text().splitlines()) >= 6  # written by the caller
    writer.close()
    assert len(path.read_text().splitlines()) == 7


def test_a_failing_append_is_counted_and_never_raises(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    writer = RecordWriter(blocker / "calls.jsonl", flush_interval_s=60)
    writer.write(_record(1))
    writer.close()  # the parent "directory" is a file: the append fails
    assert writer.lost == 1 and writer.written == 0


def test_a_torn_last_line_does_not_swallow_the_next(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    path.write_text('{"ts": "2026-11-02T00:00:00Z", "mod')
    writer = RecordWriter(path, flush_interval_s=60)
    writer.write(_record(1))
    writer.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 2
    assert json.loads(lines[1])["model"] == "gpt-4o-mini"


def test_unpriced_cost_is_written_as_null(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    writer = RecordWriter(path)
    writer.write(CallRecord(ts=datetime(2026, 11, 2, tzinfo=UTC), model="mine",
                            usage=Usage(10, 5)))
    writer.close()
    row = json.loads(path.read_text())
    assert row["cost_usd"] is None and row["cost_source"] == "no_price_in_map"
    assert row["ts"] == "2026-11-02T00:00:00.000000Z"


def test_records_are_flushed_when_the_process_exits(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "calls.jsonl"
    script = (
        "from mre_eval.observe.writer import RecordWriter\n"
        f"writer = RecordWriter({str(path)!r}, flush_interval_s=3600)\n"
        "for i in range(25):\n"
        "    writer.write({'ts': '2026-11-02T00:00:00Z', 'model': 'm', 'i': i})\n")
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    written = [json.loads(x)["i"] for x in path.read_text().splitlines()]
    assert written == list(range(25))


def test_a_record_written_after_close_is_still_appended(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    writer = RecordWriter(path)
    writer.close()
    writer.write(_record(1))
    assert len(path.read_text().splitlines()) == 1
