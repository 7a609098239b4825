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
    avg(CASE WHEN status = 'error' THEN 1.0 ELSE 0.0 END) AS error_rate,
    quantile_cont(latency_s, 0.5) AS p50_latency_s,
    quantile_cont(latency_s, 0.95) AS p95_latency_s
"""

NONE_LABEL = "(none)"


def breakdown(con: Any, dimension: str) -> list[dict[str, Any]]:
    """Metrics per value of ``dimension``, most expensive first, with cost share."""
    found = rows(con, f"SELECT coalesce({dimension}, '{NONE_LABEL}') AS key, "
                      f"{METRICS_SQL} FROM scoped GROUP BY key "
                      "ORDER BY cost_usd DESC NULLS LAST, calls DESC")
    total = sum(r["cost_usd"] or 0.0 for r in found)
    for row in found:
        row["cost_share"] = (row["cost_usd"] / total
                             if total and row["cost_usd"] is not None else None)
    return found


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
