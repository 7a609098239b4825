"""Prices: litellm's pinned map, overrides, cached and reasoning tokens, unknowns."""

from __future__ import annotations

import pytest

from mre_eval.errors import PricingError
from mre_eval.pricing import Prices, Usage, count_tokens, map_prices, price_call

M = 1_000_000


@pytest.mark.parametrize(
    ("model", "usage", "expected"),
    [
        pytest.param("gpt-4o", Usage(1000, 100), (1000 * 2.5 + 100 * 10) / M,
                     id="plain"),
        pytest.param("gpt-4o", Usage(1000, 100, cached_tokens=800),
                     (200 * 2.5 + 800 * 1.25 + 100 * 10) / M, id="cached-input"),
        pytest.param("openai/gpt-4o-mini", Usage(2000, 500),
                     (2000 * 0.15 + 500 * 0.60) / M, id="provider-prefix"),
        pytest.param("claude-sonnet-4-5", Usage(1000, 1000), (3000 + 15000) / M,
                     id="anthropic"),
    ])
def test_map_prices(model: str, usage: Usage, expected: float) -> None:
    cost = price_call(model, usage)
    assert cost.source == "price_map"
    assert cost.usd == pytest.approx(expected)


@pytest.mark.parametrize("model", ["openai/my-local-model", "claude-3-5-haiku-20241022",
                                   "no-such-model"])
def test_unknown_price_is_unpriced_not_zero(model: str) -> None:
    cost = price_call(model, Usage(1000, 100))
    assert cost.usd is None and not cost.priced
    assert map_prices(model) is None


def test_unknown_token_count_is_unpriced() -> None:
    assert price_call("gpt-4o", Usage(None, 100)).usd is None


def test_override_with_cached_and_reasoning_rates() -> None:
    prices = Prices(input_per_million=1.0, output_per_million=4.0,
                    cached_input_per_million=0.1, reasoning_per_million=8.0)
    usage = Usage(1000, 500, cached_tokens=400, reasoning_tokens=200)
    cost = price_call("openai/my-local-model", usage, prices)
    assert cost.source == "override"
    assert cost.usd == pytest.approx((600 * 1 + 400 * 0.1 + 300 * 4 + 200 * 8) / M)


def test_negative_override_refused() -> None:
    with pytest.raises(PricingError, match="input_per_million=-1"):
        Prices(input_per_million=-1, output_per_million=1)


def test_token_counts() -> None:
    assert count_tokens("gpt-4o", "hello world") == 2
    one = count_tokens("gpt-4o", messages=[{"role": "user", "content": "hi"}])
    two = count_tokens("gpt-4o", messages=[{"role": "user", "content": "hi there"}])
    assert 0 < one < two


def test_zero_price_of_a_hosted_model_is_a_gap_not_free() -> None:
    # litellm's pinned map lists claude-opus-4-1 at $0 in and out
    assert map_prices("claude-opus-4-1") is None
    assert price_call("claude-opus-4-1", Usage(1000, 100)).usd is None


def test_zero_price_of_a_self_hosted_model_is_real() -> None:
    prices = map_prices("ollama/llama3")
    assert prices is not None and prices.input_per_million == 0
    assert price_call("ollama/llama3", Usage(1000, 100)).usd == 0


def test_reasoning_tokens_at_the_price_maps_reasoning_rate() -> None:
    from mre_eval.llm import litellm_module

    info = litellm_module().model_cost["dashscope/qwen-plus-2025-04-28"]
    assert info["output_cost_per_reasoning_token"] != info["output_cost_per_token"]
    usage = Usage(1000, 500, reasoning_tokens=200)
    cost = price_call("dashscope/qwen-plus-2025-04-28", usage)
    expected = (1000 * info["input_cost_per_token"]
                + 300 * info["output_cost_per_token"]
                + 200 * info["output_cost_per_reasoning_token"])
    assert cost.source == "price_map"
    assert cost.usd == pytest.approx(expected)
