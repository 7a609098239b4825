"""Prices: litellm's pinned map, overrides, cached and reasoning tokens, unknowns."""

from __future__ import annotations

import pytest

from mre_eval.errors import PricingError
from mre_eval.pricing import Prices, map_prices, price_call
from mre_eval.usage import Usage, count_tokens

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


# --- prompt-cache writes -------------------------------------------------

CLAUDE = "anthropic/claude-sonnet-4-5"


def _claude_reply(prompt: int, read: int, written: int, completion: int) -> dict:
    # the usage block litellm builds from an Anthropic answer: prompt_tokens
    # counts every prompt token, cache reads and writes included
    return {"choices": [{"message": {"role": "assistant", "content": "ok"}}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                      "total_tokens": prompt + completion,
                      "cache_read_input_tokens": read,
                      "cache_creation_input_tokens": written}}


def test_cache_writes_of_a_mocked_claude_call_priced_at_the_write_rate() -> None:
    from mre_eval.llm import litellm_module
    from mre_eval.usage import usage_of

    litellm = litellm_module()
    info = litellm.model_cost["claude-sonnet-4-5"]
    response = litellm.completion(
        model=CLAUDE, messages=[{"role": "user", "content": "hi"}],
        mock_response=_claude_reply(prompt=12_000, read=2_000, written=9_000,
                                    completion=300))

    usage = usage_of(response)
    assert (usage.input_tokens, usage.cached_tokens, usage.cache_write_tokens) == (
        12_000, 2_000, 9_000)
    cost = price_call(CLAUDE, usage)
    expected = (1_000 * info["input_cost_per_token"]
                + 2_000 * info["cache_read_input_token_cost"]
                + 9_000 * info["cache_creation_input_token_cost"]
                + 300 * info["output_cost_per_token"])
    assert info["cache_creation_input_token_cost"] > info["input_cost_per_token"]
    assert cost.source == "price_map"
    assert cost.usd == pytest.approx(expected, rel=1e-12)
    # the same figure litellm itself bills for the call
    assert cost.usd == pytest.approx(response._hidden_params["response_cost"])


def test_live_provider_prices_the_cache_writes_it_is_given() -> None:
    from mre_eval.providers.live import LiveProvider
    from mre_eval.retry import RetryPolicy
    from mre_eval.suite import ModelSpec
    from mre_eval.usage import usage_of

    usage = usage_of(_claude_reply(prompt=4_000, read=0, written=4_000,
                                   completion=10))
    provider = LiveProvider(timeout_s=5, retry=RetryPolicy())
    spec = ModelSpec(model=CLAUDE)
    assert provider.price(spec, usage) == price_call(CLAUDE, usage)
    with_override = ModelSpec(model=CLAUDE, price={
        "input_per_million": 1, "output_per_million": 2,
        "cache_write_input_per_million": 10})
    assert provider.price(with_override, usage).usd == pytest.approx(
        (4_000 * 10 + 10 * 2) / M)


