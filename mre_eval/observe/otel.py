"""OpenTelemetry GenAI spans, exported as JSON, into call records.

Two exports are read, as one JSON document or as one JSON object per line:

- OTLP JSON (what the collector's file exporter writes, one export request a
  line): ``resourceSpans`` -> ``scopeSpans`` -> ``spans``, attributes as
  ``[{"key", "value"}]`` lists and times in ``startTimeUnixNano`` /
  ``endTimeUnixNano``; the snake_case spelling protobuf prints with
  ``preserving_proto_field_name`` is read too;
- flat spans (what the Python SDK's console exporter prints): a span or a list
  of spans with an ``attributes`` object and ISO ``start_time`` / ``end_time``.

Several pretty-printed spans one after another (as the console exporter
prints them) are read too.

A span is a model call when it carries ``gen_ai.request.model`` (or
``gen_ai.response.model``).  Tokens come from ``gen_ai.usage.input_tokens`` and
``gen_ai.usage.output_tokens``; prompt-cache reads from
``gen_ai.usage.cache_read.input_tokens`` and writes from
``gen_ai.usage.cache_creation.input_tokens`` (older spellings are read too),
both counted as part of the input tokens, as the conventions say.  The
conventions have no attribute for the one-hour part of the cache writes, so a
span's writes are priced at the five-minute write rate (one-hour writes are
billed higher: such a span reports less than the bill).  They have no
attribute for the product feature or user tier either, so those are read
from the span's (or its resource's) ``feature`` / ``app.feature`` and
``user_tier`` / ``app.user_tier`` attributes.  Other spans are skipped and
counted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mre_eval.observe.record import RECORD_COLUMNS

MODEL_KEYS = ("gen_ai.request.model", "gen_ai.response.model")
INPUT_KEYS = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
OUTPUT_KEYS = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
CACHED_KEYS = ("gen_ai.usage.cache_read.input_tokens",
               "gen_ai.usage.cache_read_input_tokens", "gen_ai.usage.cached_tokens")
CACHE_WRITE_KEYS = ("gen_ai.usage.cache_creation.input_tokens",
                    "gen_ai.usage.cache_creation_input_tokens",
                    "gen_ai.usage.input_tokens.cache_write")
REASONING_KEYS = ("gen_ai.usage.reasoning.output_tokens",
                  "gen_ai.usage.reasoning_tokens")
FEATURE_KEYS = ("feature", "app.feature", "mre.feature")
TIER_KEYS = ("user_tier", "app.user_tier", "mre.user_tier", "user.tier")
COST_KEYS = ("gen_ai.usage.cost", "mre.cost_usd")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TAG_KEYS = ("gen_ai.system", "gen_ai.provider.name", "gen_ai.operation.name")


def convert_otel(path: Path, out: Path, problems: Any) -> int:
    """Write the GenAI spans of ``path`` to ``out`` as JSONL call records.

    Malformed documents and spans are reported to ``problems`` with their line.

    Returns:
        The number of records written.
    """
    from mre_eval.observe.ingest import _open_text, check_row

    written = 0
    with _open_text(path) as source, out.open("w") as sink:
        for line, document in _documents(source, path, problems):
            for number, (span, resource) in enumerate(_spans(document), start=1):
                attrs = {**resource, **_attributes(span.get("attributes"))}
                if not any(attrs.get(k) for k in MODEL_KEYS):
                    problems.skipped_spans += 1
                    continue
                try:
                    record = span_record(span, attrs)
                except (TypeError, ValueError) as exc:
                    problems.add(path, line, f"span {number}: {exc}")
                    continue
                reason = check_row(record)
                if reason is not None:
                    problems.add(path, line, f"span {number}: {reason}")
                    continue
                sink.write(json.dumps(record) + "\n")
                written += 1
    return written


def span_record(span: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    """One call record from a GenAI span and its merged attributes."""
    start, end = _times(span)
    status = span.get("status") or {}
    code = str(status.get("code", status.get("status_code", ""))).upper()
    failed = code in ("2", "STATUS_CODE_ERROR", "ERROR") or "error.type" in attrs
    record = dict.fromkeys(RECORD_COLUMNS)
    record.update({
        "ts": start.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "model": str(_first(attrs, MODEL_KEYS)),
        "feature": _optional_text(_first(attrs, FEATURE_KEYS)),
        "user_tier": _optional_text(_first(attrs, TIER_KEYS)),
        "tags": {k: str(attrs[k]) for k in TAG_KEYS if attrs.get(k) is not None},
        "input_tokens": _int(_first(attrs, INPUT_KEYS)),
        "output_tokens": _int(_first(attrs, OUTPUT_KEYS)),
        "cached_tokens": _int(_first(attrs, CACHED_KEYS)),
        "cache_write_tokens": _int(_first(attrs, CACHE_WRITE_KEYS)),
        "reasoning_tokens": _int(_first(attrs, REASONING_KEYS)),
        "cost_usd": _float(_first(attrs, COST_KEYS)),
        "latency_s": None if end is None else (end - start).total_seconds(),
        "status": "error" if failed else "ok",
        "error": (status.get("message") or status.get("description")
                  or attrs.get("error.type") or "error") if failed else None,
    })
    if record["cost_usd"] is not None:
        record["cost_source"] = "provider"
    return record


def _documents(source: Any, path: Path, problems: Any
               ) -> Iterator[tuple[int, Any]]:
    # JSON lines are read a line at a time, so a large export is never held in
    # memory; one pretty-printed document (or several one after another) is
    # read whole
    skipped = 0
    for line in source:
        if line.strip():
            break
        skipped += 1
    else:
        return
    try:
        first = json.loads(line)
    except ValueError:
        yield from _pretty_documents(line + source.read(), skipped + 1, path,
                                     problems)
        return
    yield skipped + 1, first
    for number, line in enumerate(source, start=skipped + 2):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except ValueError as exc:
            problems.add(path, number, f"not JSON ({exc.msg})")


def _pretty_documents(text: str, line: int, path: Path, problems: Any
                      ) -> Iterator[tuple[int, Any]]:
    decoder = json.JSONDecoder()
    position, counted = 0, 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return
        line += text.count("\n", counted, position)
        counted = position
        try:
            document, position = decoder.raw_decode(text, position)
        except ValueError as exc:
            problems.add(path, line, f"not JSON ({exc.msg})")
            next_line = text.find("\n", position)
            if next_line < 0:
                return
            position = next_line + 1
            continue
        yield line, document


def _spans(document: Any) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    if isinstance(document, list):
        for item in document:
            yield from _spans(item)
    elif isinstance(document, dict) and _key(document, "resourceSpans") is not None:
        for resource_spans in _key(document, "resourceSpans") or []:
            resource = _attributes((resource_spans.get("resource") or {})
                                   .get("attributes"))
            scopes = (_key(resource_spans, "scopeSpans")
                      or _key(resource_spans, "instrumentationLibrarySpans") or [])
            for scope in scopes:
                for span in scope.get("spans") or []:
                    yield span, resource
    elif isinstance(document, dict):
        resource = (document.get("resource") or {}).get("attributes")
        yield document, _attributes(resource)


def _key(mapping: dict[str, Any], camel: str) -> Any:
    """``mapping[camel]``, or its snake_case spelling.

    OTLP JSON is camelCase, but protobuf's JSON printer keeps the proto field
    names (``resource_spans``, ``start_time_unix_nano``) when asked to.
    """
    if camel in mapping:
        return mapping[camel]
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)
    return mapping.get(snake)


def _attributes(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, list):
        return {}
    return {item["key"]: _any_value(item.get("value"))
            for item in raw if isinstance(item, dict) and "key" in item}


def _any_value(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    for key in ("stringValue", "boolValue", "doubleValue"):
        found = _key(value, key)
        if found is not None:
            return found
    if _key(value, "intValue") is not None:
        return int(_key(value, "intValue"))  # int64 is a string in OTLP JSON
    if _key(value, "arrayValue") is not None:
        return [_any_value(v) for v in _key(value, "arrayValue").get("values", [])]
    return None


def _times(span: dict[str, Any]) -> tuple[datetime, datetime | None]:
    start = _key(span, "startTimeUnixNano")
    if start is not None:
        end = _key(span, "endTimeUnixNano")
        return _from_nanos(start), None if end is None else _from_nanos(end)
    if "start_time" in span:
        end = span.get("end_time")
        return _from_iso(span["start_time"]), None if end is None else _from_iso(end)
    raise ValueError("no start time (startTimeUnixNano or start_time)")


def _from_nanos(value: Any) -> datetime:
    # whole microseconds: a float of nanoseconds since 1970 loses them
    return EPOCH + timedelta(microseconds=int(value) // 1000)


def _from_iso(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _first(attrs: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if attrs.get(key) is not None:
            return attrs[key]
    return None


def _int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"token count {value!r} is not a whole number")
    return int(value)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _optional_text(value: Any) -> str | None:
    return None if value is None else str(value)
