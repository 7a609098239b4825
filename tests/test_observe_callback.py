"""The litellm callback under real litellm calls to a loopback server."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from mre_eval import observe
from mre_eval.llm import litellm_module
from mre_eval.observe.callback import make_logger, uninstall
from mre_eval.observe.writer import RecordWriter
from observe_helpers import CLAUDE, claude_cache_call_usd
from tests.openai_stub import Fault, StubServer, openai_stub  # noqa: F401

MESSAGES = [{"role": "system", "content": "be brief"},
            {"role": "user", "content": "summarize this"}]

# litellm may deliver other tests' queued events while a logger is installed,
# so each test reads back only the records of its own request text


@pytest.fixture
def logged(tmp_path: Path):
    litellm = litellm_module()
    writer = RecordWriter(tmp_path / "calls.jsonl", flush_interval_s=60)
    logger = make_logger(writer, keep_text=True)
    litellm.callbacks.append(logger)
    yield litellm, writer
    uninstall(logger)
    writer.close()


def _messages(marker: str) -> list[dict]:
    return [MESSAGES[0], {"role": "user", "content": f"summarize this {marker}"}]


def _mine(writer: RecordWriter, marker: str) -> list[dict]:
    if not writer.path.exists():
        return []
    rows = [json.loads(x) for x in writer.path.read_text().splitlines()]
    return [r for r in rows if r["request_text"] == f"summarize this {marker}"]


def _rows(writer: RecordWriter, marker: str) -> list[dict]:
    """The records of ``marker``'s call, waiting up to 5 s for litellm's hooks."""
    for _ in range(100):
        writer.flush()
        if _mine(writer, marker):
            time.sleep(0.1)  # let a duplicate show up, if there were one
            writer.flush()
            return _mine(writer, marker)
        time.sleep(0.05)
    return []


async def _call(litellm, stub: StubServer, model: str, marker: str,
                **extra) -> None:
    await litellm.acompletion(model=model, api_base=stub.url, api_key="x",
                              messages=_messages(marker), timeout=10,
                              max_retries=0, **extra)
    await asyncio.sleep(0.2)  # litellm runs async success hooks as tasks


def test_async_call_is_logged_with_metadata_tokens_and_cost(
        logged, openai_stub: StubServer) -> None:  # noqa: F811
    litellm, writer = logged
    asyncio.run(_call(litellm, openai_stub, "openai/gpt-4o-mini", "async-ok",
                      metadata={"feature": "summarize", "user_tier": "pro",
                                "tags": {"ab": "v2"}}))
    (row,) = _rows(writer, "async-ok")
    usage = openai_stub.reply
    assert row["feature"] == "summarize" and row["user_tier"] == "pro"
    assert row["tags"] == {"ab": "v2"}
    assert row["input_tokens"] == usage.prompt_tokens
    assert row["output_tokens"] == usage.completion_tokens
    expected = (usage.prompt_tokens * 0.15 + usage.completion_tokens * 0.6) / 1e6
    assert row["cost_usd"] == pytest.approx(expected)
    assert row["status"] == "ok" and len(row["request_hash"]) == 64


def test_sync_call_to_an_unpriced_model_is_unpriced(
        logged, openai_stub: StubServer) -> None:  # noqa: F811
    litellm, writer = logged
    litellm.completion(model="openai/my-self-hosted-llm", api_base=openai_stub.url,
                       api_key="x", messages=_messages("sync"), timeout=10,
                       max_retries=0, metadata={"feature": "chat"})
    (row,) = _rows(writer, "sync")  # sync hooks run on litellm's thread pool
    assert row["feature"] == "chat" and row["input_tokens"] is not None
    assert row["cost_usd"] is None


def test_failed_call_is_logged_as_error(
        logged, openai_stub: StubServer) -> None:  # noqa: F811
    litellm, writer = logged
    openai_stub.script(Fault(status=400))
    with pytest.raises(Exception, match="(?i)bad ?request|400"):
        asyncio.run(_call(litellm, openai_stub, "openai/gpt-4o-mini", "fails",
                          metadata={"feature": "chat"}))
    asyncio.run(asyncio.sleep(0.2))
    rows = _rows(writer, "fails")
    assert [r["status"] for r in rows] == ["error"]
    assert rows[0]["cost_usd"] is None and rows[0]["error"]


def test_a_broken_hook_never_breaks_the_call(
        openai_stub: StubServer) -> None:  # noqa: F811
    litellm = litellm_module()

    class Exploding(RecordWriter):
        def write(self, record: object) -> None:
            raise RuntimeError("disk on fire")

    logger = make_logger(Exploding("/nonexistent/x.jsonl"))
    litellm.callbacks.append(logger)
    try:
        reply = litellm.completion(model="openai/gpt-4o-mini",
                                   api_base=openai_stub.url, api_key="x",
                                   messages=MESSAGES, timeout=10, max_retries=0)
    finally:
        uninstall(logger)
    assert reply.choices[0].message.content


def test_installing_a_file_twice_logs_each_call_once(
        tmp_path: Path, openai_stub: StubServer) -> None:  # noqa: F811
    litellm = litellm_module()
    path = tmp_path / "calls.jsonl"
    first = observe.install(str(path), flush_interval_s=60)
    second = observe.install(str(path), keep_text=True, flush_interval_s=60)
    try:
        assert first is second
        litellm.completion(model="openai/gpt-4o-mini", api_base=openai_stub.url,
                           api_key="x", messages=_messages("twice"), timeout=10,
                           max_retries=0, metadata={"feature": "chat"})
        rows = _rows(first.writer, "twice")
    finally:
        uninstall(first)
    assert len(rows) == 1


def test_a_reseller_model_keeps_its_provider_and_is_not_priced_as_the_vendor(
        logged, openai_stub: StubServer) -> None:  # noqa: F811
    litellm, writer = logged
    litellm.completion(model="openrouter/openai/gpt-4o", api_base=openai_stub.url,
                       api_key="x", messages=_messages("resold"), timeout=10,
                       max_retries=0)
    (row,) = _rows(writer, "resold")
    # litellm's map has no openrouter/openai/gpt-4o: unpriced, not OpenAI's price
    assert row["model"] == "openrouter/openai/gpt-4o"
    assert row["cost_usd"] is None and row["input_tokens"] == 1000


def test_an_unwritable_log_never_breaks_the_call(
        tmp_path: Path, openai_stub: StubServer) -> None:  # noqa: F811
    litellm = litellm_module()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    logger = observe.install(str(blocker / "calls.jsonl"), flush_interval_s=60)
    try:
        reply = litellm.completion(model="openai/gpt-4o-mini",
                                   api_base=openai_stub.url, api_key="x",
                                   messages=_messages("unwritable"), timeout=10,
                                   max_retries=0)
        for _ in range(100):  # the hook runs on litellm's thread pool
            logger.writer.flush()
            if logger.writer.lost:
                break
            time.sleep(0.05)
    finally:
        uninstall(logger)
    assert reply.choices[0].message.content == "echo: summarize this unwritable"
    assert logger.writer.lost == 1 and logger.writer.written == 0


class _StreamHandler(BaseHTTPRequestHandler):
    """Streams a two-chunk reply; the usage chunk only when asked for it."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1,
                 "model": body["model"]}
        events = [{**chunk, "choices": [{"index": 0, "finish_reason": None,
                                         "delta": {"role": "assistant",
                                                   "content": "hi"}}]},
                  {**chunk, "choices": [{"index": 0, "delta": {},
                                         "finish_reason": "stop"}]}]
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append({**chunk, "choices": [], "usage": {
                "prompt_tokens": 321, "completion_tokens": 12,
                "total_tokens": 333}})
        data = "".join(f"data: {json.dumps(e)}\n\n" for e in events)
        payload = (data + "data: [DONE]\n\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def stream_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StreamHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_a_stream_is_logged_when_it_ends_with_the_provider_usage(
        logged, stream_server: str) -> None:
    litellm, writer = logged

    async def stream() -> None:
        response = await litellm.acompletion(
            model="openai/gpt-4o-mini", api_base=stream_server, api_key="x",
            messages=_messages("streamed"), timeout=10, max_retries=0,
            stream=True, stream_options={"include_usage": True},
            metadata={"feature": "chat"})
        async for _ in response:
            pass
        await asyncio.sleep(0.2)

    asyncio.run(stream())
    (row,) = _rows(writer, "streamed")
    assert (row["input_tokens"], row["output_tokens"]) == (321, 12)
    assert row["cost_usd"] == pytest.approx((321 * 0.15 + 12 * 0.6) / 1e6)
    assert row["tags"] == {"stream": "true"} and row["feature"] == "chat"


