"""Log a model call made without litellm, with a plain ``with`` block.

::

    from mre_eval import observe

    observe.configure("calls.jsonl")
    with observe.track("summarize", model="gpt-4o-mini", user_tier="pro",
                       request=text) as call:
        reply = my_client.generate(text)
        call.usage(input_tokens=reply.prompt_tokens,
                   output_tokens=reply.completion_tokens)

The block's wall-clock time is the latency; an exception leaving the block
marks the call as an error (and is re-raised untouched).  Nothing the logging
does can raise into the block's code.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from mre_eval.observe.record import (CallRecord, messages_text, priced,
                                     request_hash, utc_now)
from mre_eval.observe.writer import RecordWriter
from mre_eval.usage import Usage

log = logging.getLogger(__name__)

_default: dict[str, RecordWriter | None] = {"writer": None}
# one writer per log file, so two loggers of one file share its buffer
_writers: dict[str, RecordWriter] = {}


def configure(path: str, **options: Any) -> RecordWriter:
    """Make a writer for ``path`` the default of :func:`track` and the callback.

    A file already configured keeps its writer (and its buffer); giving new
    writer options flushes that writer and replaces it.  Writers of other
    files are left running: a litellm logger may still be writing to them.

    Args:
        path: a ``.jsonl`` file, or a ``.sqlite``/``.db`` file.
        **options: :class:`RecordWriter` options (batch size, flush interval).
    """
    key = str(Path(path).resolve())
    writer = _writers.get(key)
    if writer is not None and options:
        writer.close()
        writer = None
    if writer is None:
        writer = RecordWriter(path, **options)
        _writers[key] = writer
    _default["writer"] = writer
    return writer


def default_writer() -> RecordWriter | None:
    """The writer :func:`configure` set, if any."""
    return _default["writer"]


class track:  # noqa: N801  (used as a context manager, reads like a function)
    """Time one model call and log it when the block ends.

    Args:
        feature: the product feature (task type) making the call.
        model: the model string, as litellm would name it (for pricing).
        user_tier: the user's tier, e.g. ``free`` or ``pro``.
        tags: any other labels to keep with the record.
        request: the request text or chat messages; hashed, and kept only
            when ``keep_text`` is true.
        keep_text: store the request's user text in the log.
        writer: where to log; defaults to the writer :func:`configure` set.
    """

    def __init__(self, feature: str, *, model: str, user_tier: str | None = None,
                 tags: dict[str, str] | None = None, request: Any = None,
                 keep_text: bool = False, writer: RecordWriter | None = None) -> None:
        self.record = CallRecord(ts=utc_now(), model=model, feature=feature,
                                 user_tier=user_tier, tags=dict(tags or {}))
        self._request = request
        self._keep_text = keep_text
        self._writer = writer
        self._given_cost: float | None = None
        self._start = 0.0

    def usage(self, input_tokens: int | None, output_tokens: int | None,
              cached_tokens: int = 0, reasoning_tokens: int = 0,
              cost_usd: float | None = None, *,
              cache_write_tokens: int = 0,
              cache_write_1h_tokens: int = 0) -> None:
        """Say what the call consumed; ``cost_usd`` if the provider billed it.

        ``input_tokens`` counts every prompt token, including the
        ``cached_tokens`` read from the prompt cache and the
        ``cache_write_tokens`` written to it (Anthropic reports its
        ``input_tokens`` without either: add its ``cache_read_input_tokens``
        and ``cache_creation_input_tokens`` to it).  ``cache_write_1h_tokens``
        is the part of those writes made for one hour (Anthropic's
        ``cache_creation.ephemeral_1h_input_tokens``), billed at a higher rate.
        """
        self.record.usage = Usage(input_tokens, output_tokens,
                                  cached_tokens or 0, reasoning_tokens or 0,
                                  max(cache_write_tokens or 0,
                                      cache_write_1h_tokens or 0),
                                  cache_write_1h_tokens or 0)
        self._given_cost = cost_usd

    def __enter__(self) -> track:
        self.record.ts = utc_now()
        self._start = time.perf_counter()
        return self

    def __exit__(self, exc_type: type[BaseException] | None,
                 exc: BaseException | None, _tb: TracebackType | None) -> None:
        try:
            self._finish(exc)
        except Exception:
            log.warning("could not log a call of %s", self.record.model,
                        exc_info=True)

    def _finish(self, exc: BaseException | None) -> None:
        record = self.record
        record.latency_s = time.perf_counter() - self._start
        if exc is not None:
            record.status = "error"
            record.error = f"{type(exc).__name__}: {exc}"[:500]
        if self._request is not None:
            text = messages_text(self._request)
            record.request_hash = request_hash(self._request)
            record.request_chars = len(text)
            record.request_text = text if self._keep_text else None
        record.cost = priced(record.model, record.usage, self._given_cost)

        writer = self._writer or default_writer()
        if writer is None:
            log.warning("call of %s not logged: call observe.configure(PATH) "
                        "first or pass writer=", record.model)
            return
        writer.write(record)
