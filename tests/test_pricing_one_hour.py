"""One-hour prompt-cache writes: read from litellm's usage, priced at their rate."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from mre_eval import pricing
from mre_eval.errors import SuiteError
from mre_eval.llm import litellm_module
from mre_eval.pricing import Prices, price_call
from mre_eval.suite_loader import load_suite
from mre_eval.usage import Usage, usage_of

CLAUDE = "claude-sonnet-4-5"
# Claude Sonnet 4.5 on Bedrock: its one-hour write rate has a 200k tier
BEDROCK_CLAUDE = "anthropic.claude-sonnet-4-5-20250929-v1:0"
# a Claude model the map gives a write rate but no one-hour rate
NO_1H_RATE = "anthropic.claude-3-7-sonnet-20250219-v1:0"

# what litellm builds from an Anthropic reply: the lifetimes of the writes
# sit in prompt_tokens_details.cache_creation_token_details
REPLY_USAGE = {
    "prompt_tokens": 12_000, "completion_tokens": 300, "total_tokens": 12_300,
    "prompt_tokens_details": {
        "cached_tokens": 2_000, "cache_creation_tokens": 9_000,
        "cache_creation_token_details": {"ephemeral_5m_input_tokens": 3_000,
                                         "ephemeral_1h_input_tokens": 6_000}}}


def _by_hand(info: dict, plain: int, cached: int, five_min: int, one_hour: int,
             output: int, tier: str = "") -> float:
    def rate(key: str) -> float:
        return info.get(f"{key}{tier}", info[key])

    return (plain * rate("input_cost_per_token")
            + cached * rate("cache_read_input_token_cost")
            + five_min * rate("cache_creation_input_token_cost")
            + one_hour * rate("cache_creation_input_token_cost_above_1hr")
            + output * rate("output_cost_per_token"))


def _mock_call(usage: dict) -> object:
    litellm = litellm_module()
    return litellm.completion(
        model=f"anthropic/{CLAUDE}", messages=[{"role": "user", "content": "hi"}],
        mock_response={"choices": [{"message": {"role": "assistant",
                                                "content": "ok"}}],
                       "usage": usage})


def test_a_mocked_claude_call_prices_its_one_hour_writes() -> None:
    info = litellm_module().model_cost[CLAUDE]
    response = _mock_call(REPLY_USAGE)

    usage = usage_of(response)
    assert (usage.input_tokens, usage.cached_tokens, usage.cache_write_tokens,
            usage.cache_write_1h_tokens) == (12_000, 2_000, 9_000, 6_000)
    cost = price_call(CLAUDE, usage)
    expected = _by_hand(info, plain=1_000, cached=2_000, five_min=3_000,
                        one_hour=6_000, output=300)
    assert cost.usd == pytest.approx(expected, rel=1e-12)
    assert cost.source == "price_map"
    # litellm's own figure for the same reply agrees
    assert response._hidden_params["response_cost"] == pytest.approx(
        expected, rel=1e-12)
    # and is above what the five-minute rate alone would have reported
    assert expected > _by_hand(info, 1_000, 2_000, 9_000, 0, 300)


def test_an_anthropic_usage_block_through_litellm_keeps_the_split() -> None:
    litellm = litellm_module()
    block = {"input_tokens": 1_000, "output_tokens": 300,
             "cache_read_input_tokens": 2_000, "cache_creation_input_tokens": 9_000,
             "cache_creation": {"ephemeral_5m_input_tokens": 3_000,
                                "ephemeral_1h_input_tokens": 6_000}}
    converted = litellm.AnthropicConfig().calculate_usage(
        usage_object=block, reasoning_content=None)

    from_litellm = usage_of({"usage": converted})
    from_raw = usage_of({"usage": {**block, "prompt_tokens": 12_000,
                                   "completion_tokens": 300}})
    assert from_litellm == Usage(12_000, 300, 2_000, 0, 9_000, 6_000)
    # the raw block, as Anthropic sends it, names the same one-hour part
    assert (from_raw.cache_write_tokens, from_raw.cache_write_1h_tokens) == (
        9_000, 6_000)
    prompt_usd, completion_usd = litellm.cost_per_token(model=CLAUDE,
                                                        usage_object=converted)
    assert price_call(CLAUDE, from_litellm).usd == pytest.approx(
        prompt_usd + completion_usd, rel=1e-12)


def test_one_hour_writes_past_a_long_context_threshold_take_its_rate() -> None:
    litellm = litellm_module()
    info = litellm.model_cost[BEDROCK_CLAUDE]
    assert "cache_creation_input_token_cost_above_1hr_above_200k_tokens" in info
    usage = Usage(250_000, 500, cached_tokens=20_000, cache_write_tokens=100_000,
                  cache_write_1h_tokens=70_000)

    expected = _by_hand(info, plain=130_000, cached=20_000, five_min=30_000,
                        one_hour=70_000, output=500, tier="_above_200k_tokens")
    assert price_call(BEDROCK_CLAUDE, usage).usd == pytest.approx(expected,
                                                                  rel=1e-12)


def test_one_hour_writes_without_a_one_hour_rate_are_unpriced_and_warned(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(pricing, "_warned_write_rate", set())
    assert litellm_module().model_cost[NO_1H_RATE].get(
        "cache_creation_input_token_cost_above_1hr") is None

    with caplog.at_level(logging.WARNING, logger="mre_eval.pricing"):
        cost = price_call(NO_1H_RATE, Usage(10_000, 100, cache_write_tokens=5_000,
                                            cache_write_1h_tokens=1_000))
        price_call(NO_1H_RATE, Usage(10_000, 100, cache_write_tokens=5_000,
                                     cache_write_1h_tokens=1_000))

    assert cost.usd is None and not cost.priced
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "one-hour" in warnings[0]
    assert "cache_write_1h_input_per_million" in warnings[0]
    # five-minute writes alone on the same model are still priced
    assert price_call(NO_1H_RATE, Usage(10_000, 100,
                                        cache_write_tokens=5_000)).priced


def test_writes_whose_lifetime_was_not_recorded_take_the_five_minute_rate() -> None:
    info = litellm_module().model_cost[CLAUDE]
    unknown = Usage(12_000, 300, 2_000, 0, 9_000, cache_write_1h_tokens=None)

    expected = _by_hand(info, 1_000, 2_000, 9_000, 0, 300)
    assert price_call(CLAUDE, unknown).usd == pytest.approx(expected, rel=1e-12)
    assert price_call(CLAUDE, unknown) == price_call(
        CLAUDE, Usage(12_000, 300, 2_000, 0, 9_000))


def test_one_hour_writes_never_exceed_the_writes() -> None:
    info = litellm_module().model_cost[CLAUDE]
    # a block that reports more one-hour writes than writes: all are one-hour
    usage = usage_of({"usage": {"prompt_tokens": 5_000, "completion_tokens": 0,
                                "cache_creation": {"ephemeral_1h_input_tokens":
                                                   4_000}}})

    assert (usage.cache_write_tokens, usage.cache_write_1h_tokens) == (4_000, 4_000)
    assert price_call(CLAUDE, usage).usd == pytest.approx(
        _by_hand(info, 1_000, 0, 0, 4_000, 0), rel=1e-12)


@pytest.mark.parametrize(
    ("override", "usd"),
    [
        pytest.param(Prices(1.0, 2.0, cache_write_input_per_million=1.25,
                            cache_write_1h_input_per_million=2.0),
                     (1_000 * 1.0 + 3_000 * 1.25 + 6_000 * 2.0 + 300 * 2.0) / 1e6,
                     id="with-a-one-hour-rate"),
        pytest.param(Prices(1.0, 2.0, cache_write_input_per_million=1.25), None,
                     id="without-one-is-unpriced"),
    ],
)
def test_an_override_prices_one_hour_writes(override: Prices,
                                            usd: float | None) -> None:
    usage = Usage(10_000, 300, cache_write_tokens=9_000, cache_write_1h_tokens=6_000)

    cost = price_call("openai/my-model", usage, override)
    assert cost.usd == (None if usd is None else pytest.approx(usd, rel=1e-12))


def test_self_hosted_one_hour_writes_cost_the_input_rate(registered) -> None:
    registered("ollama/onehour-test", {
        "input_cost_per_token": 1e-7, "output_cost_per_token": 2e-7,
        "litellm_provider": "ollama", "mode": "chat"})

    usage = Usage(1_000, 10, cache_write_tokens=600, cache_write_1h_tokens=600)
    assert price_call("ollama/onehour-test", usage).usd == pytest.approx(
        (1_000 * 1e-7 + 10 * 2e-7), rel=1e-12)


SUITE = """\
name: one-hour
dataset: {{path: data.jsonl, task_type: qa}}
task_types:
  - {{name: qa, grader: exact, threshold: 0.5}}
models:
  - model: openai/my-model
    api_base: http://127.0.0.1:8000/v1
    price: {{input_per_million: 1, output_per_million: 2,
             {key}: 2.5}}
prompts:
  - id: plain
"""


def _suite(tmp_path: Path, key: str) -> Path:
    (tmp_path / "data.jsonl").write_text('{"id": "a", "input": "x", '
                                         '"reference": "y"}\n')
    path = tmp_path / "suite.yaml"
    path.write_text(SUITE.format(key=key))
    return path


def test_a_suite_override_takes_the_one_hour_key(tmp_path: Path) -> None:
    suite = load_suite(_suite(tmp_path, "cache_write_1h_input_per_million"))

    prices = suite.models[0].price.prices()
    assert prices.cache_write_1h_input_per_million == 2.5


def test_a_misspelt_one_hour_key_gets_a_did_you_mean(tmp_path: Path) -> None:
    with pytest.raises(SuiteError,
                       match="did you mean 'cache_write_1h_input_per_million'"):
        load_suite(_suite(tmp_path, "cache_write_1hr_input_per_million"))
