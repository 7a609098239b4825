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


@pytest.fixture
def logged(tmp_path: Path):
    litellm = litellm_module()
    writer = RecordWriter(tmp_path / "calls.jsonl", flush_interval_s=60)
    logger = make_logger(writer, keep_text=True)
    litellm.callbacks.append(logger)
    yield litellm, writer
    uninstall(logger)
    writer.close()


def _rows(writer: RecordWriter) -> list[dict]:
    writer.close()
    return [json.loads(line) for line in writer.path.read_text().splitlines()]


async def _call(litellm, stub: StubServer, model: str, **extra) -> None:
    await litellm.acompletion(model=model, api_base=stub.url, api_key="x",
                              messages=MESSAGES, timeout=10, max_retries=0,
                              **extra)
    await asyncio.sleep(0.2)  # litellm runs async success hooks as tasks


def test_async_call_is_logged_with_metadata_tokens_and_cost(
        logged, openai_stub: StubServer) -> None:  # noqa: F811
    litellm, writer = logged
    asyncio.run(_call(litellm, openai_stub, "openai/gpt-4o-mini",
                      metadata={"feature": "summarize", "user_tier": "pro",
                                "tags": {"ab": "v2"}}))
    (row,) = _rows(writer)
    usage = openai_stub.reply
    assert row["feature"] == "summarize" and row["user_tier"] == "pro"
    assert row["tags"] == {"ab": "v2"}
    assert row["input_tokens"] == usage.prompt_tokens
    assert row["output_tokens"] == usage.completion_tokens
    expected = (usage.prompt_tokens * 0.15 + usage.completion_tokens * 0.6) / 1e6
    assert row["cost_usd"] == pytest.approx(expected)
    assert row["request_text"] == "summarize this" and row["status"] == "ok"


def test_sync_call_to_an_unpriced_model_is_unpriced(
        logged, openai_stub: StubServer) -> None:  # noqa: F811
    litellm, writer = logged
    litellm.completion(model="openai/my-self-hosted-llm", api_base=openai_stub.url,
                       api_key="x", messages=MESSAGES, timeout=10, max_retries=0,
                       metadata={"feature": "chat"})
    for _ in range(100):  # sync success hooks run on litellm's thread pool
        writer.flush()
        if writer.path.exists():
            break
        time.sleep(0.05)
    (row,) = _rows(writer)
    assert row["feature"] == "chat" and row["input_tokens"] is not None
    assert row["cost_usd"] is None


def test_failed_call_is_logged_as_error(
        logged, openai_stub: StubServer) -> None:  # noqa: F811
    litellm, writer = logged
    openai_stub.script(Fault(status=400))
    with pytest.raises(Exception, match="(?i)bad ?request|400"):
        asyncio.run(_call(litellm, openai_stub, "openai/gpt-4o-mini",
                          metadata={"feature": "chat"}))
    asyncio.run(asyncio.sleep(0.2))
    rows = _rows(writer)
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
