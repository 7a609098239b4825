"""The litellm callback under real litellm calls to a loopback server."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from mre_eval.llm import litellm_module
from mre_eval.observe.callback import make_logger, uninstall
from mre_eval.observe.writer import RecordWriter
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
