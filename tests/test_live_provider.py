"""Live calls through litellm against the loopback stub server."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
from openai_stub import Fault, StubServer, openai_stub, refused_url  # noqa: F401

from mre_eval.cache import ResponseCache
from mre_eval.errors import ConfigError
from mre_eval.providers.base import CallOutcome, CallRequest
from mre_eval.providers.live import (LiveProvider, check_routable, describe_error,
                                     missing_credentials)
from mre_eval.retry import RetryPolicy
from mre_eval.suite import ModelSpec, PriceOverride

FAKE_KEY = "sk-test-DoNotLeak-0123456789"
KEY_ENV = "MRE_EVAL_TEST_API_KEY"


class Recorder:
    """A sleep that only records what it was asked to wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture(autouse=True)
def fake_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, FAKE_KEY)


def spec(stub: StubServer | None, model: str = "openai/gpt-4o-mini",
         **extra: object) -> ModelSpec:
    api_base = stub.url if stub is not None else refused_url()
    return ModelSpec(model=model, api_base=api_base, api_key_env=KEY_ENV, **extra)


def ask(model: ModelSpec, text: str = "What is 2+2?") -> CallRequest:
    return CallRequest(model=model, messages=[{"role": "user", "content": text}],
                       params={"temperature": 0, "max_tokens": 16},
                       example_id="e1", prompt_variant="plain", repeat=0)


def provider(retries: int = 2, timeout_s: float = 5.0,
             cache: ResponseCache | None = None,
             sleep: Recorder | None = None) -> LiveProvider:
    policy = RetryPolicy(retries=retries, seed=0, sleep=sleep or Recorder())
    return LiveProvider(timeout_s=timeout_s, retry=policy, cache=cache)


def run(live: LiveProvider, request: CallRequest) -> CallOutcome:
    return asyncio.run(live.complete(request))


def test_a_call_returns_text_usage_and_latency(openai_stub: StubServer) -> None:
    result = run(provider(), ask(spec(openai_stub)))

    assert result.error is None
    assert result.response == "echo: What is 2+2?"
    assert (result.usage.input_tokens, result.usage.output_tokens) == (1000, 200)
    assert result.latency_s is not None and result.latency_s > 0
    assert (result.attempts, result.cache_hit) == (1, False)


def test_the_request_carries_model_params_and_key(openai_stub: StubServer) -> None:
    run(provider(), ask(spec(openai_stub)))

    body = openai_stub.bodies[0]
    assert (body["model"], body["temperature"], body["max_tokens"]) == (
        "gpt-4o-mini", 0, 16)
    sent = {k.lower(): v for k, v in openai_stub.headers[0].items()}
    assert sent["authorization"] == f"Bearer {FAKE_KEY}"


