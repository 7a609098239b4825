"""The grouped queries every cost breakdown is made of.

They read the ``scoped`` view (the loaded calls, filtered to the asked time
range, with a ``complexity`` column).  ``cost_usd`` sums priced calls only;
``cost_per_request`` divides it by the priced calls, so unpriced calls never
pull an average down as if they were free.
"""

from __future__ import annotations

from typing import Any

# One row of any breakdown: the figures a weekly review reads.
METRICS_SQL = """
    count(*) AS calls,
    count(cost_usd) AS priced_calls,
    count(*) - count(cost_usd) AS unpriced_calls,
    sum(cost_usd) AS cost_usd,
    sum(cost_usd) / nullif(count(cost_usd), 0) AS cost_per_request,
    avg(input_tokens) AS input_tokens_per_request,
    avg(output_tokens) AS output_tokens_per_request,
    sum(cached_tokens) / nullif(sum(input_tokens), 0) AS cached_share,
    avg(CASE WHEN status = 'error' THEN 1.0 ELSE 0.0 END) AS error_rate
"""

NONE_LABEL = "(none)"


def breakdowns(con: Any, dimensions: tuple[str, ...]
               ) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """The totals and the metrics per value of each dimension.

    Sums and counts come from one grouped scan.  Exact latency percentiles
    hold every value of a group in memory and cannot spill to disk, so they
    are computed one dimension at a time to keep memory bounded.

    Returns:
        The totals (with the first and last call), and per dimension its rows,
        most expensive first, each with its share of the priced cost.
    """
    sets = ", ".join(["()"] + [f"({d})" for d in dimensions])
    names = ", ".join(dimensions)
    found = rows(con, f"SELECT GROUPING({names}) AS grouping_id, {names}, "
                      f"{METRICS_SQL}, min(ts) AS first_call, max(ts) AS last_call "
                      f"FROM scoped GROUP BY GROUPING SETS ({sets})")
    totals: dict[str, Any] = {}
    by: dict[str, list[dict[str, Any]]] = {d: [] for d in dimensions}
    for row in found:
        dimension = grouped_dimension(row.pop("grouping_id"), dimensions)
        keys = {d: row.pop(d) for d in dimensions}
        if dimension is None:
            totals = row
            continue
        del row["first_call"], row["last_call"]
        by[dimension].append({"key": keys[dimension] or NONE_LABEL, **row})
    totals.update(latency_percentiles(con, None)[None])
    days = con.execute(
        "SELECT count(DISTINCT CAST(ts AS DATE)) FROM scoped").fetchone()[0]
    totals["days_with_calls"] = days
    for row in [totals, *by.get("feature", [])]:
        # the traffic mix a forecast needs: calls per day that saw calls
        row["requests_per_day"] = row["calls"] / days if days else None
    for dimension, group in by.items():
        latency = latency_percentiles(con, dimension)
        for row in group:
            row.update(latency.get(row["key"], {}))
        group.sort(key=lambda r: (-(r["cost_usd"] or -1.0), -r["calls"], r["key"]))
        _add_shares(group)
    return totals, by


def latency_percentiles(con: Any, dimension: str | None
                        ) -> dict[str | None, dict[str, float | None]]:
    """Exact p50 and p95 latency per value of ``dimension`` (overall if None)."""
    key = f"coalesce({dimension}, '{NONE_LABEL}')" if dimension else "NULL"
    found: dict[str | None, dict[str, float | None]] = {}
    for value, quantiles in con.execute(
            f"SELECT {key} AS k, quantile_cont(latency_s, [0.5, 0.95]) "
            "FROM scoped GROUP BY k").fetchall():
        p50, p95 = quantiles if quantiles else (None, None)
        found[value] = {"p50_latency_s": p50, "p95_latency_s": p95}
    return found or {None: {"p50_latency_s": None, "p95_latency_s": None}}


def grouped_dimension(grouping_id: int, dimensions: tuple[str, ...]) -> str | None:
    """Which one of ``dimensions`` a GROUPING SETS row is grouped by, if any.

    ``GROUPING(a, b, c)`` sets a bit, first argument highest, for each column
    *not* grouped; a row grouped by one dimension has exactly one bit clear.
    """
    for index, dimension in enumerate(dimensions):
        if not grouping_id & (1 << (len(dimensions) - 1 - index)):
            return dimension
    return None


def _add_shares(found: list[dict[str, Any]]) -> None:
    total = sum(r["cost_usd"] or 0.0 for r in found)
    for row in found:
        row["cost_share"] = (row["cost_usd"] / total
                             if total and row["cost_usd"] is not None else None)


def model_mix(con: Any, top: int = 3) -> dict[str, list[tuple[str, float]]]:
    """Per feature, its most used models and their share of its calls."""
    mix: dict[str, list[tuple[str, float]]] = {}
    for feature, model, share in con.execute(
            f"SELECT coalesce(feature, '{NONE_LABEL}') AS f, model, count(*) / "
            "sum(count(*)) OVER (PARTITION BY f) AS share FROM scoped "
            "GROUP BY f, model ORDER BY f, share DESC, model").fetchall():
        if len(mix.setdefault(feature, [])) < top:
            mix[feature].append((model, float(share)))
    return mix


def rows(con: Any, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """Run ``sql`` and return its rows as dicts."""
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def one(con: Any, sql: str, params: list[Any] | None = None) -> dict[str, Any]:
    """The first row of ``sql`` as a dict."""
    return rows(con, sql, params)[0]
