"""Read call logs of every supported kind into one DuckDB table.

Supported inputs, told apart by name and first line (or ``fmt=``):

- ``records``: the JSON lines :mod:`mre_eval.observe` writes (``.jsonl``,
  ``.ndjson``, optionally ``.gz``);
- ``parquet``: a parquet file or a folder of them (what ``logs compact``
  writes);
- ``sqlite``: a SQLite log written by the observe writer;
- ``otel``: OpenTelemetry spans following the GenAI semantic conventions,
  exported as JSON (:mod:`mre_eval.observe.otel`);
- ``csv``: a CSV export, with a column mapping (:mod:`mre_eval.observe.csv_map`).

JSON lines are read by DuckDB directly.  When DuckDB refuses a file, or the
file holds more lines than DuckDB read, a second pass in Python finds every
malformed line, reports it with its line number and reads the rest: bad lines
are counted, never silently dropped, never fatal.
"""

from __future__ import annotations

import gzip
import json
import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from mre_eval.errors import DataError
from mre_eval.observe.record import (FLOAT_COLUMNS, INT_COLUMNS, RECORD_COLUMNS,
                                     REQUIRED_COLUMNS, STR_COLUMNS)
from mre_eval.observe.writer import SQLITE_SUFFIXES, SQLITE_TABLE

log = logging.getLogger(__name__)

Format = Literal["records", "parquet", "sqlite", "otel", "csv"]
FORMATS: tuple[str, ...] = ("records", "parquet", "sqlite", "otel", "csv")
MAX_LISTED = 20
# keys found near the start of an OpenTelemetry JSON export
OTEL_MARKERS = ("resourceSpans", "resource_spans", "traceId", "trace_id")
TABLE = "calls"
VIEW = "raw_calls"


@dataclass
class Problems:
    """Input that could not be used, counted and located."""

    malformed: int = 0
    listed: list[tuple[str, int, str]] = field(default_factory=list)
    skipped_spans: int = 0

    def add(self, path: Path | str, line: int, reason: str) -> None:
        """Count one malformed line; keep its place if fewer than 20 are kept."""
        self.malformed += 1
        if len(self.listed) < MAX_LISTED:
            self.listed.append((str(path), line, reason))

    def to_dict(self) -> dict[str, Any]:
        return {"malformed_lines": self.malformed,
                "first_malformed": [{"file": f, "line": n, "reason": r}
                                    for f, n, r in self.listed],
                "skipped_non_genai_spans": self.skipped_spans}


def create_table(con: Any, columns: dict[str, str] | None = None) -> None:
    """Create the empty ``calls`` table with the record columns."""
    columns = columns or RECORD_COLUMNS
    spec = ", ".join(f"{name} {kind}" for name, kind in columns.items())
    con.execute(f"CREATE TABLE {TABLE} ({spec})")


def load(con: Any, paths: list[Path], workdir: Path, *, fmt: str | None = None,
         mapping: dict[str, str] | None = None,
         columns: list[str] | None = None) -> Problems:
    """Read every log in ``paths`` into the ``raw_calls`` view of ``con``.

    JSON lines, SQLite, OpenTelemetry and CSV logs are appended to the
    ``calls`` table; parquet is not copied but read where it lies.  The view
    is the union of both.

    Args:
        con: a DuckDB connection whose ``calls`` table exists.
        paths: log files or folders.
        workdir: a folder for temporary files.
        fmt: one of :data:`FORMATS`; inferred per path when omitted.
        mapping: record field -> CSV column, for CSV inputs.
        columns: record columns to keep (all when omitted).

    Raises:
        DataError: when a path does not exist or cannot be read at all.
    """
    problems = Problems()
    keep = columns or list(RECORD_COLUMNS)
    parquet: list[str] = []
    # timestamps without an offset are UTC, whatever the machine's zone
    con.execute("SET TimeZone = 'UTC'")
    for index, path in enumerate(paths):
        kind = infer_format(path, fmt)
        log.debug("reading %s as %s", path, kind)
        if kind == "records":
            _load_jsonl(con, path, keep, workdir, problems)
        elif kind == "parquet":
            parquet.append(_parquet_source(con, path))
        elif kind == "sqlite":
            _load_sqlite(con, path, keep, workdir)
        else:
            converted = workdir / f"converted-{index}.jsonl"
            _convert(kind, path, converted, mapping, problems)
            _load_jsonl(con, converted, keep, workdir, Problems(), strict=True)
    selects = [f"SELECT {', '.join(keep)} FROM {TABLE}"] + [
        f"SELECT {', '.join(keep)} FROM {source} "
        "WHERE ts IS NOT NULL AND model IS NOT NULL" for source in parquet]
    con.execute(f"CREATE OR REPLACE VIEW {VIEW} AS {' UNION ALL '.join(selects)}")
    return problems


