"""Where the money went: the cost breakdown of call logs, computed in DuckDB.

JSON lines are loaded once into an on-disk DuckDB table (memory stays bounded
by ``memory_limit``; DuckDB spills the rest to disk) and parquet is read where
it lies.  Calls without a cost are priced from litellm's map as they are read,
and all four breakdowns come from one grouped query.  Money follows the
project rule: ``cost_usd`` sums priced calls only, and every group says how
many of its calls are unpriced.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from mre_eval.errors import ConfigError, DataError
from mre_eval.observe import complexity, ingest
from mre_eval.observe.drivers import (DIMENSIONS, explain_features, feature_drivers,
                                     movers)
from mre_eval.observe.ingest import Problems
from mre_eval.observe.prices import create_priced_view
from mre_eval.observe.queries import METRICS_SQL, breakdowns, rows

log = logging.getLogger(__name__)

Period = Literal["day", "week", "month"]
PERIODS: tuple[str, ...] = ("day", "week", "month")
DEFAULT_MEMORY_LIMIT = "1GB"
BASE_COLUMNS = ["ts", "feature", "user_tier", "model", "input_tokens",
                "output_tokens", "cached_tokens", "cache_write_tokens",
                "cache_write_1h_tokens", "reasoning_tokens", "cost_usd",
                "cost_source", "latency_s", "status"]

@dataclass
class CostReport:
    """Every figure ``mre-eval costs`` shows, as plain data."""

    totals: dict[str, Any]
    breakdowns: dict[str, list[dict[str, Any]]]
    drivers: list[dict[str, Any]]
    complexity_source: str
    problems: Problems
    periods: list[dict[str, Any]] = field(default_factory=list)
    movers: list[dict[str, Any]] = field(default_factory=list)
    explain: dict[str, Any] | None = None
    period: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"totals": self.totals, "breakdowns": self.breakdowns,
                "drivers": self.drivers, "complexity_source": self.complexity_source,
                "period": self.period, "periods": self.periods,
                "movers": self.movers, "explain": self.explain,
                "problems": self.problems.to_dict()}


def cost_report(paths: list[Path], *, fmt: str | None = None,
                mapping: dict[str, str] | None = None, routing: Path | None = None,
                by: str | None = None, explain: tuple[str, str] | None = None,
                since: datetime | None = None, until: datetime | None = None,
                memory_limit: str = DEFAULT_MEMORY_LIMIT,
                threads: int | None = None) -> CostReport:
    """Break the cost of logged calls down by feature, model, tier and complexity.

    Args:
        paths: call logs (JSONL, parquet, SQLite, OpenTelemetry JSON, CSV).
        fmt: force one input format (see :data:`ingest.FORMATS`).
        mapping: record field -> CSV column, for CSV inputs.
        routing: a routing.json whose classifier gives complexity tiers.
        by: ``day``, ``week`` or ``month`` for period-over-period figures.
        explain: two features whose cost per request to compare.
        since: keep calls at or after this UTC time.
        until: keep calls before this UTC time.
        memory_limit: DuckDB's memory cap; the rest spills to disk.
        threads: DuckDB threads (all cores when omitted).

    Raises:
        ConfigError: for an unknown period or feature to explain.
        DataError: for a log that cannot be read at all.
    """
    if by is not None and by not in PERIODS:
        raise ConfigError(f"unknown period {by!r}: use one of {', '.join(PERIODS)}")
    with database(memory_limit, threads) as (con, workdir):
        return _report(con, paths, workdir, fmt, mapping, routing, by, explain,
                       since, until)


def report_csv(report: CostReport) -> str:
    """The breakdown, driver and mover rows as one CSV table."""
    import csv
    import io

    table: list[dict[str, Any]] = [{"section": "totals", **report.totals}]
    for dimension, found in report.breakdowns.items():
        table += [{"section": f"by_{dimension}", **row} for row in found]
    table += [{"section": "by_period", **row} for row in report.periods]
    table += [{"section": "movers", **row} for row in report.movers]
    names: list[str] = []
    for row in table:
        names += [k for k in row if k not in names]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=names)
    writer.writeheader()
    writer.writerows(table)
    return buffer.getvalue()


@contextmanager
def database(memory_limit: str = DEFAULT_MEMORY_LIMIT, threads: int | None = None
             ) -> Iterator[tuple[Any, Path]]:
    """A temporary on-disk DuckDB database with bounded memory, and its folder.

    Raises:
        DataError: when DuckDB runs out of its memory limit.
    """
    import duckdb

    with tempfile.TemporaryDirectory(prefix="mre-eval-observe-") as tmp:
        workdir = Path(tmp)
        con = duckdb.connect(str(workdir / "calls.duckdb"))
        try:
            _set_memory_limit(con, memory_limit)
            con.execute(f"SET temp_directory = '{workdir / 'spill'}'")
            con.execute("SET preserve_insertion_order = false")
            if threads:
                con.execute(f"SET threads = {int(threads)}")
            yield con, workdir
        except duckdb.OutOfMemoryException as exc:
            raise DataError(
                f"the logs needed more than the {memory_limit} memory limit: raise "
                "--memory-limit, or read fewer calls with --since/--until") from exc
        finally:
            con.close()


def _set_memory_limit(con: Any, memory_limit: str) -> None:
    import duckdb

    try:
        con.execute(f"SET memory_limit = '{memory_limit.replace(chr(39), '')}'")
    except duckdb.Error:
        raise ConfigError(f"--memory-limit {memory_limit!r} is not a size: give a "
                          "number and a unit, e.g. 512MB or 4GB") from None


def _report(con: Any, paths: list[Path], workdir: Path, fmt: str | None,
            mapping: dict[str, str] | None, routing: Path | None, by: str | None,
            explain: tuple[str, str] | None, since: datetime | None,
            until: datetime | None) -> CostReport:
    columns = BASE_COLUMNS + (["request_text"] if routing else [])
    ingest.create_table(con, {c: ingest.RECORD_COLUMNS[c] for c in columns})
    problems = ingest.load(con, paths, workdir, fmt=fmt, mapping=mapping,
                           columns=columns)
    create_priced_view(con)
    source = _scoped_view(con, routing, since, until)

    totals, found = breakdowns(con, DIMENSIONS)
    report = CostReport(totals=totals, breakdowns=found,
                        drivers=feature_drivers(con, found["feature"]),
                        complexity_source=source, problems=problems, period=by)
    if by is not None:
        report.periods = rows(con, f"SELECT date_trunc('{by}', ts) AS period, "
                                   f"{METRICS_SQL}, min(ts) AS first_call, "
                                   "max(ts) AS last_call FROM scoped "
                                   "GROUP BY period ORDER BY period")
        report.movers = movers(con, by)
    if explain is not None:
        report.explain = explain_features(con, *explain)
    return report


def _scoped_view(con: Any, routing: Path | None, since: datetime | None,
                 until: datetime | None) -> str:
    where = ["TRUE"]
    if since is not None:
        where.append(f"ts >= '{_naive_utc(since)}'")
    if until is not None:
        where.append(f"ts < '{_naive_utc(until)}'")
    if routing is None:
        con.execute(f"CREATE VIEW scoped AS SELECT *, "
                    f"{complexity.length_bucket_sql()} AS complexity FROM priced_calls "
                    f"WHERE {' AND '.join(where)}")
        return "input-token length buckets"
    complexity.classify_with_router(con, routing, "raw_calls")
    con.execute(
        "CREATE VIEW scoped AS SELECT c.*, coalesce(t.tier, "
        f"'{complexity.NO_TEXT}') AS complexity FROM priced_calls c LEFT JOIN tiers t "
        "ON c.feature IS NOT DISTINCT FROM t.feature "
        "AND c.request_text = t.request_text "
        f"WHERE {' AND '.join('c.' + w if w != 'TRUE' else w for w in where)}")
    return f"router tiers from {routing}"


def _naive_utc(moment: datetime) -> str:
    if moment.tzinfo is not None:
        from datetime import UTC

        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(sep=" ")