def test_a_local_server_needs_no_key_and_never_gets_a_hosted_one(
        openai_stub: StubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    local = ModelSpec(model="openai/my-local-model", api_base=openai_stub.url)

    result = run(provider(), ask(local))

    assert result.error is None
    sent = {k.lower(): v for k, v in openai_stub.headers[0].items()}
    assert FAKE_KEY not in sent["authorization"]
    assert missing_credentials([local]) == {}


def test_cached_tokens_are_priced_at_the_cached_rate(openai_stub: StubServer) -> None:
    openai_stub.reply.cached_tokens = 400

    result = run(provider(), ask(spec(openai_stub)))

    # gpt-4o-mini: $0.15 input, $0.075 cached input, $0.60 output per 1M tokens
    expected = (600 * 0.15 + 400 * 0.075 + 200 * 0.60) / 1e6
    assert result.usage.cached_tokens == 400
    assert result.cost.usd == pytest.approx(expected)
    assert result.cost.source == "price_map"


def test_reasoning_tokens_use_the_override_reasoning_price(
        openai_stub: StubServer) -> None:
    openai_stub.reply.reasoning_tokens = 150
    price = PriceOverride(input_per_million=1.0, output_per_million=2.0,
                          reasoning_per_million=4.0)

    result = run(provider(), ask(spec(openai_stub, "openai/my-local-model",
                                      price=price)))

    assert result.usage.reasoning_tokens == 150
    assert result.cost.usd == pytest.approx((1000 * 1.0 + 50 * 2.0 + 150 * 4.0) / 1e6)
    assert result.cost.source == "override"


def test_an_unknown_price_is_unpriced_not_zero(openai_stub: StubServer) -> None:
    result = run(provider(), ask(spec(openai_stub, "openai/my-local-model")))

    assert result.response is not None and result.error is None
    assert result.cost.usd is None and result.cost.source is None


def test_a_price_override_replaces_the_price_map(openai_stub: StubServer) -> None:
    price = PriceOverride(input_per_million=10.0, output_per_million=30.0)

    result = run(provider(), ask(spec(openai_stub, price=price)))

    assert result.cost.usd == pytest.approx((1000 * 10.0 + 200 * 30.0) / 1e6)
    assert result.cost.source == "override"


@pytest.mark.parametrize(
    "faults",
    [
        [Fault(status=429), Fault(status=429)],
        [Fault(status=500)],
        [Fault(status=503), Fault(status=502)],
        [Fault(malformed=True)],
        [Fault(delay_s=1.5)],
    ],
    ids=["429x2", "500", "503-502", "malformed-body", "timeout"],
)
def test_transient_faults_are_retried(openai_stub: StubServer,
                                      faults: list[Fault]) -> None:
    openai_stub.script(*faults)

    result = run(provider(retries=2, timeout_s=0.5), ask(spec(openai_stub)))

    assert result.error is None and result.response == "echo: What is 2+2?"
    assert result.attempts == len(faults) + 1
    assert openai_stub.requests == len(faults) + 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422],
                         ids=lambda status: f"http-{status}")
def test_a_client_error_is_not_retried(openai_stub: StubServer, status: int) -> None:
    openai_stub.script(Fault(status=status))

    result = run(provider(retries=4), ask(spec(openai_stub)))

    assert result.response is None
    assert result.error is not None and f"HTTP {status}" in result.error
    assert (result.attempts, openai_stub.requests) == (1, 1)


def test_out_of_retries_gives_an_error_row(openai_stub: StubServer) -> None:
    openai_stub.script(*[Fault(status=429)] * 5)

    result = run(provider(retries=2), ask(spec(openai_stub)))

    assert result.response is None and result.cost.usd is None
    assert result.error.startswith("RateLimitError (HTTP 429) after 3 attempts")
    assert (result.attempts, openai_stub.requests) == (3, 3)


def test_connection_refused_is_retried_then_an_error_row() -> None:
    sleep = Recorder()

    result = run(provider(retries=2, sleep=sleep), ask(spec(None)))

    assert result.response is None and result.error is not None
    assert "Connection error" in result.error
    assert (result.attempts, len(sleep.waits)) == (3, 2)


def test_retry_after_from_the_server_is_honoured(openai_stub: StubServer) -> None:
    openai_stub.script(Fault(status=429, retry_after="7"), Fault(status=503))
    sleep = Recorder()

    result = run(provider(retries=3, sleep=sleep), ask(spec(openai_stub)))

    assert result.error is None
    assert sleep.waits[0] == 7.0
    assert sleep.waits[1] < 7.0


def test_keys_never_reach_outcomes(openai_stub: StubServer) -> None:
    # a provider that echoes the key back in its error, as some do
    echo = Fault(status=401, message=f"Incorrect API key provided: {FAKE_KEY}")
    openai_stub.script(echo)

    result = run(provider(), ask(spec(openai_stub)))

    assert openai_stub.requests == 1
    assert result.error is not None and "Incorrect API key" in result.error
    assert FAKE_KEY not in repr(result)
    assert FAKE_KEY[8:] not in repr(result)


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("Bearer abc.def-ghi", "abc.def-ghi"),
        ("key sk-proj-abcdefgh1234 refused", "sk-proj-abcdefgh1234"),
        ("the key was hunter22hunter22", "hunter22hunter22"),
    ],
    ids=["bearer", "sk-shape", "known-secret"],
)
def test_describe_error_scrubs_keys(text: str, leak: str) -> None:
    message = describe_error(RuntimeError(text), 1, {"hunter22hunter22"})

    assert leak not in message
    assert message.startswith("RuntimeError after 1 attempt: ")