def infer_format(path: Path, declared: str | None = None) -> str:
    """The format of a log: the declared one, else from its name and content."""
    if declared is not None:
        if declared not in FORMATS:
            raise DataError(f"unknown log format {declared!r}: use one of "
                            f"{', '.join(FORMATS)}")
        return declared
    if not path.exists():
        raise DataError(f"no log at {path}: give a JSONL, parquet, SQLite, "
                        "OpenTelemetry JSON or CSV file")
    name = path.name.lower().removesuffix(".gz")
    if path.is_dir() or name.endswith(".parquet"):
        return "parquet"
    if path.suffix.lower() in SQLITE_SUFFIXES:
        return "sqlite"
    if name.endswith(".csv"):
        return "csv"
    head = _open_text(path).read(4096)
    if any(f'"{key}"' in head for key in OTEL_MARKERS):
        return "otel"
    return "records"


def _load_jsonl(con: Any, path: Path, keep: list[str], workdir: Path,
                problems: Problems, strict: bool = False) -> None:
    con.begin()
    try:
        inserted = _insert(con, _jsonl_source(path, keep), keep)
        if strict or inserted == _count_lines(path):
            con.commit()
            return
        log.debug("%s: %d rows read from more lines; checking each line",
                  path, inserted)
    except Exception as exc:
        if strict:
            con.rollback()
            raise DataError(f"{path}: could not be read: {exc}") from exc
        log.debug("DuckDB refused %s (%s); checking each line", path, exc)
    con.rollback()
    clean = workdir / f"clean-{abs(hash(str(path)))}.jsonl"
    _clean_copy(path, clean, problems)
    _insert(con, _jsonl_source(clean, keep), keep)


def _insert(con: Any, source: str, keep: list[str]) -> int:
    before = con.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]
    con.execute(f"INSERT INTO {TABLE} ({', '.join(keep)}) "
                f"SELECT {', '.join(keep)} FROM {source} "
                "WHERE ts IS NOT NULL AND model IS NOT NULL")
    return con.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0] - before


def _jsonl_source(path: Path, keep: list[str]) -> str:
    # Whole-number columns are read as DOUBLE so that a fractional or negative
    # count is left out (and found by the line check) instead of being rounded.  ``ts``
    # is read with its offset and turned to UTC: a plain TIMESTAMP cast would
    # drop the offset of "10:00+02:00" and keep 10:00.
    types = {**RECORD_COLUMNS, "ts": "TIMESTAMPTZ"}
    columns = "{" + ", ".join(
        f"'{k}': '{'DOUBLE' if v == 'BIGINT' else v}'" for k, v in types.items()) + "}"
    whole = " AND ".join(f"({c} IS NULL OR ({c} = floor({c}) AND {c} >= 0))"
                         for c in keep if c in INT_COLUMNS) or "TRUE"
    return (f"(SELECT * REPLACE (timezone('UTC', ts) AS ts) FROM read_json("
            f"{_quote(path)}, format='newline_delimited', columns={columns}, "
            f"maximum_object_size=16777216) WHERE {whole})")


def _parquet_source(con: Any, path: Path) -> str:
    """A query over a parquet file or folder; record columns it lacks are null.

    Raises:
        DataError: for a folder without parquet files, an unreadable file, or
            one without ``ts`` and ``model`` columns.
    """
    if path.is_dir() and not any(path.rglob("*.parquet")):
        raise DataError(f"{path} is a folder without parquet files: give the "
                        "folder `mre-eval logs compact` wrote, or log files")
    target = str(path / "**" / "*.parquet") if path.is_dir() else str(path)
    scan = (f"read_parquet({_quote(target)}, hive_partitioning=true, "
            "union_by_name=true)")
    try:
        found = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {scan}")
                 .fetchall()}
    except Exception as exc:  # duckdb raises IO and invalid-input errors
        raise DataError(f"{path}: not readable as parquet: "
                        f"{str(exc).splitlines()[0]}") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in found]
    if missing:
        raise DataError(f"{path}: parquet without the {', '.join(missing)} "
                        f"column(s) of a call log; its columns are "
                        f"{', '.join(sorted(found))}")
    casts = ", ".join(f"CAST({k if k in found else 'NULL'} AS {v}) AS {k}"
                      for k, v in RECORD_COLUMNS.items())
    return f"(SELECT {casts} FROM {scan})"


