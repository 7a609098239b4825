"""The plain context manager for calls made without litellm."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mre_eval.observe import track
from mre_eval.observe.writer import RecordWriter
from observe_helpers import CLAUDE, claude_cache_call_usd


def _rows(writer: RecordWriter) -> list[dict]:
    writer.close()
    return [json.loads(line) for line in writer.path.read_text().splitlines()]


def test_track_records_usage_cost_and_hash_not_text(tmp_path: Path) -> None:
    writer = RecordWriter(tmp_path / "calls.jsonl")
    with track("summarize", model="gpt-4o-mini", user_tier="pro",
               tags={"ab": "v2"}, request="a long document", writer=writer) as call:
        call.usage(input_tokens=1_000_000, output_tokens=0)
    (row,) = _rows(writer)
    assert row["feature"] == "summarize" and row["user_tier"] == "pro"
    assert row["tags"] == {"ab": "v2"}
    assert row["cost_usd"] == pytest.approx(0.15)  # gpt-4o-mini: $0.15 / 1M in
    assert row["cost_source"] == "price_map"
    assert row["request_text"] is None and len(row["request_hash"]) == 64
    assert row["request_chars"] == len("a long document")
    assert row["status"] == "ok" and row["latency_s"] >= 0


def test_track_marks_an_exception_as_error_and_reraises(tmp_path: Path) -> None:
    writer = RecordWriter(tmp_path / "calls.jsonl")
    with pytest.raises(TimeoutError, match="too slow"):
        with track("chat", model="gpt-4o-mini", writer=writer, keep_text=True,
                   request=[{"role": "system", "content": "be brief"},
                            {"role": "user", "content": "hi"}]):
            raise TimeoutError("too slow")
    (row,) = _rows(writer)
    assert row["status"] == "error" and row["error"] == "TimeoutError: too slow"
    assert row["cost_usd"] is None  # no usage reported: unpriced, not $0
    assert row["request_text"] == "hi"  # the user's text, not the system prompt


def test_unknown_model_stays_unpriced(tmp_path: Path) -> None:
    writer = RecordWriter(tmp_path / "calls.jsonl")
    with track("chat", model="my-self-hosted-llm", writer=writer) as call:
        call.usage(input_tokens=10, output_tokens=5)
    (row,) = _rows(writer)
    assert row["cost_usd"] is None and row["input_tokens"] == 10
    assert row["cost_source"] == "no_price_in_map"


def test_provider_billed_cost_is_kept(tmp_path: Path) -> None:
    writer = RecordWriter(tmp_path / "calls.jsonl")
    with track("chat", model="my-self-hosted-llm", writer=writer) as call:
        call.usage(input_tokens=10, output_tokens=5, cost_usd=0.25)
    (row,) = _rows(writer)
    assert row["cost_usd"] == 0.25 and row["cost_source"] == "provider"


def test_track_records_and_prices_cache_writes(tmp_path: Path) -> None:
    from mre_eval.pricing import price_call
    from mre_eval.usage import Usage

    writer = RecordWriter(tmp_path / "calls.jsonl", flush_interval_s=60)
    claude = "anthropic/claude-sonnet-4-5"
    with track("chat", model=claude, writer=writer) as call:
        call.usage(12_000, 300, cached_tokens=2_000, cache_write_tokens=9_000)
    (row,) = _rows(writer)
    assert row["cache_write_tokens"] == 9_000
    assert row["cost_usd"] == price_call(
        claude, Usage(12_000, 300, cached_tokens=2_000, cache_write_tokens=9_000)).usd


def test_track_prices_one_hour_cache_writes_at_their_rate(tmp_path: Path) -> None:
    writer = RecordWriter(tmp_path / "calls.jsonl", flush_interval_s=60)
    with track("chat", model=CLAUDE, writer=writer) as call:
        call.usage(12_000, 300, cached_tokens=2_000, cache_write_tokens=9_000,
                   cache_write_1h_tokens=6_000)
    (row,) = _rows(writer)
    assert (row["cache_write_tokens"], row["cache_write_1h_tokens"]) == (9_000, 6_000)
    assert row["cost_usd"] == pytest.approx(
        claude_cache_call_usd(one_hour_writes=6_000), rel=1e-12)
