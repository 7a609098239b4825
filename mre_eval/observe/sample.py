"""Turn logged requests into an evaluation dataset: today's real traffic mix.

``mre-eval logs sample calls.jsonl --n 300 --out traffic.jsonl`` draws a
sample stratified by feature and complexity tier from the requests whose text
was kept (``observe.install(..., keep_text=True)``), one row per distinct
request, and writes JSONL a suite reads with::

    dataset:
      path: traffic.jsonl
      task_type_column: task_type

Each stratum gets a share of ``n`` proportional to its share of the logged
requests (at least ``min_per_stratum``, at most what it holds).  The draw is
seeded, so the same logs and seed give the same dataset.  Rows carry no
reference answer: use graders that do not need one, or add references.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mre_eval.errors import DataError
from mre_eval.observe import complexity, ingest
from mre_eval.observe.costs import database
from mre_eval.observe.ingest import Problems
from mre_eval.observe.queries import NONE_LABEL, rows
from mre_eval.observe.record import request_hash
from mre_eval.results import atomic_write_text

COLUMNS = ["ts", "feature", "user_tier", "model", "input_tokens", "request_text"]


@dataclass(frozen=True)
class SampleResult:
    """What the sample holds and where it came from."""

    written: int
    strata: list[dict[str, Any]]
    logged_with_text: int
    logged_without_text: int
    problems: Problems


def allocate(sizes: dict[Any, int], n: int, min_per_stratum: int = 1) -> dict[Any, int]:
    """Split ``n`` draws over strata in proportion to their sizes.

    Each stratum gets its whole-number share, never more than it holds.  Then
    strata below ``min_per_stratum`` are topped up, largest first, while the
    total stays within ``n``; what is left goes by largest fractional share.
    """
    total = sum(sizes.values())
    budget = min(max(n, 0), total)
    exact = {k: budget * size / total if total else 0.0 for k, size in sizes.items()}
    quota = {k: min(sizes[k], math.floor(v)) for k, v in exact.items()}
    for key in sorted(sizes, key=lambda k: (-sizes[k], str(k))):
        need = min(min_per_stratum, sizes[key]) - quota[key]
        if need > 0 and sum(quota.values()) + need <= budget:
            quota[key] += need
    order = sorted(sizes, key=lambda k: (quota[k] - exact[k], -sizes[k], str(k)))
    while sum(quota.values()) < budget:
        for key in order:
            if sum(quota.values()) < budget and quota[key] < sizes[key]:
                quota[key] += 1
    return quota


def sample_requests(paths: list[Path], out: Path, *, n: int = 200, seed: int = 0,
                    min_per_stratum: int = 1, routing: Path | None = None,
                    fmt: str | None = None, mapping: dict[str, str] | None = None
                    ) -> SampleResult:
    """Draw a stratified sample of logged requests into a JSONL dataset.

    Raises:
        DataError: when no logged request kept its text.
    """
    with database() as (con, workdir):
        ingest.create_table(con, {c: ingest.RECORD_COLUMNS[c] for c in COLUMNS})
        problems = ingest.load(con, paths, workdir, fmt=fmt, mapping=mapping,
                               columns=COLUMNS)
        with_text, without = con.execute(
            "SELECT count(request_text), count(*) - count(request_text) "
            "FROM raw_calls").fetchone()
        if not with_text:
            raise DataError(
                "no logged request kept its text, so none can be replayed: "
                "log with observe.install(PATH, keep_text=True) or "
                "track(..., keep_text=True)")
        _distinct_requests(con, routing)
        strata, drawn = _draw(con, n, seed, min_per_stratum)
    atomic_write_text(out, "".join(json.dumps(r, default=str) + "\n" for r in drawn))
    return SampleResult(len(drawn), strata, with_text, without, problems)


def _distinct_requests(con: Any, routing: Path | None) -> None:
    if routing is None:
        tier = complexity.length_bucket_sql()
        con.execute(f"CREATE TABLE requests AS SELECT any_value(ts) AS ts, feature, "
                    f"any_value(user_tier) AS user_tier, any_value(model) AS model, "
                    f"request_text, any_value({tier}) AS complexity FROM raw_calls "
                    "WHERE request_text IS NOT NULL GROUP BY feature, request_text")
        return
    complexity.classify_with_router(con, routing, "raw_calls")
    con.execute("CREATE TABLE requests AS SELECT any_value(c.ts) AS ts, c.feature, "
                "any_value(c.user_tier) AS user_tier, any_value(c.model) AS model, "
                "c.request_text, any_value(t.tier) AS complexity FROM raw_calls c "
                "JOIN tiers t ON c.feature IS NOT DISTINCT FROM t.feature AND "
                "c.request_text = t.request_text GROUP BY c.feature, c.request_text")


def _draw(con: Any, n: int, seed: int, min_per_stratum: int
          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    sizes = {(f, c): k for f, c, k in con.execute(
        "SELECT feature, complexity, count(*) FROM requests GROUP BY ALL").fetchall()}
    quota = allocate(sizes, n, min_per_stratum)
    con.execute("CREATE TEMP TABLE quota (feature VARCHAR, complexity VARCHAR, "
                "k BIGINT)")
    con.executemany("INSERT INTO quota VALUES (?, ?, ?)",
                    [(f, c, k) for (f, c), k in quota.items()])
    drawn = rows(con, f"""
        SELECT * FROM (
            SELECT r.*, q.k, row_number() OVER (
                PARTITION BY r.feature, r.complexity
                ORDER BY hash(r.request_text || '{int(seed)}'), r.request_text) AS i
            FROM requests r JOIN quota q
              ON r.feature IS NOT DISTINCT FROM q.feature
             AND r.complexity IS NOT DISTINCT FROM q.complexity)
        WHERE i <= k ORDER BY feature, complexity, i""")
    strata = [{"feature": f or NONE_LABEL, "complexity": c, "logged": sizes[(f, c)],
               "drawn": quota[(f, c)]} for f, c in sorted(sizes, key=str)]
    return strata, [_dataset_row(r) for r in drawn]


def _dataset_row(row: dict[str, Any]) -> dict[str, Any]:
    digest = request_hash(row["request_text"])
    return {"id": f"{row['feature'] or 'none'}-{digest[:12]}",
            "task_type": row["feature"] or NONE_LABEL, "input": row["request_text"],
            "complexity": row["complexity"], "model": row["model"],
            "user_tier": row["user_tier"], "logged_at": str(row["ts"])}
