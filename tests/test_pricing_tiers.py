"""Long-context price tiers: the map's ``*_above_<n>k_tokens`` rates."""

from __future__ import annotations

import pytest

from mre_eval.llm import litellm_module
from mre_eval.pricing import Prices, PriceTier, map_prices, price_call
from mre_eval.usage import Usage

# Claude Sonnet 4.5 on Bedrock: every rate, cache writes included, has a tier
BEDROCK_CLAUDE = "anthropic.claude-sonnet-4-5-20250929-v1:0"


def _litellm_cost(model: str, usage: Usage) -> float:
    from litellm.types.utils import CompletionTokensDetailsWrapper
    from litellm.types.utils import PromptTokensDetailsWrapper
    from litellm.types.utils import Usage as LitellmUsage

    litellm = litellm_module()
    details = PromptTokensDetailsWrapper(
        cached_tokens=usage.cached_tokens,
        cache_creation_tokens=usage.cache_write_tokens)
    block = LitellmUsage(
        prompt_tokens=usage.input_tokens, completion_tokens=usage.output_tokens,
        total_tokens=usage.input_tokens + usage.output_tokens,
        prompt_tokens_details=details,
        completion_tokens_details=CompletionTokensDetailsWrapper(
            reasoning_tokens=usage.reasoning_tokens) if usage.reasoning_tokens
        else None)
    prompt_usd, completion_usd = litellm.cost_per_token(model=model,
                                                        usage_object=block)
    return prompt_usd + completion_usd


def _by_hand(info: dict, tier: str | None, usage: Usage) -> float:
    # every token at the tier's rate, the flat rate where the tier has none
    def rate(key: str) -> float:
        if tier is not None and f"{key}_above_{tier}_tokens" in info:
            return info[f"{key}_above_{tier}_tokens"]
        return info[key]

    plain = usage.input_tokens - usage.cached_tokens - usage.cache_write_tokens
    counts = {"input_cost_per_token": plain,
              "cache_read_input_token_cost": usage.cached_tokens,
              "cache_creation_input_token_cost": usage.cache_write_tokens,
              "output_cost_per_token": usage.output_tokens}
    return sum(tokens * rate(key) for key, tokens in counts.items() if tokens)


@pytest.mark.parametrize(
    ("model", "usage", "tier"),
    [
        pytest.param("gemini-2.5-pro", Usage(250_000, 1_000, cached_tokens=40_000),
                     "200k", id="gemini-above-200k-with-cache-reads"),
        pytest.param("gemini-2.5-pro", Usage(200_000, 1_000), None,
                     id="gemini-at-the-threshold-stays-below"),
        pytest.param("gemini-2.5-pro", Usage(200_001, 1_000), "200k",
                     id="gemini-one-token-above"),
        pytest.param("gpt-5.4", Usage(300_000, 2_000, cached_tokens=100_000),
                     "272k", id="openai-above-272k"),
        pytest.param(BEDROCK_CLAUDE,
                     Usage(250_000, 500, cached_tokens=20_000,
                           cache_write_tokens=100_000),
                     "200k", id="claude-writes-above-200k"),
        pytest.param(BEDROCK_CLAUDE,
                     Usage(150_000, 500, cached_tokens=20_000,
                           cache_write_tokens=100_000),
                     None, id="claude-writes-below-200k"),
    ])
def test_a_long_prompt_is_charged_at_its_tier(model: str, usage: Usage,
                                               tier: str | None) -> None:
    info = litellm_module().model_cost[model]
    expected = _by_hand(info, tier, usage)

    cost = price_call(model, usage)
    assert cost.usd == pytest.approx(expected, rel=1e-12)
    assert cost.usd == pytest.approx(_litellm_cost(model, usage), rel=1e-12)


def test_the_tier_raises_the_whole_call_not_only_the_tokens_above() -> None:
    info = litellm_module().model_cost["gemini-2.5-pro"]
    below = price_call("gemini-2.5-pro", Usage(200_000, 0)).usd
    above = price_call("gemini-2.5-pro", Usage(200_001, 0)).usd
    assert above == pytest.approx(
        200_001 * info["input_cost_per_token_above_200k_tokens"], rel=1e-12)
    assert above > 1.5 * below