def test_a_second_run_is_served_from_the_cache(openai_stub: StubServer,
                                               tmp_path: Path) -> None:
    openai_stub.reply.cached_tokens = 400
    request = ask(spec(openai_stub))

    with ResponseCache(tmp_path / "responses.sqlite") as cache:
        first = run(provider(cache=cache), request)
    with ResponseCache(tmp_path / "responses.sqlite") as cache:
        second = run(provider(cache=cache), request)

    assert openai_stub.requests == 1
    assert (first.cache_hit, second.cache_hit) == (False, True)
    assert second.response == first.response
    assert second.cost == first.cost and second.cost.usd is not None
    assert second.attempts == 0


def test_each_repeat_is_its_own_cache_entry(openai_stub: StubServer,
                                            tmp_path: Path) -> None:
    first = ask(spec(openai_stub))
    second = dataclasses.replace(first, repeat=1)

    with ResponseCache(tmp_path / "responses.sqlite") as cache:
        outcomes = [run(provider(cache=cache), r) for r in (first, second, second)]

    assert [o.cache_hit for o in outcomes] == [False, False, True]
    assert openai_stub.requests == 2


def test_failed_calls_are_not_cached(openai_stub: StubServer, tmp_path: Path) -> None:
    openai_stub.script(Fault(status=400))

    with ResponseCache(tmp_path / "responses.sqlite") as cache:
        failed = run(provider(cache=cache), ask(spec(openai_stub)))
        retried = run(provider(cache=cache), ask(spec(openai_stub)))

    assert failed.error is not None
    assert retried.error is None and not retried.cache_hit
    assert openai_stub.requests == 2


def test_missing_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("MRE_EVAL_UNSET_KEY", raising=False)
    models = [
        ModelSpec(model="openai/gpt-4o-mini", name="hosted"),
        ModelSpec(model="openai/gpt-4o", api_key_env="MRE_EVAL_UNSET_KEY"),
        ModelSpec(model="openai/gpt-4o", name="keyed", api_key_env=KEY_ENV),
        ModelSpec(model="openai/local", api_base="http://localhost:8080/v1"),
    ]

    assert missing_credentials(models) == {
        "hosted": ["OPENAI_API_KEY"],
        "openai/gpt-4o": ["MRE_EVAL_UNSET_KEY"],
    }


@pytest.mark.parametrize("model", ["gpt4-turbo-ish", "nosuchprovider/some-model"],
                         ids=["bare-unknown", "unknown-provider"])
def test_an_unroutable_model_is_a_config_error(model: str) -> None:
    with pytest.raises(ConfigError, match=r"cannot be routed.*openai/gpt-4o-mini"):
        check_routable(ModelSpec(model=model))


@pytest.mark.parametrize("model", ["openai/gpt-4o-mini", "gpt-4o", "openai/my-own"],
                         ids=["prefixed", "bare-known", "self-hosted"])
def test_a_routable_model_passes(model: str) -> None:
    assert check_routable(ModelSpec(model=model)) is None


def test_a_live_call_needs_a_timeout() -> None:
    with pytest.raises(ConfigError, match="timeout_s=0"):
        LiveProvider(timeout_s=0, retry=RetryPolicy())


def test_an_unusable_cache_does_not_lose_the_answer(openai_stub: StubServer,
                                                    tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "responses.sqlite")
    cache.close()  # every read and write now fails

    result = run(provider(cache=cache), ask(spec(openai_stub)))

    assert result.error is None and result.response == "echo: What is 2+2?"
    assert openai_stub.requests == 1
