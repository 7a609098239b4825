"""Buffered, multi-process-safe appends of call records to JSONL or SQLite.

The service being logged only pays for putting a dict on a list: a background
thread appends the buffer in batches every ``flush_interval_s`` seconds (or as
soon as ``batch_size`` records wait), and whatever is left is flushed when the
process exits.  When the buffer is full the caller writes the batch itself
rather than drop records.

Several processes may log to the same file.  A JSONL batch is appended with
one ``O_APPEND`` write of whole lines under an exclusive ``flock``, so lines
never interleave; a SQLite log uses WAL mode and waits on a busy database.
A failed append never raises into the caller: it is logged and the records it
held are counted in :attr:`RecordWriter.lost`.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import logging
import os
import sqlite3
import threading
import weakref
from pathlib import Path
from typing import Any, Protocol

from mre_eval.observe.record import RECORD_COLUMNS, CallRecord

log = logging.getLogger(__name__)

SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
SQLITE_TABLE = "calls"


class Sink(Protocol):
    """Where batches of records go."""

    def append(self, rows: list[dict[str, Any]]) -> None: ...


class JsonlSink:
    """Appends whole lines to a JSONL file under an exclusive file lock."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, rows: list[dict[str, Any]]) -> None:
        data = "".join(
            json.dumps(row, separators=(",", ":"), ensure_ascii=False) + "\n"
            for row in rows).encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if _ends_mid_line(fd):
                data = b"\n" + data  # a killed writer left half a line behind
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)  # closing releases the lock


class SqliteSink:
    """Inserts rows into a ``calls`` table of a SQLite file in WAL mode."""

    def __init__(self, path: Path, busy_timeout_s: float = 30.0) -> None:
        self.path = path
        self.busy_timeout_s = busy_timeout_s
        self._ready = False

    def append(self, rows: list[dict[str, Any]]) -> None:
        columns = list(RECORD_COLUMNS)
        values = [tuple(_sqlite_value(row.get(c)) for c in columns) for row in rows]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=self.busy_timeout_s)
        try:
            if not self._ready:
                _prepare(con, columns)
                self._ready = True
            marks = ", ".join("?" for _ in columns)
            with con:
                con.executemany(f"INSERT INTO {SQLITE_TABLE} "
                                f"({', '.join(columns)}) VALUES ({marks})",
                                values)
        finally:
            con.close()


def _prepare(con: sqlite3.Connection, columns: list[str]) -> None:
    # a log made by an older version lacks the newer columns: add them, so
    # its old rows read them as null
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(f"CREATE TABLE IF NOT EXISTS {SQLITE_TABLE} "
                f"({', '.join(columns)})")
    present = {row[1] for row in con.execute(f"PRAGMA table_info({SQLITE_TABLE})")}
    for column in columns:
        if column not in present:
            try:
                con.execute(f"ALTER TABLE {SQLITE_TABLE} ADD COLUMN {column}")
            except sqlite3.OperationalError:  # another process added it first
                pass


def make_sink(path: Path) -> Sink:
    """A SQLite sink for ``.sqlite``/``.sqlite3``/``.db`` paths, else JSONL."""
    if path.suffix.lower() in SQLITE_SUFFIXES:
        return SqliteSink(path)
    return JsonlSink(path)


class RecordWriter:
    """Collects records and appends them in batches from a background thread.

    Args:
        path: a ``.jsonl`` file, or a ``.sqlite``/``.db`` file.
        batch_size: records that wake the flusher early.
        flush_interval_s: longest time a record waits in the buffer.
        max_buffer: records held before the caller flushes itself.
    """

    def __init__(self, path: str | Path, *, batch_size: int = 512,
                 flush_interval_s: float = 1.0, max_buffer: int = 20_000) -> None:
        self.path = Path(path)
        self.sink = make_sink(self.path)
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.max_buffer = max_buffer
        self.written = 0
        self.lost = 0
        self._reset_state()
        self._closed = False
        _live_writers.add(self)

    def write(self, record: CallRecord | dict[str, Any]) -> None:
        """Queue one record; never raises."""
        try:
            row = record.to_dict() if isinstance(record, CallRecord) else record
            with self._lock:
                self._buffer.append(row)
                waiting = len(self._buffer)
            self._ensure_thread()
            if self._closed or waiting >= self.max_buffer:
                self.flush()  # no flusher, or it is behind: write, never drop
            elif waiting >= self.batch_size:
                self._wake.set()
        except Exception:
            self.lost += 1
            log.warning("could not queue a call record for %s", self.path,
                        exc_info=True)

    def flush(self) -> None:
        """Append every queued record now; failures are logged and counted."""
        with self._io_lock:
            with self._lock:
                rows, self._buffer = self._buffer, []
            if not rows:
                return
            try:
                self.sink.append(rows)
                self.written += len(rows)
            except Exception as exc:
                self.lost += len(rows)
                log.warning("could not append %d call records to %s: %s "
                            "(%d lost so far)", len(rows), self.path, exc, self.lost)

    def close(self) -> None:
        """Stop the background thread and flush what is left."""
        self._closed = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=max(5.0, self.flush_interval_s * 2))
        self.flush()

    @property
    def pending(self) -> int:
        """Records queued and not yet appended."""
        return len(self._buffer)

    def _reset_state(self) -> None:
        self._buffer: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._io_lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def _ensure_thread(self) -> None:
        if self._thread is not None or self._closed:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="mre-eval-observe", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.flush_interval_s)
            self._wake.clear()
            self.flush()

    def _after_fork(self) -> None:
        # the parent still holds and will write the queued records
        self._reset_state()


_live_writers: weakref.WeakSet[RecordWriter] = weakref.WeakSet()


def _close_all() -> None:
    for writer in list(_live_writers):
        writer.close()


def _after_fork_in_child() -> None:
    for writer in list(_live_writers):
        writer._after_fork()


atexit.register(_close_all)
os.register_at_fork(after_in_child=_after_fork_in_child)


def _ends_mid_line(fd: int) -> bool:
    size = os.fstat(fd).st_size
    return size > 0 and os.pread(fd, 1, size - 1) != b"\n"


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return value