def test_the_highest_threshold_passed_decides() -> None:
    # this entry has a 32k and a 256k tier and no cache rates
    model = "kyma/qwen3.7-flash"
    info = litellm_module().model_cost[model]
    for prompt, tier in ((30_000, None), (40_000, "32k"), (300_000, "256k")):
        usage = Usage(prompt, 100)
        expected = (prompt * info[f"input_cost_per_token_above_{tier}_tokens"
                                  if tier else "input_cost_per_token"]
                    + 100 * info[f"output_cost_per_token_above_{tier}_tokens"
                                 if tier else "output_cost_per_token"])
        assert price_call(model, usage).usd == pytest.approx(expected, rel=1e-12)
        assert price_call(model, usage).usd == pytest.approx(
            _litellm_cost(model, usage), rel=1e-12)


def test_xai_bills_its_tier_from_the_threshold_itself() -> None:
    model = "xai/grok-4.3"
    info = litellm_module().model_cost[model]
    usage = Usage(200_000, 10)
    expected = (200_000 * info["input_cost_per_token_above_200k_tokens"]
                + 10 * info["output_cost_per_token_above_200k_tokens"])
    assert price_call(model, usage).usd == pytest.approx(expected, rel=1e-12)
    assert price_call(model, usage).usd == pytest.approx(
        _litellm_cost(model, usage), rel=1e-12)


@pytest.fixture
def tiered_reasoner():
    # no entry of the pinned map has a reasoning rate apart from its output
    # rate and a text tier, so one is registered for the test
    litellm = litellm_module()
    name = "openai/mre-test-tiered-reasoner"
    litellm.register_model({name: {
        "litellm_provider": "openai", "mode": "chat",
        "input_cost_per_token": 1e-6, "output_cost_per_token": 4e-6,
        "output_cost_per_reasoning_token": 6e-6,
        "cache_read_input_token_cost": 1e-7,
        "input_cost_per_token_above_100k_tokens": 2e-6,
        "output_cost_per_token_above_100k_tokens": 8e-6}})
    yield name
    litellm.model_cost.pop(name, None)


def test_a_flat_reasoning_rate_stays_flat_in_a_tier(tiered_reasoner: str) -> None:
    usage = Usage(150_000, 3_000, cached_tokens=1_000, reasoning_tokens=2_000)
    expected = (149_000 * 2 + 1_000 * 0.1 + 1_000 * 8 + 2_000 * 6) / 1e6
    assert price_call(tiered_reasoner, usage).usd == pytest.approx(expected)
    assert price_call(tiered_reasoner, usage).usd == pytest.approx(
        _litellm_cost(tiered_reasoner, usage), rel=1e-12)


def test_service_tier_rates_are_not_long_context_tiers() -> None:
    prices = map_prices("gemini-2.5-pro")
    assert [tier.above_tokens for tier in prices.tiers] == [200_000]
    info = litellm_module().model_cost["gemini-2.5-pro"]
    assert prices.tiers[0].prices.input_per_million == pytest.approx(
        info["input_cost_per_token_above_200k_tokens"] * 1e6)


def test_an_override_tier_applies_to_every_rate() -> None:
    long = Prices(input_per_million=2, output_per_million=8,
                  cached_input_per_million=0.2)
    prices = Prices(input_per_million=1, output_per_million=4,
                    cached_input_per_million=0.1,
                    tiers=(PriceTier(above_tokens=1_000, prices=long),))
    usage = Usage(1_001, 10, cached_tokens=501)
    assert price_call("openai/local", usage, prices).usd == pytest.approx(
        (500 * 2 + 501 * 0.2 + 10 * 8) / 1e6)
    assert price_call("openai/local", Usage(1_000, 10), prices).usd == pytest.approx(
        (1_000 * 1 + 10 * 4) / 1e6)
