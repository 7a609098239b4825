"""Price logged calls that arrived without a cost, from litellm's map.

Millions of rows cannot each go through :func:`mre_eval.pricing.price_call`
one by one, so this module reads each model's per-token rates *from*
``price_call`` (by pricing one token of each kind) and applies them in a SQL
view.
Within one long-context tier ``price_call`` is linear in every token count,
so each model gets one set of rates per tier, the view takes a row's tier
from its prompt tokens, and the figures are the ones ``price_call`` would
return row by row; the token rules (cached reads and cache writes are
part of the input, one-hour writes part of the writes, reasoning tokens part
of the output, each capped by its total) are the same.  Rows whose model has
no price stay unpriced, and so do rows with cache writes on a model with no
known cache-write price, or one-hour writes with no known one-hour price.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from mre_eval.observe.record import NO_PRICE
from mre_eval.pricing import Prices, map_prices, price_call
from mre_eval.usage import Usage

log = logging.getLogger(__name__)


# the fewest prompt tokens of the lowest tier: any count at all
_ANY_PROMPT = -(2**62)


@dataclass(frozen=True)
class UnitRates:
    """Dollars per token of each kind, as ``price_call`` charges them."""

    input: float
    cached: float
    output: float
    reasoning: float
    write: float | None  # None: no cache-write price, writes leave a call unpriced
    write_1h: float | None  # the same for one-hour writes
    from_tokens: int  # the fewest prompt tokens these apply to


def unit_rates(model: str) -> list[UnitRates] | None:
    """Per-token rates of ``model``, one set per tier; ``None`` if unpriced."""
    try:
        prices = map_prices(model)
        if prices is None:
            return None
        tiers = [(_ANY_PROMPT, prices)] + [
            (tier.above_tokens + (0 if tier.inclusive else 1), tier.prices)
            for tier in prices.tiers]
        return [_rates_of(model, start, replace(flat, tiers=()))
                for start, flat in tiers]
    except Exception:  # an odd model name must not stop the whole report
        log.debug("no rates for %s", model, exc_info=True)
        return None


def _rates_of(model: str, from_tokens: int, prices: Prices) -> UnitRates:
    def one(usage: Usage) -> float:
        return price_call(model, usage, prices).usd or 0.0

    write = None if prices.cache_write_input_per_million is None else one(
        Usage(1, 0, cache_write_tokens=1))
    write_1h = None if prices.cache_write_1h_input_per_million is None else one(
        Usage(1, 0, cache_write_tokens=1, cache_write_1h_tokens=1))
    return UnitRates(input=one(Usage(1, 0)), cached=one(Usage(1, 0, cached_tokens=1)),
                     output=one(Usage(0, 1)),
                     reasoning=one(Usage(0, 1, reasoning_tokens=1)), write=write,
                     write_1h=write_1h, from_tokens=from_tokens)


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
                "from_tokens BIGINT, r_in DOUBLE, r_cached DOUBLE, r_out DOUBLE, "
                "r_reason DOUBLE, r_write DOUBLE, r_write_1h DOUBLE)")
    if rates:
        con.executemany("INSERT INTO unit_rates VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [(m, r.from_tokens, r.input, r.cached, r.output,
                          r.reasoning, r.write, r.write_1h)
                         for m, tiers in rates.items() for r in tiers])
    con.execute(
        f"CREATE OR REPLACE VIEW {view} AS SELECT c.* REPLACE ("
        f"coalesce(c.cost_usd, {_cost_sql()}) AS cost_usd, "
        "CASE WHEN c.cost_usd IS NOT NULL OR c.input_tokens IS NULL "
        "OR c.output_tokens IS NULL THEN c.cost_source "
        "WHEN u.model IS NOT NULL "
        f"AND (u.r_write IS NOT NULL OR {_WRITTEN_5M} = 0) "
        f"AND (u.r_write_1h IS NOT NULL OR {_WRITTEN_1H} = 0) THEN 'price_map' "
        f"ELSE '{NO_PRICE}' END AS cost_source) "
        # each row takes the highest tier its prompt tokens reach
        f"FROM {source} c ASOF LEFT JOIN unit_rates u "
        "ON c.model = u.model AND c.input_tokens >= u.from_tokens")
    return unpriced


# the token rules of price_call, in SQL: cached reads and cache writes are
# capped by the input, one-hour writes by the writes, reasoning by the output
_CACHED = "LEAST(coalesce(c.cached_tokens, 0), c.input_tokens)"
_WRITTEN = f"LEAST(coalesce(c.cache_write_tokens, 0), c.input_tokens - {_CACHED})"
# null one-hour writes were not reported: priced at the five-minute rate
_WRITTEN_1H = f"LEAST(coalesce(c.cache_write_1h_tokens, 0), {_WRITTEN})"
_WRITTEN_5M = f"({_WRITTEN} - {_WRITTEN_1H})"
_REASONING = "LEAST(coalesce(c.reasoning_tokens, 0), c.output_tokens)"


def _cost_sql() -> str:
    # a row with writes whose rate is unknown gets NULL: unpriced, not 0
    return (f"(c.input_tokens - {_CACHED} - {_WRITTEN}) * u.r_in + "
            f"{_CACHED} * u.r_cached + "
            f"CASE WHEN {_WRITTEN_5M} > 0 THEN {_WRITTEN_5M} * u.r_write "
            "ELSE 0 END + "
            f"CASE WHEN {_WRITTEN_1H} > 0 THEN {_WRITTEN_1H} * u.r_write_1h "
            "ELSE 0 END + "
            f"(c.output_tokens - {_REASONING}) * u.r_out + "
            f"{_REASONING} * u.r_reason")
