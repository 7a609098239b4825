"""Why a feature costs what it does, and what changed between two periods.

A cost per request is tokens per request times the price per token; the price
per token follows the model mix, the share of input read from a prompt cache
and the input/output split.  :func:`feature_drivers` puts those figures next
to each feature's cost, :func:`explain_features` compares two features and
splits the ratio of their costs into a tokens part and a price part, and
:func:`movers` splits each change between the last two periods into a volume
part (more or fewer calls) and a per-request part.
"""

from __future__ import annotations

from typing import Any

from mre_eval.errors import ConfigError
from mre_eval.observe.queries import (NONE_LABEL, grouped_dimension, model_mix,
                                      one, rows)

DIMENSIONS = ("feature", "model", "user_tier", "complexity")

# Over priced calls only, so that cost = calls x tokens/call x price/token.
PRICED_SQL = """
    count(*) AS priced_calls,
    sum(cost_usd) AS cost_usd,
    sum(cost_usd) / count(*) AS cost_per_request,
    avg(input_tokens) AS input_tokens_per_request,
    avg(output_tokens) AS output_tokens_per_request,
    avg(input_tokens + output_tokens) AS tokens_per_request,
    sum(cost_usd) / nullif(sum(input_tokens + output_tokens), 0) * 1000
        AS cost_per_1k_tokens,
    sum(cached_tokens) / nullif(sum(input_tokens), 0) AS cached_share
"""


def feature_drivers(con: Any, by_feature: list[dict[str, Any]]
                    ) -> list[dict[str, Any]]:
    """Each feature's cost per request beside what drives it, costliest first.

    Args:
        con: the connection holding the ``scoped`` view.
        by_feature: the feature breakdown (see ``queries.breakdowns``).
    """
    mix = model_mix(con)
    drivers = []
    for row in by_feature:
        drivers.append({
            "feature": row["key"], "calls": row["calls"],
            "cost_usd": row["cost_usd"], "cost_share": row["cost_share"],
            "unpriced_calls": row["unpriced_calls"],
            "cost_per_request": row["cost_per_request"],
            "input_tokens_per_request": row["input_tokens_per_request"],
            "output_tokens_per_request": row["output_tokens_per_request"],
            "cached_share": row["cached_share"], "error_rate": row["error_rate"],
            "model_mix": [{"model": m, "share": s} for m, s in mix.get(row["key"], [])],
        })
    drivers.sort(key=lambda d: -(d["cost_per_request"] or -1.0))
    return drivers


def explain_features(con: Any, first: str, second: str) -> dict[str, Any]:
    """Compare two features' cost per request and say where the gap comes from.

    Raises:
        ConfigError: when a feature has no calls, or no priced calls.
    """
    known = [r[0] for r in con.execute(
        f"SELECT DISTINCT coalesce(feature, '{NONE_LABEL}') FROM scoped").fetchall()]
    sides = {name: _priced_profile(con, name, known) for name in (first, second)}
    a, b = sides[first], sides[second]
    ratios = {key: _ratio(a[key], b[key]) for key in (
        "cost_per_request", "tokens_per_request", "input_tokens_per_request",
        "output_tokens_per_request", "cost_per_1k_tokens")}
    mix = model_mix(con)
    for name, side in sides.items():
        side["model_mix"] = [{"model": m, "share": s} for m, s in mix.get(name, [])]
    return {"features": [first, second], "profiles": sides, "ratios": ratios,
            "summary": _summary(first, second, a, b, ratios)}


def movers(con: Any, period: str) -> list[dict[str, Any]]:
    """What changed between the last two periods, biggest change in cost first."""
    found = [r[0] for r in con.execute(
        f"SELECT DISTINCT date_trunc('{period}', ts) AS p FROM scoped "
        "ORDER BY p DESC LIMIT 2").fetchall()]
    if len(found) < 2:
        return []
    after, before = found
    dimensions = DIMENSIONS
    sets = ", ".join(f"({d}, is_after)" for d in dimensions)
    table: dict[tuple[str, str], dict[bool, dict[str, Any]]] = {}
    for row in rows(con, f"""
            SELECT GROUPING({', '.join(dimensions)}) AS g, {', '.join(dimensions)},
                   is_after, count(*) AS calls, count(cost_usd) AS priced,
                   sum(cost_usd) AS cost
            FROM (SELECT *, date_trunc('{period}', ts) = ? AS is_after FROM scoped
                  WHERE date_trunc('{period}', ts) IN (?, ?))
            GROUP BY GROUPING SETS ({sets})""", [after, before, after]):
        dimension = grouped_dimension(row["g"], dimensions)
        key = row[dimension] if row[dimension] is not None else NONE_LABEL
        table.setdefault((dimension, key), {})[row["is_after"]] = row
    changes = [_change(dimension, key, sides.get(False), sides.get(True))
               for (dimension, key), sides in table.items()]
    changes.sort(key=lambda c: -abs(c["delta_usd"] or 0.0))
    for change in changes:
        change.update(period_before=before, period_after=after)
    return changes


