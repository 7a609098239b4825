"""Turn call logs into day-partitioned parquet that DuckDB reads fast.

``mre-eval logs compact calls.jsonl --out logs/`` writes
``logs/day=2026-11-30/data_0.parquet`` and so on: columnar, compressed, and
read by ``mre-eval costs logs/`` without parsing JSON again.  Malformed lines
are reported as the cost report reports them, and left out of the parquet.
Calls logged without a cost are priced from litellm's map as they are
written, so the parquet keeps the prices of the day it was compacted.
Compacting the same log twice into one folder would count its calls twice, so
a folder that already holds parquet is refused unless ``append`` is asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mre_eval.errors import ConfigError
from mre_eval.observe import ingest
from mre_eval.observe.costs import DEFAULT_MEMORY_LIMIT, database
from mre_eval.observe.ingest import Problems
from mre_eval.observe.prices import create_priced_view


@dataclass(frozen=True)
class CompactResult:
    """What compaction wrote."""

    rows: int
    files: int
    days: int
    out: Path
    problems: Problems


def compact(paths: list[Path], out: Path, *, fmt: str | None = None,
            mapping: dict[str, str] | None = None, append: bool = False,
            memory_limit: str = DEFAULT_MEMORY_LIMIT) -> CompactResult:
    """Write the calls of ``paths`` to ``out`` as parquet partitioned by day.

    Raises:
        ConfigError: when ``out`` already holds parquet and ``append`` is false.
        DataError: for a log that cannot be read at all.
    """
    if out.exists() and any(out.rglob("*.parquet")) and not append:
        raise ConfigError(f"{out} already holds parquet files: pass --append to "
                          "add to them, or choose an empty folder")
    out.mkdir(parents=True, exist_ok=True)
    with database(memory_limit) as (con, workdir):
        ingest.create_table(con)
        problems = ingest.load(con, paths, workdir, fmt=fmt, mapping=mapping)
        create_priced_view(con)
        rows, days = con.execute(
            "SELECT count(*), count(DISTINCT CAST(ts AS DATE)) FROM priced_calls"
        ).fetchone()
        con.execute(
            "COPY (SELECT *, strftime(ts, '%Y-%m-%d') AS day FROM priced_calls) "
            f"TO {ingest._quote(out)} (FORMAT parquet, COMPRESSION zstd, "
            "PARTITION_BY (day), APPEND true, FILENAME_PATTERN 'calls_{uuid}')")
    return CompactResult(rows=rows, files=len(list(out.rglob("*.parquet"))),
                         days=days, out=out, problems=problems)
