"""Price logged calls that arrived without a cost, from litellm's map.

Millions of rows cannot each go through :func:`mre_eval.pricing.price_call`
one by one, so this module reads each model's per-token rates *from*
``price_call`` (by pricing one token of each kind) and applies them in SQL.
``price_call`` is linear in every token count, so the figures are the ones it
would return row by row; the token rules (cached tokens are part of the input,
reasoning tokens part of the output, each capped by its total) are the same.
Rows whose model has no price stay unpriced.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from mre_eval.pricing import Usage, price_call

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UnitRates:
    """Dollars per token of each kind, as ``price_call`` charges them."""

    input: float
    cached: float
    output: float
    reasoning: float


def unit_rates(model: str) -> UnitRates | None:
    """Per-token rates of ``model`` read from ``price_call``; ``None`` if unpriced."""
    try:
        one_input = price_call(model, Usage(1, 0))
        if one_input.usd is None:
            return None
        return UnitRates(
            input=one_input.usd,
            cached=price_call(model, Usage(1, 0, cached_tokens=1)).usd or 0.0,
            output=price_call(model, Usage(0, 1)).usd or 0.0,
            reasoning=price_call(model, Usage(0, 1, reasoning_tokens=1)).usd or 0.0)
    except Exception:  # an odd model name must not stop the whole report
        log.debug("no rates for %s", model, exc_info=True)
        return None


def fill_missing_costs(con: Any, table: str = "calls") -> dict[str, int]:
    """Price rows of ``table`` that have tokens but no cost.

    Returns:
        Rows priced, and rows left unpriced, per model without a price.
    """
    models = [row[0] for row in con.execute(
        f"SELECT DISTINCT model FROM {table} WHERE cost_usd IS NULL "
        "AND input_tokens IS NOT NULL AND output_tokens IS NOT NULL").fetchall()]
    rates = {m: r for m in models if (r := unit_rates(m)) is not None}
    unpriced = sorted(set(models) - set(rates))
    if unpriced:
        log.info("no price in litellm's map for %s: their calls stay unpriced",
                 ", ".join(unpriced))
    if not rates:
        return {}
    con.execute("CREATE TEMP TABLE unit_rates (model VARCHAR, r_in DOUBLE, "
                "r_cached DOUBLE, r_out DOUBLE, r_reason DOUBLE)")
    con.executemany("INSERT INTO unit_rates VALUES (?, ?, ?, ?, ?)",
                    [(m, r.input, r.cached, r.output, r.reasoning)
                     for m, r in rates.items()])
    con.execute(f"UPDATE {table} SET cost_usd = {_cost_sql()}, "
                "cost_source = 'price_map' FROM unit_rates u "
                f"WHERE {table}.model = u.model AND cost_usd IS NULL "
                "AND input_tokens IS NOT NULL AND output_tokens IS NOT NULL")
    counts = con.execute(f"SELECT model, count(*) FROM {table} WHERE "
                         "cost_source = 'price_map' GROUP BY model").fetchall()
    con.execute("DROP TABLE unit_rates")
    return dict(counts)


def _cost_sql() -> str:
    cached = "LEAST(coalesce(cached_tokens, 0), input_tokens)"
    reasoning = "LEAST(coalesce(reasoning_tokens, 0), output_tokens)"
    return (f"(input_tokens - {cached}) * u.r_in + {cached} * u.r_cached + "
            f"(output_tokens - {reasoning}) * u.r_out + {reasoning} * u.r_reason")
