"""Token counts and dollar cost of one model call.

One implementation, used by the runner, the optimizer, the forecasts and the
production cost logs.  Prices come from litellm's bundled price map (pinned
with litellm itself) or from an explicit per-model override in the suite.  A
call whose price cannot be known costs ``None`` -- reported as "unpriced",
never as zero.

Token conventions follow the OpenAI usage block: ``input_tokens`` includes the
``cached_tokens`` read from a provider's prompt cache, and ``output_tokens``
includes the ``reasoning_tokens`` a reasoning model spent.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from typing import Any, Literal

from mre_eval.errors import PricingError
from mre_eval.llm import litellm_module

log = logging.getLogger(__name__)

PER_MILLION = 1_000_000

# providers whose models run on the user's own hardware, where a zero price in
# litellm's map is a real price rather than a missing one
SELF_HOSTED_PROVIDERS = frozenset({
    "ollama", "ollama_chat", "lm_studio", "llamafile", "hosted_vllm", "vllm",
    "xinference", "triton", "oobabooga", "petals", "lemonade"})

CostSource = Literal["recorded", "provider", "override", "price_map"]


@dataclass(frozen=True)
class Usage:
    """Tokens one call consumed; ``None`` where a count is not known."""

    input_tokens: int | None
    output_tokens: int | None
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    cache_write_tokens: int = 0


@dataclass(frozen=True)
class Prices:
    """Dollar prices per million tokens for one model."""

    input_per_million: float
    output_per_million: float
    cached_input_per_million: float | None = None
    reasoning_per_million: float | None = None

    def __post_init__(self) -> None:
        for name in ("input_per_million", "output_per_million",
                     "cached_input_per_million", "reasoning_per_million"):
            value = getattr(self, name)
            if value is not None and (value < 0 or value != value):
                raise PricingError(
                    f"price {name}={value!r} is not allowed: prices are "
                    "dollars per million tokens, zero or more"
                )


@dataclass(frozen=True)
class Cost:
    """The cost of one call and where the figure came from."""

    usd: float | None
    source: CostSource | None

    @property
    def priced(self) -> bool:
        return self.usd is not None


UNPRICED = Cost(None, None)

# prompt token counts, keyed by (tokenizer, messages): one count serves every
# model that shares a tokenizer
_message_counts: dict[tuple[str, str], int] = {}
_MEMO_LIMIT = 200_000


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
    if override is not None:
        return Cost(_price_with(override, usage), "override")
    prices = map_prices(model)
    if prices is None:
        return UNPRICED
    return Cost(_price_with(prices, usage), "price_map")


@functools.lru_cache(maxsize=4096)
def map_prices(model: str) -> Prices | None:
    """The prices litellm's bundled map holds for ``model``, or ``None``.

    The map is the one bundled with the pinned litellm and never changes while
    the process runs, so each model is looked up once.
    """
    info = _model_info(model)
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
    cached = info.get("cache_read_input_token_cost")
    reasoning = info.get("output_cost_per_reasoning_token")
    return Prices(
        input_per_million=input_cost * PER_MILLION,
        output_per_million=output_cost * PER_MILLION,
        cached_input_per_million=None if cached is None else cached * PER_MILLION,
        reasoning_per_million=None if reasoning is None else reasoning * PER_MILLION,
    )


def is_priced(model: str) -> bool:
    """Whether litellm's map knows a price for ``model``."""
    return map_prices(model) is not None


def count_tokens(model: str, text: str | None = None,
                 messages: list[dict[str, Any]] | None = None) -> int:
    """Count tokens with the tokenizer litellm picks for ``model``.

    Chat messages are counted with litellm's per-message overhead.  Counts
    are memoised per tokenizer, so the same prompt sent to many models that
    share a tokenizer is counted once.  For models litellm has no tokenizer
    for it uses cl100k, so their counts are estimates.
    """
    name, tokenizer = _tokenizer(model)
    if messages is not None:
        key = (name, json.dumps(messages, sort_keys=True))
        if key not in _message_counts:
            if len(_message_counts) > _MEMO_LIMIT:
                _message_counts.clear()
            litellm = litellm_module()
            _message_counts[key] = int(litellm.token_counter(model=model,
                                                             messages=messages))
        return _message_counts[key]
    return _count_text(tokenizer, text or "")


def tokenizer_name(model: str) -> str:
    """The name of the tokenizer litellm counts ``model``'s tokens with."""
    return _tokenizer(model)[0]


@functools.cache
def _tokenizer(model: str) -> tuple[str, Any]:
    litellm_module()
    from litellm.utils import _select_tokenizer

    selected = _select_tokenizer(model)
    tokenizer = selected["tokenizer"]
    name = getattr(tokenizer, "name", None) or f"{selected['type']}:{model}"
    return name, tokenizer


def _count_text(tokenizer: Any, text: str) -> int:
    if hasattr(tokenizer, "encode_ordinary"):  # tiktoken
        return len(tokenizer.encode_ordinary(text))
    return len(tokenizer.encode(text).ids)  # huggingface tokenizers


def _price_with(prices: Prices, usage: Usage) -> float:
    input_tokens = usage.input_tokens or 0
    output_tokens = usage.output_tokens or 0
    cached = min(usage.cached_tokens, input_tokens)
    cached_rate = prices.cached_input_per_million
    if cached_rate is None:
        cached_rate = prices.input_per_million
    reasoning = min(usage.reasoning_tokens, output_tokens)
    reasoning_rate = prices.reasoning_per_million
    if reasoning_rate is None:
        reasoning_rate = prices.output_per_million

    dollars_per_million = (
        (input_tokens - cached) * prices.input_per_million
        + cached * cached_rate
        + (output_tokens - reasoning) * prices.output_per_million
        + reasoning * reasoning_rate
    )
    return dollars_per_million / PER_MILLION


def _model_info(model: str) -> dict[str, Any] | None:
    litellm = litellm_module()
    info = litellm.model_cost.get(model)
    if info is not None:
        return info
    try:
        return dict(litellm.get_model_info(model))
    except Exception:  # litellm raises several unrelated types for "unknown"
        log.debug("no price in litellm's map for %s", model)
        return None
