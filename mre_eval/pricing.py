"""The dollar cost of one model call.

One implementation, used by the runner, the optimizer, the forecasts and the
production cost logs.  Prices come from litellm's bundled price map (pinned
with litellm itself) or from an explicit per-model override in the suite.  A
call whose price cannot be known costs ``None`` -- reported as "unpriced",
never as zero.

Token counts and their conventions are :mod:`mre_eval.usage`'s.

Prompt-cache writes (Anthropic's ``cache_creation_input_tokens``, also reported
by Bedrock and Vertex for Claude) are billed above the input rate, so they are
priced at the write rate of the price map or the override.  A call that wrote
to the cache on a model with no known write rate is unpriced: charging the
writes at the input rate would report less than the provider bills.  The part
of the writes a provider reports as one-hour writes (Anthropic's
``cache_creation.ephemeral_1h_input_tokens``) is ``cache_write_1h_tokens`` and
is priced at the one-hour write rate; a call with one-hour writes on a model
with no known one-hour rate is unpriced for the same reason.  Writes no
lifetime is reported for are priced at the five-minute write rate, as litellm
prices them; ``cache_write_1h_tokens`` is ``None`` where the split was never
recorded (usage kept before mre-eval recorded it), and such writes are priced
the same way.  Twelve-hour writes (``ephemeral_12h_input_tokens``, priced by
``cache_creation_input_token_cost_above_12hr`` for some OpenAI models) are not
told apart: they are priced at the standard write rate, below their bill.

Long-context tiers (the map's ``*_above_200k_tokens`` keys and their kin) are
applied as litellm applies them: the prompt tokens of the call, cached reads
and cache writes included, pick the highest threshold they pass, and every
token of the call is then charged at that tier's rates; a rate the tier does
not list stays at the rate below it.  Models priced only by a
``tiered_pricing`` table (some Qwen hosts) have no flat price and stay
unpriced.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from typing import Any, Literal

from mre_eval.errors import PricingError
from mre_eval.llm import litellm_module
from mre_eval.usage import Usage

log = logging.getLogger(__name__)

PER_MILLION = 1_000_000

# providers whose models run on the user's own hardware, where a zero price in
# litellm's map is a real price rather than a missing one
SELF_HOSTED_PROVIDERS = frozenset({
    "ollama", "ollama_chat", "lm_studio", "llamafile", "hosted_vllm", "vllm",
    "xinference", "triton", "oobabooga", "petals", "lemonade"})

# providers that bill a long-context tier from the threshold itself, not only
# above it (litellm's rule)
INCLUSIVE_TIER_PROVIDERS = frozenset({"xai"})

# a long-context rate of the map, e.g. input_cost_per_token_above_200k_tokens;
# the rates of a service tier (_priority, _flex, _batches) end otherwise
_TIER_KEY = re.compile(
    r"^(?:input_cost_per_token|output_cost_per_token|cache_read_input_token_cost"
    r"|cache_creation_input_token_cost(?:_above_1hr|_above_12hr)?)"
    r"_above_(\d+(?:\.\d+)?k?)_tokens$")

CostSource = Literal["recorded", "provider", "override", "price_map"]


_RATE_NAMES = ("input_per_million", "output_per_million",
               "cached_input_per_million", "reasoning_per_million",
               "cache_write_input_per_million", "cache_write_1h_input_per_million")


@dataclass(frozen=True)
class Prices:
    """Dollar prices per million tokens for one model.

    ``cache_write_1h_input_per_million`` is the rate of the cache writes a
    provider reports as one-hour writes.  ``tiers`` hold the rates of longer
    prompts, lowest threshold first.
    """

    input_per_million: float
    output_per_million: float
    cached_input_per_million: float | None = None
    reasoning_per_million: float | None = None
    cache_write_input_per_million: float | None = None
    cache_write_1h_input_per_million: float | None = None
    tiers: tuple[PriceTier, ...] = ()

    def __post_init__(self) -> None:
        for name in _RATE_NAMES:
            value = getattr(self, name)
            if value is not None and (value < 0 or value != value):
                raise PricingError(
                    f"price {name}={value!r} is not allowed: prices are "
                    "dollars per million tokens, zero or more"
                )

    def for_prompt(self, prompt_tokens: int) -> Prices:
        """The rates a call with ``prompt_tokens`` prompt tokens is charged."""
        crossed = [tier for tier in self.tiers if tier.applies_to(prompt_tokens)]
        return crossed[-1].prices if crossed else self


@dataclass(frozen=True)
class PriceTier:
    """The rates of every token of a call whose prompt passes ``above_tokens``."""

    above_tokens: int
    prices: Prices
    inclusive: bool = False  # also a prompt of exactly ``above_tokens``

    def applies_to(self, prompt_tokens: int) -> bool:
        return prompt_tokens > self.above_tokens or (
            self.inclusive and prompt_tokens == self.above_tokens)


@dataclass(frozen=True)
class Cost:
    """The cost of one call and where the figure came from."""

    usd: float | None
    source: CostSource | None

    @property
    def priced(self) -> bool:
        return self.usd is not None


UNPRICED = Cost(None, None)

_MEMO_LIMIT = 200_000

_warned_write_rate: set[tuple[str, str]] = set()


def price_call(model: str, usage: Usage, override: Prices | None = None) -> Cost:
    """Price one call from its token usage.

    Args:
        model: the litellm model string.
        usage: the tokens the call consumed.
        override: prices that replace litellm's for this model.

    Returns:
        The cost in dollars, or an unpriced cost when the model has no known
        price or the usage lacks a token count.
    """
    if usage.input_tokens is None or usage.output_tokens is None:
        return UNPRICED
    prices, source = (override, "override") if override is not None else (
        map_prices(model), "price_map")
    if prices is None:
        return UNPRICED
    usd, missing = _price_with(prices, usage)
    if usd is None:
        _warn_no_write_rate(model, missing)
        return UNPRICED
    return Cost(usd, source)


def worst_case_usd(model: str, prompt_tokens: int, output_tokens: int,
                   override: Prices | None = None) -> float | None:
    """The most a call can be billed with this prompt and output limit.

    Every prompt token is taken at the dearest rate a prompt token can be
    billed (a cache write, a one-hour write, plain input) and every output
    token at the dearer of the output and reasoning rates, in the dearest
    long-context tier a prompt of up to ``prompt_tokens`` reaches.

    Returns:
        Dollars, or ``None`` when the model has no known price.
    """
    prices = override if override is not None else map_prices(model)
    if prices is None:
        return None
    reached = [prices, *(tier.prices for tier in prices.tiers
                         if tier.applies_to(prompt_tokens))]
    prompt_rate = max(_rates(reached, "input_per_million", "cached_input_per_million",
                             "cache_write_input_per_million",
                             "cache_write_1h_input_per_million"))
    output_rate = max(_rates(reached, "output_per_million", "reasoning_per_million"))
    return (prompt_tokens * prompt_rate + output_tokens * output_rate) / PER_MILLION


def _rates(tiers: list[Prices], *names: str) -> list[float]:
    return [rate for prices in tiers for name in names
            if (rate := getattr(prices, name)) is not None]


def _warn_no_write_rate(model: str, missing: str) -> None:
    if (model, missing) in _warned_write_rate:
        return
    _warned_write_rate.add((model, missing))
    if missing == "one-hour":
        log.warning(
            "%s wrote to its prompt cache for one hour but no one-hour "
            "cache-write price is known for it: such calls are unpriced; give "
            "the model that price (a suite's "
            "price.cache_write_1h_input_per_million, or "
            "cache_creation_input_token_cost_above_1hr in "
            "litellm.register_model)", model)
        return
    log.warning(
        "%s wrote to its prompt cache but no cache-write price is known for "
        "it: such calls are unpriced; give the model a write price (a suite's "
        "price.cache_write_input_per_million, or cache_creation_input_token_cost "
        "in litellm.register_model)", model)


# model -> (map key it resolved to, a copy of that entry, size of the map when
# looked up, prices).  A lookup of a model litellm does not know is slow, so
# answers are kept; they are checked against the map on every use, so a
# litellm.register_model() after the first lookup is seen.
_price_memo: dict[str, tuple[str | None, dict[str, Any] | None, int,
                             Prices | None]] = {}


def map_prices(model: str) -> Prices | None:
    """The prices litellm's map holds for ``model``, or ``None``.

    The map is the one bundled with the pinned litellm plus any model added
    with ``litellm.register_model``, also after a first lookup.
    """
    model_cost = litellm_module().model_cost
    memo = _price_memo.get(model)
    if memo is not None:
        key, entry, size, prices = memo
        if size == len(model_cost) and (
                key is None or model_cost.get(key) == entry):
            return prices

    key, info = _model_info(model)
    prices = _prices_of(model, info)
    if len(_price_memo) > _MEMO_LIMIT:
        _price_memo.clear()
    entry = None if key is None else dict(model_cost[key])
    _price_memo[model] = (key, entry, len(model_cost), prices)
    return prices


def _prices_of(model: str, info: dict[str, Any] | None) -> Prices | None:
    if info is None:
        return None
    input_cost = info.get("input_cost_per_token")
    output_cost = info.get("output_cost_per_token")
    if input_cost is None or output_cost is None:
        return None
    if input_cost == 0 and output_cost == 0 and (
            info.get("litellm_provider") not in SELF_HOSTED_PROVIDERS):
        # the map lists some paid models with zero prices: a gap, not a gift
        log.debug("litellm's map prices %s at zero; treating it as unpriced", model)
        return None
    write = info.get("cache_creation_input_token_cost")
    write_1h = info.get("cache_creation_input_token_cost_above_1hr")
    if info.get("litellm_provider") in SELF_HOSTED_PROVIDERS:
        # on the user's own hardware no provider adds a surcharge for writes
        write = input_cost if write is None else write
        write_1h = write if write_1h is None else write_1h
    flat = Prices(
        input_per_million=input_cost * PER_MILLION,
        output_per_million=output_cost * PER_MILLION,
        cached_input_per_million=_per_million(info.get("cache_read_input_token_cost")),
        reasoning_per_million=_per_million(info.get("output_cost_per_reasoning_token")),
        cache_write_input_per_million=_per_million(write),
        cache_write_1h_input_per_million=_per_million(write_1h),
    )
    return replace(flat, tiers=_tiers_of(info, flat))


def _tiers_of(info: dict[str, Any], flat: Prices) -> tuple[PriceTier, ...]:
    # each tier starts from the rates of the tier below it, as litellm's do
    labels = {match.group(1) for key, value in info.items()
              if value is not None and (match := _TIER_KEY.match(key))}
    inclusive = info.get("litellm_provider") in INCLUSIVE_TIER_PROVIDERS
    tiers = []
    below = flat
    for label in sorted(labels, key=_threshold_tokens):
        below = _tier_prices(info, label, below)
        tiers.append(PriceTier(_threshold_tokens(label), below, inclusive))
    return tuple(tiers)


def _tier_prices(info: dict[str, Any], label: str, below: Prices) -> Prices:
    def rate(key: str, fallback: float | None) -> float | None:
        value = info.get(f"{key}_above_{label}_tokens")
        return fallback if value is None else value * PER_MILLION

    return replace(
        below,
        input_per_million=rate("input_cost_per_token", below.input_per_million),
        output_per_million=rate("output_cost_per_token", below.output_per_million),
        cached_input_per_million=rate("cache_read_input_token_cost",
                                      below.cached_input_per_million),
        cache_write_input_per_million=rate("cache_creation_input_token_cost",
                                           below.cache_write_input_per_million),
        cache_write_1h_input_per_million=rate(
            "cache_creation_input_token_cost_above_1hr",
            below.cache_write_1h_input_per_million),
        tiers=())


def _threshold_tokens(label: str) -> int:
    # "200k" -> 200000, "128000" -> 128000
    if label.endswith("k"):
        return round(float(label[:-1]) * 1000)
    return round(float(label))


def _per_million(per_token: float | None) -> float | None:
    return None if per_token is None else per_token * PER_MILLION


def _price_with(prices: Prices, usage: Usage) -> tuple[float | None, str]:
    # (None, which rate is missing) when the call wrote to the prompt cache
    # and the rate of those writes is not known
    input_tokens = usage.input_tokens or 0
    prices = prices.for_prompt(input_tokens)
    output_tokens = usage.output_tokens or 0
    cached = min(usage.cached_tokens, input_tokens)
    written = min(usage.cache_write_tokens, input_tokens - cached)
    one_hour = min(usage.cache_write_1h_tokens or 0, written)
    write_rate = prices.cache_write_input_per_million
    write_1h_rate = prices.cache_write_1h_input_per_million
    if written > one_hour and write_rate is None:
        return None, "write"
    if one_hour and write_1h_rate is None:
        return None, "one-hour"
    # a missing read rate falls back to the input rate: reads are never
    # billed above it, so the figure can only be too high, never too low
    cached_rate = prices.cached_input_per_million
    if cached_rate is None:
        cached_rate = prices.input_per_million
    reasoning = min(usage.reasoning_tokens, output_tokens)
    reasoning_rate = prices.reasoning_per_million
    if reasoning_rate is None:
        reasoning_rate = prices.output_per_million

    dollars_per_million = (
        (input_tokens - cached - written) * prices.input_per_million
        + cached * cached_rate
        + ((written - one_hour) * write_rate if written > one_hour else 0.0)
        + (one_hour * write_1h_rate if one_hour else 0.0)
        + (output_tokens - reasoning) * prices.output_per_million
        + reasoning * reasoning_rate
    )
    return dollars_per_million / PER_MILLION, ""


def _model_info(model: str) -> tuple[str | None, dict[str, Any] | None]:
    # the map key the model resolves to, and litellm's information for it
    litellm = litellm_module()
    info = litellm.model_cost.get(model)
    if info is not None:
        return model, info
    try:
        found = dict(litellm.get_model_info(model))
    except Exception:  # litellm raises several unrelated types for "unknown"
        log.debug("no price in litellm's map for %s", model)
        return None, None
    key = found.get("key")
    return (key if key in litellm.model_cost else None), found
