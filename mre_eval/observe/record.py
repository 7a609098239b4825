"""One logged model call: the record every writer, reader and query shares.

A record is one JSON object per line in a JSONL log (or one row of a SQLite
log or a compacted parquet file).  Token counts follow :mod:`mre_eval.usage`:
``input_tokens`` includes ``cached_tokens`` (read from the prompt cache) and
``cache_write_tokens`` (written to it), and ``output_tokens`` includes
``reasoning_tokens``.  ``cache_write_1h_tokens`` is the part of the cache
writes the provider reported as one-hour writes, priced at the one-hour write
rate.  Logs written before ``cache_write_tokens`` or ``cache_write_1h_tokens``
existed read them as null; null one-hour writes are priced as writes without a
reported lifetime, at the five-minute rate.  ``cost_usd`` is ``None`` when the
call could not be priced; it is never written as 0 for an unknown price.

The request's text is not kept unless the caller asks for it; its sha256 and
its length in characters are always kept, so identical requests can be counted
and requests bucketed by length without storing what users wrote.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from mre_eval.pricing import Cost, price_call
from mre_eval.usage import Usage

Status = Literal["ok", "error"]

# Column name -> DuckDB type, in the order records are written.
RECORD_COLUMNS: dict[str, str] = {
    "ts": "TIMESTAMP",
    "feature": "VARCHAR",
    "user_tier": "VARCHAR",
    "tags": "JSON",
    "model": "VARCHAR",
    "input_tokens": "BIGINT",
    "output_tokens": "BIGINT",
    "cached_tokens": "BIGINT",
    "cache_write_tokens": "BIGINT",
    "cache_write_1h_tokens": "BIGINT",
    "reasoning_tokens": "BIGINT",
    "cost_usd": "DOUBLE",
    "cost_source": "VARCHAR",
    "latency_s": "DOUBLE",
    "status": "VARCHAR",
    "error": "VARCHAR",
    "request_hash": "VARCHAR",
    "request_chars": "BIGINT",
    "request_text": "VARCHAR",
}

REQUIRED_COLUMNS = ("ts", "model")

# cost_source of a call whose tokens are known but whose model has no price in
# litellm's map: it was looked up, so readers need not look it up again
NO_PRICE = "no_price_in_map"
INT_COLUMNS = tuple(k for k, v in RECORD_COLUMNS.items() if v == "BIGINT")
FLOAT_COLUMNS = ("cost_usd", "latency_s")
STR_COLUMNS = tuple(k for k, v in RECORD_COLUMNS.items() if v == "VARCHAR")


@dataclass
class CallRecord:
    """What was logged about one model call.

    Attributes:
        ts: when the call started, UTC.
        model: the model string the call used.
        feature: the product feature (task type) that made the call.
        user_tier: the caller's user tier (``free``, ``pro``...), if given.
        tags: any other labels the caller passed.
        usage: tokens consumed, when known.
        cost: dollar cost and its source; unpriced when unknown.
        latency_s: wall-clock seconds the call took.
        status: ``ok`` or ``error``.
        error: the error's type and message, for failed calls.
        request_hash: sha256 of the canonical request.
        request_chars: length of the request text, in characters.
        request_text: the request text, only when the caller opted in.
    """

    ts: datetime
    model: str
    feature: str | None = None
    user_tier: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    usage: Usage | None = None
    cost: Cost = field(default_factory=lambda: Cost(None, None))
    latency_s: float | None = None
    status: Status = "ok"
    error: str | None = None
    request_hash: str | None = None
    request_chars: int | None = None
    request_text: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The record as a flat dict with :data:`RECORD_COLUMNS` keys."""
        usage = self.usage or Usage(None, None)
        return {
            "ts": _iso(self.ts),
            "feature": self.feature,
            "user_tier": self.user_tier,
            "tags": {str(k): str(v) for k, v in self.tags.items()},
            "model": self.model,
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cached_tokens": usage.cached_tokens if self.usage else None,
            "cache_write_tokens": usage.cache_write_tokens if self.usage else None,
            "cache_write_1h_tokens": (usage.cache_write_1h_tokens
                                      if self.usage else None),
            "reasoning_tokens": usage.reasoning_tokens if self.usage else None,
            "cost_usd": self.cost.usd,
            "cost_source": self._cost_source(usage),
            "latency_s": self.latency_s,
            "status": self.status,
            "error": self.error,
            "request_hash": self.request_hash,
            "request_chars": self.request_chars,
            "request_text": self.request_text,
        }

    def _cost_source(self, usage: Usage) -> str | None:
        if self.cost.usd is None and usage.input_tokens is not None \
                and usage.output_tokens is not None:
            return NO_PRICE
        return self.cost.source

    def to_json(self) -> str:
        """One compact JSON line, without the trailing newline."""
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False)


def priced(model: str, usage: Usage | None, given: float | None = None) -> Cost:
    """The cost of a call: the figure given by the caller, else litellm's map.

    Args:
        model: the model string.
        usage: tokens consumed; ``None`` leaves the call unpriced.
        given: a cost the caller or provider already knows, in dollars.
    """
    if given is not None:
        return Cost(float(given), "provider")
    if usage is None:
        return Cost(None, None)
    try:
        return price_call(model, usage)
    except Exception:  # pricing must never break the call being logged
        return Cost(None, None)


def request_hash(payload: Any) -> str:
    """sha256 of a request (text or messages) in canonical JSON form."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def messages_text(messages: Any) -> str:
    """The text a user sent: the user messages' contents, joined.

    System prompts are left out: they belong to the product, not the request.
    Multi-part contents keep their text parts only.
    """
    if isinstance(messages, str):
        return messages
    parts: list[str] = []
    for message in messages or []:
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts += [p.get("text", "") for p in content
                      if isinstance(p, dict) and p.get("type") == "text"]
    return "\n\n".join(parts)


def utc_now() -> datetime:
    """The current time, UTC."""
    return datetime.now(UTC)


def _iso(ts: datetime) -> str:
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts.isoformat(timespec="microseconds") + "Z"
