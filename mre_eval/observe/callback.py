"""The litellm callback: log every call a service makes, in one line.

::

    from mre_eval import observe
    observe.install("calls.jsonl")          # appends to litellm.callbacks

    await litellm.acompletion(model=..., messages=..., timeout=30,
                              metadata={"feature": "chat", "user_tier": "pro"})

``feature`` and ``user_tier`` are read from the call's ``metadata``, and
``metadata["tags"]`` (a dict, or a list of names) is kept as the record's tags.
Tokens come from the response's usage block (with its cached and reasoning
details) or litellm's standard logging payload.  The cost is priced by
:mod:`mre_eval.pricing` from litellm's bundled map; when the map has no price
the provider-reported cost is used if litellm computed one, else the call is
recorded as unpriced.  No exception ever leaves a hook.

Streaming calls are logged when litellm reports the finished stream, with
whatever usage it assembled; if the provider sent none, the record has no
tokens and is unpriced.  Only non-streaming calls are covered by the tests.
"""

from __future__ import annotations

import functools
import logging
from datetime import UTC, datetime
from typing import Any

from mre_eval.llm import litellm_module
from mre_eval.observe.context import configure
from mre_eval.observe.record import (CallRecord, messages_text, priced,
                                     request_hash, utc_now)
from mre_eval.observe.writer import RecordWriter
from mre_eval.pricing import Usage

log = logging.getLogger(__name__)


def install(path: str, *, keep_text: bool = False, **options: Any) -> Any:
    """Log every litellm call of this process to ``path``.

    Args:
        path: a ``.jsonl`` file, or a ``.sqlite``/``.db`` file.
        keep_text: also store each request's user text (off by default).
        **options: :class:`RecordWriter` options.

    Returns:
        The registered logger; :func:`uninstall` removes it.
    """
    litellm = litellm_module()
    logger = make_logger(configure(path, **options), keep_text=keep_text)
    litellm.callbacks.append(logger)
    return logger


def uninstall(logger: Any) -> None:
    """Stop ``logger`` receiving litellm calls and flush what it buffered."""
    litellm = litellm_module()
    litellm.logging_callback_manager.remove_callback_from_all_lists(logger)
    logger.writer.flush()


def make_logger(writer: RecordWriter, keep_text: bool = False) -> Any:
    """A litellm ``CustomLogger`` that writes call records to ``writer``."""
    return _logger_class()(writer, keep_text)


@functools.cache
def _logger_class() -> type:
    litellm_module()  # offline mode must be set before litellm's first import
    from litellm.integrations.custom_logger import CustomLogger

    class CostLogger(CustomLogger):  # type: ignore[misc]
        """Writes one :class:`CallRecord` per litellm call."""

        def __init__(self, writer: RecordWriter, keep_text: bool) -> None:
            super().__init__()
            self.writer = writer
            self.keep_text = keep_text
            # litellm keeps one logger per class and public str/bool/int
            # attributes: the path lets two loggers to two files coexist
            self.path = str(writer.path)
            self.logger_id = id(self)

        def log_success_event(self, kwargs: Any, response_obj: Any,
                              start_time: Any, end_time: Any) -> None:
            self._log(kwargs, response_obj, start_time, end_time, None)

        def log_failure_event(self, kwargs: Any, response_obj: Any,
                              start_time: Any, end_time: Any) -> None:
            self._log(kwargs, response_obj, start_time, end_time, _error(kwargs))

        async def async_log_success_event(self, kwargs: Any, response_obj: Any,
                                          start_time: Any, end_time: Any) -> None:
            self._log(kwargs, response_obj, start_time, end_time, None)

        async def async_log_failure_event(self, kwargs: Any, response_obj: Any,
                                          start_time: Any, end_time: Any) -> None:
            self._log(kwargs, response_obj, start_time, end_time, _error(kwargs))

        def _log(self, kwargs: Any, response_obj: Any, start_time: Any,
                 end_time: Any, error: str | None) -> None:
            try:
                record = build_record(kwargs, response_obj, start_time, end_time,
                                      error, self.keep_text)
                self.writer.write(record)
            except Exception:
                log.warning("could not log a litellm call", exc_info=True)

    return CostLogger


def build_record(kwargs: dict[str, Any], response_obj: Any, start_time: Any,
                 end_time: Any, error: str | None,
                 keep_text: bool = False) -> CallRecord:
    """Turn what litellm hands a logger into a :class:`CallRecord`."""
    payload = kwargs.get("standard_logging_object") or {}
    metadata = _metadata(kwargs)
    model = str(kwargs.get("model") or payload.get("model") or "unknown")
    usage = _usage(response_obj, payload, error)
    record = CallRecord(
        ts=_as_datetime(start_time) or utc_now(), model=model,
        feature=_text(metadata.get("feature")),
        user_tier=_text(metadata.get("user_tier")),
        tags=_tags(metadata.get("tags")), usage=usage,
        latency_s=_latency(start_time, end_time, payload),
        status="error" if error else "ok", error=error)
    record.cost = _cost(model, usage, payload)

    messages = kwargs.get("messages")
    if messages is not None:
        text = messages_text(messages)
        record.request_hash = request_hash(messages)
        record.request_chars = len(text)
        record.request_text = text if keep_text else None
    return record


def _metadata(kwargs: dict[str, Any]) -> dict[str, Any]:
    params = kwargs.get("litellm_params") or {}
    for candidate in (params.get("metadata"), kwargs.get("metadata")):
        if isinstance(candidate, dict) and candidate:
            return candidate
    return {}


def _usage(response_obj: Any, payload: dict[str, Any], error: str | None
           ) -> Usage | None:
    usage = getattr(response_obj, "usage", None)
    if usage is not None and getattr(usage, "prompt_tokens", None) is not None:
        cached = getattr(getattr(usage, "prompt_tokens_details", None),
                         "cached_tokens", None)
        reasoning = getattr(getattr(usage, "completion_tokens_details", None),
                            "reasoning_tokens", None)
        return Usage(int(usage.prompt_tokens), int(usage.completion_tokens or 0),
                     int(cached or 0), int(reasoning or 0))
    if error is None and payload.get("prompt_tokens") is not None:
        return Usage(int(payload["prompt_tokens"]),
                     int(payload.get("completion_tokens") or 0))
    return None  # a failed call reports no usage: its cost is unknown


def _cost(model: str, usage: Usage | None, payload: dict[str, Any]) -> Any:
    cost = priced(model, usage)
    reported = payload.get("response_cost")
    failed = payload.get("response_cost_failure_debug_info")
    if cost.usd is None and usage is not None and not failed \
            and isinstance(reported, int | float) and reported > 0:
        return priced(model, usage, float(reported))
    return cost


def _latency(start: Any, end: Any, payload: dict[str, Any]) -> float | None:
    started, ended = _as_datetime(start), _as_datetime(end)
    if started is not None and ended is not None:
        return max((ended - started).total_seconds(), 0.0)
    value = payload.get("response_time")
    return float(value) if isinstance(value, int | float) else None


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.astimezone(UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return None


def _error(kwargs: dict[str, Any]) -> str:
    exc = kwargs.get("exception")
    if exc is None:
        return "error"
    return f"{type(exc).__name__}: {exc}"[:500]


def _tags(value: Any) -> dict[str, str]:
    if isinstance(value, list | tuple):
        return {str(name): "true" for name in value}
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if v is not None}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
