"""Price logged calls that arrived without a cost, from litellm's map.

Millions of rows cannot each go through :func:`mre_eval.pricing.price_call`
one by one, so this module reads each model's per-token rates *from*
``price_call`` (by pricing one token of each kind) and applies them in a SQL
view.
``price_call`` is linear in every token count, so the figures are the ones it
would return row by row; the token rules (cached reads and cache writes are
part of the input, reasoning tokens part of the output, each capped by its
total) are the same.  Rows whose model has no price stay unpriced, and so do
rows with cache writes on a model with no known cache-write price.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from mre_eval.observe.record import NO_PRICE
from mre_eval.pricing import Usage, map_prices, price_call

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UnitRates:
    """Dollars per token of each kind, as ``price_call`` charges them."""

    input: float
    cached: float
    output: float
    reasoning: float
    write: float | None  # None: no cache-write price, writes leave a call unpriced


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
            reasoning=price_call(model, Usage(0, 1, reasoning_tokens=1)).usd or 0.0,
            write=_write_rate(model))
    except Exception:  # an odd model name must not stop the whole report
        log.debug("no rates for %s", model, exc_info=True)
        return None


def _write_rate(model: str) -> float | None:
    prices = map_prices(model)
    if prices is None or prices.cache_write_input_per_million is None:
        return None
    return price_call(model, Usage(1, 0, cache_write_tokens=1)).usd


def create_priced_view(con: Any, source: str = "raw_calls",
                       view: str = "priced_calls") -> list[str]:
    """Create ``view``: ``source`` with costs filled in where the map has a price.

    Rows that have tokens but no cost get ``cost_source = 'price_map'``, or
    :data:`NO_PRICE` when the map has no price for their model (so a compacted
    log does not look them up again); the figures are computed as the view is
    read, so nothing is rewritten.

    Returns:
        Models whose calls have tokens, no cost, and no price in the map.
    """
    models = [row[0] for row in con.execute(
        f"SELECT DISTINCT model FROM {source} WHERE cost_usd IS NULL "
        "AND input_tokens IS NOT NULL AND output_tokens IS NOT NULL "
        f"AND cost_source IS DISTINCT FROM '{NO_PRICE}'").fetchall()]
    rates = {m: r for m in models if (r := unit_rates(m)) is not None}
    unpriced = sorted(set(models) - set(rates))
    if unpriced:
        log.info("no price in litellm's map for %s: their calls stay unpriced",
                 ", ".join(unpriced))
    con.execute("CREATE OR REPLACE TEMP TABLE unit_rates (model VARCHAR, "
                "r_in DOUBLE, r_cached DOUBLE, r_out DOUBLE, r_reason DOUBLE, "
                "r_write DOUBLE)")
    if rates:
        con.executemany("INSERT INTO unit_rates VALUES (?, ?, ?, ?, ?, ?)",
                        [(m, r.input, r.cached, r.output, r.reasoning, r.write)
                         for m, r in rates.items()])
    con.execute(
        f"CREATE OR REPLACE VIEW {view} AS SELECT c.* REPLACE ("
        f"coalesce(c.cost_usd, {_cost_sql()}) AS cost_usd, "
        "CASE WHEN c.cost_usd IS NOT NULL OR c.input_tokens IS NULL "
        "OR c.output_tokens IS NULL THEN c.cost_source "
        "WHEN u.model IS NOT NULL AND (u.r_write IS NOT NULL OR "
        "coalesce(c.cache_write_tokens, 0) = 0) THEN 'price_map' "
        f"ELSE '{NO_PRICE}' END AS cost_source) "
        f"FROM {source} c LEFT JOIN unit_rates u ON c.model = u.model")
    return unpriced


def _cost_sql() -> str:
    # a row with cache writes and no write rate gets NULL: unpriced, not 0
    cached = "LEAST(coalesce(c.cached_tokens, 0), c.input_tokens)"
    written = (f"LEAST(coalesce(c.cache_write_tokens, 0), "
               f"c.input_tokens - {cached})")
    reasoning = "LEAST(coalesce(c.reasoning_tokens, 0), c.output_tokens)"
    return (f"(c.input_tokens - {cached} - {written}) * u.r_in + "
            f"{cached} * u.r_cached + "
            f"CASE WHEN {written} > 0 THEN {written} * u.r_write ELSE 0 END + "
            f"(c.output_tokens - {reasoning}) * u.r_out + "
            f"{reasoning} * u.r_reason")