def _priced_profile(con: Any, feature: str, known: list[str]) -> dict[str, Any]:
    if feature not in known:
        raise ConfigError(f"no calls of feature {feature!r} in the logs: features "
                          f"are {', '.join(sorted(known)) or '(none)'}")
    where = "feature IS NULL" if feature == NONE_LABEL else "feature = ?"
    params = [] if feature == NONE_LABEL else [feature]
    profile = one(con, f"SELECT {PRICED_SQL} FROM scoped WHERE {where} "
                       "AND cost_usd IS NOT NULL", params)
    if not profile["priced_calls"]:
        raise ConfigError(f"feature {feature!r} has no priced calls: its cost per "
                          "request cannot be explained")
    profile.update(one(con, "SELECT count(*) AS calls, avg(CASE WHEN status = "
                            "'error' THEN 1.0 ELSE 0.0 END) AS error_rate FROM "
                            f"scoped WHERE {where}", params))
    return profile


def _change(dimension: str, key: str, before: dict[str, Any] | None,
            after: dict[str, Any] | None) -> dict[str, Any]:
    zero = {"calls": 0, "priced": 0, "cost": 0.0}
    b, a = before or zero, after or zero
    change = {"dimension": dimension, "key": key, "calls_before": b["calls"],
              "calls_after": a["calls"], "cost_before": b["cost"],
              "cost_after": a["cost"], "delta_usd": None, "volume_effect_usd": None,
              "per_request_effect_usd": None}
    if (b["priced"] and b["cost"] is None) or (a["priced"] and a["cost"] is None):
        return change
    cost_b, cost_a = b["cost"] or 0.0, a["cost"] or 0.0
    change["delta_usd"] = _cents(cost_a - cost_b)
    if b["priced"] and a["priced"]:
        per_b, per_a = cost_b / b["priced"], cost_a / a["priced"]
        change["volume_effect_usd"] = _cents((a["priced"] - b["priced"]) * per_b)
        change["per_request_effect_usd"] = _cents(a["priced"] * (per_a - per_b))
    change["delta_pct"] = (cost_a - cost_b) / cost_b if cost_b else None
    return change


def _cents(value: float) -> float:
    # sums of float costs carry noise around 1e-15; a billionth of a dollar is
    # far below any price per token
    return round(value, 9)


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _summary(first: str, second: str, a: dict[str, Any], b: dict[str, Any],
             ratios: dict[str, float | None]) -> str:
    def mix(side: dict[str, Any]) -> str:
        return ", ".join(f"{m['model']} {m['share']:.0%}" for m in side["model_mix"])

    return (
        f"{first} costs ${a['cost_per_request']:.4g} a request and {second} "
        f"${b['cost_per_request']:.4g} ({_x(ratios['cost_per_request'])}). "
        f"Tokens: {a['input_tokens_per_request']:,.0f} in + "
        f"{a['output_tokens_per_request']:,.0f} out a request vs "
        f"{b['input_tokens_per_request']:,.0f} + "
        f"{b['output_tokens_per_request']:,.0f} "
        f"({_x(ratios['tokens_per_request'])} the tokens). Price: "
        f"${a['cost_per_1k_tokens']:.4g} vs ${b['cost_per_1k_tokens']:.4g} per 1k "
        f"tokens ({_x(ratios['cost_per_1k_tokens'])}); models {mix(a)} vs {mix(b)}; "
        f"cached input {a['cached_share'] or 0:.0%} vs {b['cached_share'] or 0:.0%}."
    )


def _x(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}x"
