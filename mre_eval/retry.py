"""The one retry layer: exponential backoff with jitter, Retry-After honoured.

Only this module retries model calls.  The openai SDK under litellm is asked
for ``max_retries=0`` and litellm's own retries are left off, so a failing call
is tried exactly ``retries + 1`` times at most and the attempt count in the
results is the true number of requests sent.

What is retried: rate limits (429), server errors (5xx, which is also what
litellm reports for a refused connection or a body that is not JSON),
timeouts (408 and client-side) and connection errors.  Any other 4xx means the
request itself is wrong and is raised at once.
"""

from __future__ import annotations

import asyncio
import datetime
import email.utils
import functools
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from mre_eval.errors import ConfigError

log = logging.getLogger(__name__)

T = TypeVar("T")

Sleep = Callable[[float], Awaitable[Any]]

_RETRYABLE_STATUS = frozenset({408, 429})


class TransientError(Exception):
    """A fault worth another attempt that carries no HTTP status.

    Raised by callers for answers that arrived but cannot be used, such as a
    completion with no choices.
    """


class RetryPolicy:
    """Retries a call on transient faults with capped, jittered backoff.

    The delay before retry ``n`` is drawn from ``[d/2, d]`` where
    ``d = min(cap_s, base_s * 2 ** (n - 1))``: it doubles each time, never
    collapses to zero during a rate-limit storm, and spreads concurrent
    callers apart.  A ``Retry-After`` (or ``retry-after-ms``) header on the
    error replaces the computed delay, capped at ``cap_s``.

    Args:
        retries: retries after the first attempt; 0 tries once.
        base_s: the first backoff delay, in seconds.
        cap_s: the longest a single wait may be, in seconds.
        seed: seeds the jitter, for reproducible delays.
        sleep: the coroutine that waits; tests pass one that only records.
        clock: seconds since the epoch, for ``Retry-After`` HTTP dates.

    Raises:
        ConfigError: a setting is negative.
    """

    def __init__(
        self,
        retries: int = 4,
        base_s: float = 0.5,
        cap_s: float = 30.0,
        seed: int | None = None,
        *,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if retries < 0 or base_s < 0 or cap_s < 0:
            raise ConfigError(
                f"retries={retries}, base_s={base_s}, cap_s={cap_s}: each must be "
                "zero or more; set run.retries in the suite to 0 or more")
        self.retries = retries
        self.base_s = base_s
        self.cap_s = cap_s
        self._rng = random.Random(seed)
        self._sleep = sleep
        self._clock = clock
        self._announced: set[str] = set()

    async def call(self, fn: Callable[[], Awaitable[T]]) -> tuple[T, int]:
        """Await ``fn()`` until it succeeds or may not be retried.

        Args:
            fn: makes one attempt; called afresh for every attempt.

        Returns:
            The result and the number of attempts it took.

        Raises:
            Exception: the last error, when it is not retryable or the
                retries are used up.
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                return await fn(), attempt
            except Exception as exc:
                if attempt > self.retries or not self.is_retryable(exc):
                    raise
                wait = self.delay(attempt, exc)
                self._log_retry(attempt, exc, wait)
            await self._sleep(wait)

    def _log_retry(self, attempt: int, exc: Exception, wait: float) -> None:
        # the first retry of each kind of fault is news; the rest is detail
        kind = type(exc).__name__
        level = logging.DEBUG if kind in self._announced else logging.INFO
        self._announced.add(kind)
        log.log(level, "%s on attempt %d; retrying in %.1fs (later %s retries "
                "are logged at debug level)", kind, attempt, wait, kind)

    def is_retryable(self, exc: BaseException) -> bool:
        """Whether ``exc`` is a transient fault worth another attempt."""
        if isinstance(exc, TransientError):
            return True
        status = getattr(exc, "status_code", None)
        if isinstance(status, int):
            return status in _RETRYABLE_STATUS or 500 <= status <= 599
        return isinstance(exc, _transport_errors())

    def delay(self, attempt: int, exc: BaseException | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (from 1).

        A ``Retry-After`` on ``exc`` wins over the backoff; both are capped.
        """
        asked = retry_after_s(exc, self._clock()) if exc is not None else None
        if asked is not None:
            return min(self.cap_s, asked)
        ceiling = min(self.cap_s, self.base_s * 2 ** (attempt - 1))
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)


def retry_after_s(exc: BaseException, now: float) -> float | None:
    """The wait a server asked for on ``exc``, in seconds, or ``None``.

    Reads ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date) from
    the error's response headers, where the openai SDK keeps them, or from
    ``litellm_response_headers``, where litellm copies them.
    """
    for headers in _headers_of(exc):
        millis = _number(headers.get("retry-after-ms"))
        if millis is not None:
            return max(0.0, millis / 1000)
        value = headers.get("retry-after")
        if value is None:
            continue
        seconds = _number(value)
        if seconds is None:
            seconds = _seconds_until(value, now)
        if seconds is not None:
            return max(0.0, seconds)
    return None


def _headers_of(exc: BaseException) -> list[Mapping[str, str]]:
    found = []
    response = getattr(exc, "response", None)
    for headers in (getattr(response, "headers", None),
                    getattr(exc, "litellm_response_headers", None)):
        if headers is None:
            continue
        if isinstance(headers, dict):  # a plain dict is case-sensitive
            headers = {str(k).lower(): v for k, v in headers.items()}
        found.append(headers)
    return found


def _number(value: object) -> float | None:
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if number == number and number != float("inf") else None


def _seconds_until(http_date: str, now: float) -> float | None:
    try:
        moment = email.utils.parsedate_to_datetime(http_date)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:  # "-0000" parses as naive; HTTP dates are GMT
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp() - now


@functools.cache
def _transport_errors() -> tuple[type[BaseException], ...]:
    """Error types that mean the request never got an answer."""
    import httpx

    kinds: list[type[BaseException]] = [TimeoutError, ConnectionError,
                                        httpx.TransportError]
    try:
        import openai
    except ImportError:  # litellm always brings it; guard for partial installs
        return tuple(kinds)
    return (*kinds, openai.APIConnectionError)
