"""The retry layer: what is retried, how often, and how long it waits."""

from __future__ import annotations

import asyncio
import email.utils
import logging
from types import SimpleNamespace

import httpx
import pytest

from mre_eval.errors import ConfigError
from mre_eval.retry import RetryPolicy, TransientError, retry_after_s


class StatusError(Exception):
    """An error shaped like litellm's: a status code and response headers."""

    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"status {status}")
        self.status_code = status
        self.response = SimpleNamespace(headers=httpx.Headers(headers or {}))


class Recorder:
    """A sleep that only records what it was asked to wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def failing(errors: list[BaseException], result: str = "ok"):
    """A call that raises ``errors`` in turn, then returns ``result``."""
    calls = []

    async def fn() -> str:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return result

    return fn, calls


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (StatusError(429), True),
        (StatusError(500), True),
        (StatusError(502), True),
        (StatusError(503), True),
        (StatusError(408), True),
        (StatusError(400), False),
        (StatusError(401), False),
        (StatusError(404), False),
        (StatusError(422), False),
        (TimeoutError(), True),
        (ConnectionRefusedError(), True),
        (httpx.ConnectError("refused"), True),
        (TransientError("no choices"), True),
        (ValueError("bug"), False),
    ],
    ids=["429", "500", "502", "503", "408", "400", "401", "404", "422",
         "timeout", "refused", "httpx-connect", "transient", "value-error"],
)
def test_is_retryable(exc: BaseException, expected: bool) -> None:
    assert RetryPolicy().is_retryable(exc) is expected


@pytest.mark.parametrize("failures", [0, 1, 3], ids=["first-try", "one", "three"])
def test_call_retries_until_success(failures: int) -> None:
    sleep = Recorder()
    fn, calls = failing([StatusError(429)] * failures)

    result, attempts = asyncio.run(RetryPolicy(retries=4, sleep=sleep).call(fn))

    assert (result, attempts) == ("ok", failures + 1)
    assert len(calls) == failures + 1
    assert len(sleep.waits) == failures


def test_call_reraises_last_error_when_out_of_retries() -> None:
    sleep = Recorder()
    fn, calls = failing([StatusError(500), StatusError(500), StatusError(503)])

    with pytest.raises(StatusError, match="status 503"):
        asyncio.run(RetryPolicy(retries=2, sleep=sleep).call(fn))

    assert len(calls) == 3
    assert len(sleep.waits) == 2


def test_call_does_not_retry_a_client_error() -> None:
    sleep = Recorder()
    fn, calls = failing([StatusError(400)])

    with pytest.raises(StatusError, match="status 400"):
        asyncio.run(RetryPolicy(retries=4, sleep=sleep).call(fn))

    assert len(calls) == 1
    assert sleep.waits == []


def test_zero_retries_tries_once() -> None:
    fn, calls = failing([StatusError(429)])

    with pytest.raises(StatusError):
        asyncio.run(RetryPolicy(retries=0, sleep=Recorder()).call(fn))

    assert len(calls) == 1


def test_cancellation_is_never_retried() -> None:
    fn, calls = failing([asyncio.CancelledError()])

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(RetryPolicy(retries=4, sleep=Recorder()).call(fn))

    assert len(calls) == 1


def test_backoff_doubles_within_jitter_and_is_capped() -> None:
    policy = RetryPolicy(base_s=0.5, cap_s=3.0, seed=7)

    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (9, 3.0)]:
        wait = policy.delay(attempt, StatusError(500))
        assert ceiling / 2 <= wait <= ceiling, (attempt, wait)


def test_seed_makes_jitter_reproducible() -> None:
    first = [RetryPolicy(seed=3).delay(n) for n in range(1, 6)]
    again = [RetryPolicy(seed=3).delay(n) for n in range(1, 6)]
    other = [RetryPolicy(seed=4).delay(n) for n in range(1, 6)]

    assert first == again
    assert first != other


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"Retry-After": "2.5"}, 2.5),
        ({"Retry-After": "600"}, 30.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"Retry-After": "-3"}, 0.0),
    ],
    ids=["seconds", "fraction", "capped", "milliseconds", "negative"],
)
def test_delay_honours_retry_after(headers: dict[str, str], expected: float) -> None:
    policy = RetryPolicy(cap_s=30.0, seed=1)

    assert policy.delay(1, StatusError(429, headers)) == pytest.approx(expected)


def test_delay_honours_retry_after_http_date() -> None:
    now = 1_800_000_000.0
    date = email.utils.formatdate(now + 12, usegmt=True)
    policy = RetryPolicy(cap_s=30.0, clock=lambda: now)

    assert policy.delay(1, StatusError(503, {"Retry-After": date})) == 12.0


def test_unreadable_retry_after_falls_back_to_backoff() -> None:
    policy = RetryPolicy(base_s=0.5, seed=1)

    wait = policy.delay(1, StatusError(429, {"Retry-After": "soon"}))

    assert 0.25 <= wait <= 0.5


def test_retry_after_read_from_litellm_response_headers() -> None:
    exc = Exception("rate limited")
    exc.litellm_response_headers = {"Retry-After": "4"}  # type: ignore[attr-defined]

    assert retry_after_s(exc, now=0.0) == 4.0


def test_call_sleeps_what_the_server_asked() -> None:
    sleep = Recorder()
    fn, _ = failing([StatusError(429, {"Retry-After": "9"}), StatusError(500)])

    asyncio.run(RetryPolicy(retries=3, base_s=0.5, seed=2, sleep=sleep).call(fn))

    assert sleep.waits[0] == 9.0
    assert 0.5 <= sleep.waits[1] <= 1.0


@pytest.mark.parametrize("bad", [{"retries": -1}, {"base_s": -0.1}, {"cap_s": -1}],
                         ids=["retries", "base", "cap"])
def test_negative_settings_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ConfigError, match="must be zero or more"):
        RetryPolicy(**bad)  # type: ignore[arg-type]


def test_first_retry_of_a_kind_is_logged_once(
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    fn, _ = failing([StatusError(429)] * 3)
    # the CLI's log setup, if a test ran it, stops propagation to pytest
    monkeypatch.setattr(logging.getLogger("mre_eval"), "propagate", True)

    with caplog.at_level("INFO", logger="mre_eval.retry"):
        asyncio.run(RetryPolicy(retries=4, sleep=Recorder()).call(fn))

    infos = [r for r in caplog.records if r.levelname == "INFO"]
    assert len(infos) == 1 and "StatusError on attempt 1" in infos[0].getMessage()