def test_cache_writes_without_a_write_rate_are_unpriced_not_input_priced(
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    from mre_eval import pricing

    monkeypatch.setattr(pricing, "_warned_write_rate", set())
    # gpt-4o's entry has no cache-creation rate: writes at its input rate
    # would report less than a write-billing provider charges
    assert map_prices("gpt-4o").cache_write_input_per_million is None
    with caplog.at_level("WARNING", logger="mre_eval.pricing"):
        cost = price_call("gpt-4o", Usage(1000, 100, cache_write_tokens=600))
    assert cost.usd is None and cost.source is None
    assert "cache_write_input_per_million" in caplog.text
    assert price_call("gpt-4o", Usage(1000, 100)).usd is not None


def test_override_write_rate_and_its_absence() -> None:
    usage = Usage(1000, 100, cached_tokens=200, cache_write_tokens=500)
    with_rate = Prices(input_per_million=2, output_per_million=8,
                       cached_input_per_million=0.2,
                       cache_write_input_per_million=2.5)
    assert price_call("openai/mine", usage, with_rate).usd == pytest.approx(
        (300 * 2 + 200 * 0.2 + 500 * 2.5 + 100 * 8) / M)
    without = Prices(input_per_million=2, output_per_million=8)
    assert price_call("openai/mine", usage, without).usd is None
    assert price_call("openai/mine", Usage(1000, 100), without).usd == pytest.approx(
        (1000 * 2 + 100 * 8) / M)


def test_writes_beyond_the_prompt_are_capped() -> None:
    prices = Prices(input_per_million=1, output_per_million=1,
                    cached_input_per_million=0.5, cache_write_input_per_million=4)
    usage = Usage(100, 0, cached_tokens=60, cache_write_tokens=90)
    assert price_call("openai/mine", usage, prices).usd == pytest.approx(
        (60 * 0.5 + 40 * 4) / M)


def test_negative_write_override_refused() -> None:
    with pytest.raises(PricingError, match="cache_write_input_per_million=-2"):
        Prices(input_per_million=1, output_per_million=1,
               cache_write_input_per_million=-2)


def test_a_misspelt_write_price_key_in_a_suite_gets_a_hint(tmp_path) -> None:
    from conftest import tiny_suite_data, write_suite
    from mre_eval.errors import SuiteError
    from mre_eval.suite_loader import load_suite

    data = tiny_suite_data("http://127.0.0.1:9/v1")
    data["models"][0]["price"] = {"input_per_million": 1, "output_per_million": 2,
                                  "cache_write_per_million": 3}
    with pytest.raises(SuiteError,
                       match="did you mean 'cache_write_input_per_million'"):
        load_suite(write_suite(tmp_path, data))
    data["models"][0]["price"] = {"input_per_million": 1, "output_per_million": 2,
                                  "cache_write_input_per_million": -1}
    with pytest.raises(SuiteError, match="cache_write_input_per_million"):
        load_suite(write_suite(tmp_path, data))
    data["models"][0]["price"]["cache_write_input_per_million"] = 3.75
    suite = load_suite(write_suite(tmp_path, data))
    assert suite.models[0].price.prices().cache_write_input_per_million == 3.75


# --- registered models ---------------------------------------------------

def _entry(input_usd: float, output_usd: float, **more: float) -> dict:
    return {"input_cost_per_token": input_usd, "output_cost_per_token": output_usd,
            "litellm_provider": "openai", "mode": "chat", **more}


def test_a_model_registered_after_a_miss_is_priced(registered) -> None:
    name = "openai/mre-test-private-late"
    assert price_call(name, Usage(1000, 100)).usd is None
    registered(name, _entry(1e-6, 4e-6))
    assert price_call(name, Usage(1000, 100)).usd == pytest.approx(
        (1000 * 1 + 100 * 4) / M)


def test_a_re_registered_price_replaces_the_first_one(registered) -> None:
    name = "openai/mre-test-private-repriced"
    registered(name, _entry(1e-6, 4e-6))
    assert map_prices(name).input_per_million == pytest.approx(1)
    registered(name, _entry(3e-6, 4e-6, cache_creation_input_token_cost=5e-6))
    prices = map_prices(name)
    assert prices.input_per_million == pytest.approx(3)
    assert prices.cache_write_input_per_million == pytest.approx(5)


def test_a_model_is_looked_up_once_while_the_map_is_unchanged(
        monkeypatch: pytest.MonkeyPatch, registered) -> None:
    from mre_eval import pricing

    name = "openai/mre-test-private-memo"
    registered(name, _entry(1e-6, 2e-6))
    map_prices(name)
    map_prices("openai/mre-test-no-such-model")
    looked_up: list[str] = []
    real = pricing._model_info
    monkeypatch.setattr(pricing, "_model_info",
                        lambda model: looked_up.append(model) or real(model))
    for _ in range(100):
        map_prices(name)
        map_prices("openai/mre-test-no-such-model")
    assert looked_up == []
    registered("openai/mre-test-no-such-model", _entry(1e-6, 2e-6))
    assert map_prices("openai/mre-test-no-such-model") is not None
    assert "openai/mre-test-no-such-model" in looked_up
