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
:mod:`mre_eval.pricing` from litellm's bundled map, the one price
implementation of the project; a model the map has no price for is recorded
as unpriced (litellm's own ``response_cost`` is not used: it would be a second
pricing path).  A self-hosted or private model is priced once its prices are
registered with ``litellm.register_model``.  No exception ever leaves a hook.

Streaming calls are logged when the stream ends, tagged ``stream: true``,
with the usage litellm assembled.  When the provider sent no usage (OpenAI
sends it only with ``stream_options={"include_usage": True}``), litellm counts
the tokens itself with its tokenizer, so those counts and their cost are
litellm's estimate rather than the provider's bill.

The model is recorded as litellm's price map names it, provider prefix
included where the bare name would mean another vendor (see
:func:`model_name`).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from mre_eval.llm import litellm_module
from mre_eval.observe.context import configure
from mre_eval.observe.record import (CallRecord, messages_text, priced,
                                     request_hash, utc_now)
from mre_eval.observe.writer import RecordWriter
from mre_eval.usage import Usage, usage_of

log = logging.getLogger(__name__)


def install(path: str, *, keep_text: bool = False, **options: Any) -> Any:
    """Log every litellm call of this process to ``path``.

    Installing the same file again returns its logger (with the new
    ``keep_text`` and writer options) rather than logging each call twice.

    Args:
        path: a ``.jsonl`` file, or a ``.sqlite``/``.db`` file.
        keep_text: also store each request's user text (off by default).
        **options: :class:`RecordWriter` options.

    Returns:
        The registered logger; :func:`uninstall` removes it.
    """
    litellm = litellm_module()
    writer = configure(path, **options)
    for existing in litellm.callbacks:
        if isinstance(existing, _logger_class()) and \
                existing.writer.path.resolve() == writer.path.resolve():
            existing.writer, existing.keep_text = writer, keep_text
            return existing
    logger = make_logger(writer, keep_text=keep_text)
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
    model = model_name(kwargs, payload)
    usage = _usage(response_obj, payload, error)
    tags = _tags(metadata.get("tags"))
    if kwargs.get("stream"):
        tags["stream"] = "true"
    record = CallRecord(
        ts=_as_datetime(start_time) or utc_now(), model=model,
        feature=_text(metadata.get("feature")),
        user_tier=_text(metadata.get("user_tier")), tags=tags, usage=usage,
        latency_s=_latency(start_time, end_time, payload),
        status="error" if error else "ok", error=error)
    record.cost = priced(model, usage)

    messages = kwargs.get("messages")
    if messages is not None:
        text = messages_text(messages)
        record.request_hash = request_hash(messages)
        record.request_chars = len(text)
        record.request_text = text if keep_text else None
    return record


def model_name(kwargs: dict[str, Any], payload: dict[str, Any]) -> str:
    """The model as litellm's price map names it, with its provider when needed.

    litellm hands loggers the model without its provider prefix
    (``openrouter/openai/gpt-4o`` arrives as ``openai/gpt-4o``).  The prefix
    is put back unless the bare name is the map's entry for that provider,
    so a call through a reseller is never priced as a call to the original
    vendor.
    """
    model = str(kwargs.get("model") or payload.get("model") or "unknown")
    params = kwargs.get("litellm_params") or {}
    provider = (payload.get("custom_llm_provider")
                or params.get("custom_llm_provider")
                or kwargs.get("custom_llm_provider"))
    if not provider or model.startswith(f"{provider}/"):
        return model
    listed = litellm_module().model_cost.get(model) or {}
    if listed.get("litellm_provider") == provider:
        return model
    return f"{provider}/{model}"


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
        found = usage_of(response_obj)
        return replace(found, output_tokens=found.output_tokens or 0)
    if error is None and payload.get("prompt_tokens") is not None:
        return Usage(int(payload["prompt_tokens"]),
                     int(payload.get("completion_tokens") or 0))
    return None  # a failed call reports no usage: its cost is unknown


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
