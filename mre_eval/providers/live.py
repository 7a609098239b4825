"""Live model calls through ``litellm.acompletion``.

Every call has a timeout, goes through the one retry layer
(:class:`~mre_eval.retry.RetryPolicy`) with the openai SDK's own retries
switched off, and is priced from the usage the provider reports, with
litellm's pinned price map or the suite's override.  A call whose price is not
known costs ``None`` (unpriced), never zero.

A call that still fails after its retries does not raise: it comes back as an
outcome with ``error`` set, so one bad model never stops a run.  Error texts
are cut short and scrubbed of API keys before they reach results or logs.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import re
import sqlite3
import time
from typing import Any
from urllib.parse import urlparse

from mre_eval.cache import ResponseCache
from mre_eval.errors import ConfigError
from mre_eval.llm import litellm_module
from mre_eval.pricing import Cost, price_call
from mre_eval.providers.base import CallOutcome, CallRequest
from mre_eval.retry import RetryPolicy, TransientError
from mre_eval.suite import ModelSpec
from mre_eval.usage import Usage, usage_of

log = logging.getLogger(__name__)

# how long past the client timeout the hard stop on an attempt waits
TIMEOUT_GRACE_S = 1.0

MAX_ERROR_CHARS = 300

LOCAL_PLACEHOLDER_KEY = "no-key-for-local-server"

_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD", re.IGNORECASE)
_SECRET_SHAPES = re.compile(r"(Bearer\s+)\S+|\bsk-[A-Za-z0-9_\-]{6,}")


class LiveProvider:
    """Answers call requests with real model calls.

    Args:
        timeout_s: the timeout of one attempt, in seconds.
        retry: the retry policy every call goes through.
        cache: where finished calls are kept and looked up; ``None`` for none.
        run_id: the run paying for the calls.  A cached answer this same run
            paid for before it was interrupted is its own call, not a hit.
    """

    def __init__(self, timeout_s: float, retry: RetryPolicy,
                 cache: ResponseCache | None = None,
                 run_id: str | None = None) -> None:
        if not timeout_s > 0:
            raise ConfigError(
                f"timeout_s={timeout_s!r} is not allowed: a live call needs a "
                "timeout of more than 0 seconds; set run.timeout_s in the suite")
        self.timeout_s = timeout_s
        self.retry = retry
        self.cache = cache
        self.run_id = run_id

    async def complete(self, request: CallRequest) -> CallOutcome:
        """Answer one request from the cache or with a live call.

        Never raises for a failed call: the outcome's ``error`` says why.
        """
        model = request.model
        key = None
        if self.cache is not None:
            key = ResponseCache.key(model.model, model.api_base, request.messages,
                                    _key_params(request))
            hit = self._cached(key)
            if hit is not None:
                return self._own_call(self._repriced(hit, model))

        attempts = 0

        async def attempt() -> CallOutcome:
            nonlocal attempts
            attempts += 1
            return await self._call_once(request)

        try:
            outcome, _ = await self.retry.call(attempt)
        except Exception as exc:  # every failure becomes an error row
            error = describe_error(exc, attempts, _secrets(model))
            log.debug("%s failed for good: %s", model.name, error)
            return CallOutcome(response=None, error=error, attempts=attempts)

        outcome.attempts = attempts
        if key is not None:
            self._keep(key, outcome)
        return outcome

    def _cached(self, key: str) -> CallOutcome | None:
        try:
            return self.cache.get(key) if self.cache is not None else None
        except sqlite3.Error as exc:
            log.warning("response cache unreadable, calling instead: %s", exc)
            return None

    def _keep(self, key: str, outcome: CallOutcome) -> None:
        # a paid answer is returned even when it cannot be kept
        try:
            if self.cache is not None:
                self.cache.put(key, outcome, self.run_id)
        except sqlite3.Error as exc:
            log.warning("response cache could not store a call: %s", exc)

    async def _call_once(self, request: CallRequest) -> CallOutcome:
        model = request.model
        kwargs: dict[str, Any] = dict(request.params)
        kwargs.update(model=model.model, messages=request.messages,
                      timeout=self.timeout_s, max_retries=0)
        if model.api_base:
            kwargs["api_base"] = model.api_base
        if model.api_key_env:
            kwargs["api_key"] = os.environ.get(model.api_key_env)
        elif is_local_server(model.api_base):
            # the SDK insists on a key; a local server gets a placeholder,
            # never a hosted provider's key from the environment
            kwargs["api_key"] = LOCAL_PLACEHOLDER_KEY

        litellm = litellm_module()
        start = time.perf_counter()
        async with asyncio.timeout(self.timeout_s + TIMEOUT_GRACE_S):
            response = await litellm.acompletion(**kwargs)
        latency = time.perf_counter() - start
        return self._outcome(response, model, latency)

    def _outcome(self, response: Any, model: ModelSpec,
                 latency: float) -> CallOutcome:
        choices = getattr(response, "choices", None) or []
        if not choices:
            raise TransientError("the provider answered with no choices")
        content = getattr(getattr(choices[0], "message", None), "content", None)
        usage = usage_of(response)
        return CallOutcome(response=content or "", usage=usage,
                           cost=self.price(model, usage), latency_s=latency)

    def _own_call(self, hit: CallOutcome) -> CallOutcome:
        # this run paid for the answer before it was killed: recovered from
        # the cache, it is still one of the run's calls and part of its spend
        if self.run_id is not None and hit.paid_by_run == self.run_id:
            hit.cache_hit = False
        return hit

    def _repriced(self, hit: CallOutcome, model: ModelSpec) -> CallOutcome:
        # Priced at the suite's current prices: the same as the original
        # call's cost unless a price override was changed since.
        if hit.usage is not None and hit.usage.input_tokens is not None:
            hit.cost = self.price(model, hit.usage)
        return hit

    def price(self, model: ModelSpec, usage: Usage) -> Cost:
        """The cost of ``usage`` on ``model``: its override, else the price map."""
        override = model.price.prices() if model.price is not None else None
        return price_call(model.model, usage, override)


def missing_credentials(models: list[ModelSpec]) -> dict[str, list[str]]:
    """The environment variables each model still needs before it can be called.

    A model's ``api_key_env`` is what it needs when set; a model served on
    this machine (``api_base`` on localhost) with no ``api_key_env`` needs
    nothing; any other model needs what litellm's provider requires.

    Returns:
        Model name -> names of unset variables, for models missing any.
    """
    litellm = litellm_module()
    missing: dict[str, list[str]] = {}
    for model in models:
        if model.api_key_env:
            needed = [] if os.environ.get(model.api_key_env) else [model.api_key_env]
        elif is_local_server(model.api_base):
            needed = []
        else:
            check = litellm.validate_environment(model=model.model,
                                                 api_base=model.api_base)
            needed = list(check.get("missing_keys") or [])
        if needed:
            missing[model.name] = needed
    return missing


def check_routable(model: ModelSpec) -> None:
    """Make sure litellm knows which provider serves ``model``.

    Raises:
        ConfigError: litellm cannot route the model string.
    """
    litellm = litellm_module()
    try:
        litellm.get_llm_provider(model=model.model, api_base=model.api_base)
    except Exception as exc:  # litellm raises BadRequestError and others here
        raise ConfigError(
            f"model {model.model!r} ({model.name}) cannot be routed by litellm: "
            "a model string is provider/model, e.g. openai/gpt-4o-mini or "
            "anthropic/claude-sonnet-4-5; for an OpenAI-compatible server of "
            "your own write openai/<its model name> and set api_base"
        ) from exc


def describe_error(exc: BaseException, attempts: int, secrets: set[str]) -> str:
    """A short, key-free account of a failed call for the results table."""
    status = getattr(exc, "status_code", None)
    kind = type(exc).__name__ + (f" (HTTP {status})" if status else "")
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else "no message"
    # litellm repeats the class name: "litellm.X: X: OpenAIException - ..."
    text = text.removeprefix("litellm.")
    while text.startswith(f"{type(exc).__name__}: "):
        text = text.removeprefix(f"{type(exc).__name__}: ")
    plural = "s" if attempts != 1 else ""
    message = f"{kind} after {attempts} attempt{plural}: {text}"
    return scrub(message, secrets)[:MAX_ERROR_CHARS]


def scrub(text: str, secrets: set[str]) -> str:
    """``text`` with every secret value and key-shaped token masked."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 6:
            text = text.replace(secret, "***")
    return _SECRET_SHAPES.sub(lambda m: (m.group(1) or "") + "***", text)


def _key_params(request: CallRequest) -> dict[str, Any]:
    # Repeats sample the same request again: each repeat is its own cache
    # entry, or every repeat would replay the first one's answer.
    if request.repeat == 0:
        return request.params
    return {**request.params, "mre_eval_repeat": request.repeat}


def _secrets(model: ModelSpec) -> set[str]:
    names = {name for name in os.environ if _SECRET_NAME.search(name)}
    if model.api_key_env:
        names.add(model.api_key_env)
    return {os.environ[name] for name in names if os.environ.get(name)}


@functools.lru_cache(maxsize=256)
def is_local_server(api_base: str | None) -> bool:
    """Whether ``api_base`` names a server on this machine."""
    if not api_base:
        return False
    host = urlparse(api_base).hostname or ""
    return host in _LOCAL_HOSTS or host.startswith("127.")