def _claude_call(litellm, marker: str, usage: dict) -> Any:
    """A mocked Claude call answering with ``usage``, once its hooks have run."""
    reply = {"choices": [{"message": {"role": "assistant", "content": "ok"}}],
             "usage": usage}

    async def call() -> Any:
        response = await litellm.acompletion(
            model=CLAUDE, messages=_messages(marker), mock_response=reply,
            metadata={"feature": "chat"})
        await asyncio.sleep(0.2)  # litellm runs async success hooks as tasks
        return response

    return asyncio.run(call())


def test_claude_cache_writes_are_logged_and_priced_at_the_write_rate(
        logged) -> None:
    litellm, writer = logged
    _claude_call(litellm, "cache-writes", {
        "prompt_tokens": 12_000, "completion_tokens": 300, "total_tokens": 12_300,
        "cache_read_input_tokens": 2_000, "cache_creation_input_tokens": 9_000})

    (row,) = _rows(writer, "cache-writes")
    assert (row["input_tokens"], row["cached_tokens"],
            row["cache_write_tokens"]) == (12_000, 2_000, 9_000)
    assert row["cost_usd"] == pytest.approx(claude_cache_call_usd(), rel=1e-12)
    assert row["cost_source"] == "price_map"


def test_claude_one_hour_cache_writes_are_logged_at_the_one_hour_rate(
        logged) -> None:
    litellm, writer = logged
    # the usage litellm builds from an Anthropic reply with one-hour writes
    response = _claude_call(litellm, "one-hour", {
        "prompt_tokens": 12_000, "completion_tokens": 300, "total_tokens": 12_300,
        "prompt_tokens_details": {
            "cached_tokens": 2_000, "cache_creation_tokens": 9_000,
            "cache_creation_token_details": {"ephemeral_5m_input_tokens": 3_000,
                                             "ephemeral_1h_input_tokens": 6_000}}})

    (row,) = _rows(writer, "one-hour")
    assert (row["input_tokens"], row["cached_tokens"], row["cache_write_tokens"],
            row["cache_write_1h_tokens"]) == (12_000, 2_000, 9_000, 6_000)
    expected = claude_cache_call_usd(one_hour_writes=6_000)
    assert row["cost_usd"] == pytest.approx(expected, rel=1e-12)
    assert row["cost_source"] == "price_map"
    # litellm's own figure for the call agrees
    assert response._hidden_params["response_cost"] == pytest.approx(
        expected, rel=1e-12)