def _load_sqlite(con: Any, path: Path, keep: list[str], workdir: Path) -> None:
    # DuckDB's SQLite reader is an extension it would download; read in Python.
    out = workdir / f"sqlite-{abs(hash(str(path)))}.jsonl"
    try:
        src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        cursor = src.execute(f"SELECT * FROM {SQLITE_TABLE}")
        names = [d[0] for d in cursor.description]
        with out.open("w") as sink:
            for row in cursor:
                record = dict(zip(names, row, strict=True))
                if isinstance(record.get("tags"), str):
                    record["tags"] = json.loads(record["tags"])
                sink.write(json.dumps(record) + "\n")
        src.close()
    except sqlite3.Error as exc:
        raise DataError(f"{path}: not a readable observe SQLite log "
                        f"(table {SQLITE_TABLE!r}): {exc}") from exc
    _insert(con, _jsonl_source(out, keep), keep)


def _convert(kind: str, path: Path, out: Path, mapping: dict[str, str] | None,
             problems: Problems) -> None:
    if kind == "otel":
        from mre_eval.observe.otel import convert_otel

        convert_otel(path, out, problems)
    else:
        from mre_eval.observe.csv_map import convert_csv

        convert_csv(path, out, mapping or {}, problems)


def _clean_copy(path: Path, out: Path, problems: Problems) -> None:
    with _open_text(path) as source, out.open("w") as sink:
        for number, line in enumerate(source, start=1):
            if not line.strip():
                continue
            row, reason = parse_line(line)
            if row is None:
                problems.add(path, number, reason or "unreadable")
                continue
            # Python reads ISO forms DuckDB refuses (2026-W45-1, 20261102T10Z):
            # write the timestamp in the one form both read
            row["ts"] = utc_iso(row["ts"])
            sink.write(json.dumps(row, ensure_ascii=False) + "\n")


def parse_line(line: str) -> tuple[dict[str, Any] | None, str | None]:
    """One JSONL line as a record, or ``None`` and why it is unusable."""
    try:
        row = json.loads(line)
    except ValueError as exc:
        return None, f"not JSON ({exc.msg})"
    if not isinstance(row, dict):
        return None, "not a JSON object"
    reason = check_row(row)
    return (None, reason) if reason else (row, None)


def utc_iso(value: Any) -> str:
    """An ISO 8601 timestamp as naive UTC; one without an offset is UTC."""
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds")


def check_row(row: dict[str, Any]) -> str | None:
    """Why a parsed record is unusable (missing or mistyped field), or ``None``."""
    for name in REQUIRED_COLUMNS:
        if row.get(name) in (None, ""):
            return f"missing {name!r}"
    try:
        datetime.fromisoformat(str(row["ts"]))
    except ValueError:
        return f"ts {row['ts']!r} is not an ISO 8601 timestamp"
    for name in INT_COLUMNS:
        value = row.get(name)
        if value is not None and (isinstance(value, bool)
                                  or not isinstance(value, int)):
            return f"{name} {value!r} is not a whole number"
        if value is not None and value < 0:
            return f"{name} {value!r} is negative"
    for name in FLOAT_COLUMNS:
        value = row.get(name)
        if value is not None and (isinstance(value, bool)
                                  or not isinstance(value, int | float)):
            return f"{name} {value!r} is not a number"
    for name in STR_COLUMNS:
        if row.get(name) is not None and not isinstance(row[name], str):
            return f"{name} {row[name]!r} is not a string"
    if row.get("tags") is not None and not isinstance(row["tags"], dict):
        return "tags is not an object"
    return None


def _count_lines(path: Path) -> int:
    opener = gzip.open if path.name.endswith(".gz") else open
    lines, last = 0, b"\n"
    with opener(path, "rb") as handle:
        while chunk := handle.read(1 << 24):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n")


def _open_text(path: Path) -> Any:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return path.open(encoding="utf-8", errors="replace")


def _quote(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"
