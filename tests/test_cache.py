"""The response cache: stable keys, faithful hits, durable and shared storage."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from mre_eval.cache import ResponseCache
from mre_eval.errors import DataError
from mre_eval.pricing import Cost, price_call
from mre_eval.providers.base import CallOutcome
from mre_eval.usage import Usage

MESSAGES = [{"role": "system", "content": "Be brief."},
            {"role": "user", "content": "2+2?"}]
BASE = dict(model="openai/gpt-4o-mini", api_base="http://127.0.0.1:8000/v1",
            messages=MESSAGES, params={"temperature": 0, "max_tokens": 5})


def outcome(text: str = "4", usd: float | None = 0.00024) -> CallOutcome:
    return CallOutcome(
        response=text,
        usage=Usage(1000, 200, cached_tokens=400, reasoning_tokens=10),
        cost=Cost(usd, "price_map" if usd is not None else None),
        latency_s=0.8,
        attempts=2,
    )


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[ResponseCache]:
    with ResponseCache(tmp_path / "c" / "responses.sqlite") as opened:
        yield opened


def test_key_ignores_dict_order_and_trailing_slash() -> None:
    reordered = dict(
        params={"max_tokens": 5, "temperature": 0},
        messages=[{"content": m["content"], "role": m["role"]} for m in MESSAGES],
        api_base="http://127.0.0.1:8000/v1/",
        model="openai/gpt-4o-mini",
    )

    assert ResponseCache.key(**BASE) == ResponseCache.key(**reordered)
    assert len(ResponseCache.key(**BASE)) == 64


@pytest.mark.parametrize(
    "change",
    [
        {"model": "openai/gpt-4o"},
        {"api_base": "http://127.0.0.1:9000/v1"},
        {"api_base": None},
        {"messages": [{"role": "user", "content": "2+3?"}]},
        {"params": {"temperature": 0.7, "max_tokens": 5}},
        {"params": {"temperature": 0}},
    ],
    ids=["model", "api-base", "no-api-base", "messages", "param-value", "param-gone"],
)
def test_key_changes_with_what_decides_the_response(change: dict) -> None:
    assert ResponseCache.key(**{**BASE, **change}) != ResponseCache.key(**BASE)


def test_key_leaves_out_api_keys() -> None:
    with_key = {**BASE, "params": {**BASE["params"], "api_key": "sk-abcdef123456"}}

    assert ResponseCache.key(**with_key) == ResponseCache.key(**BASE)


def test_hit_returns_the_original_cost_and_usage(cache: ResponseCache) -> None:
    key = ResponseCache.key(**BASE)
    cache.put(key, outcome())

    hit = cache.get(key)

    assert hit is not None
    assert hit.response == "4"
    assert hit.cost == Cost(0.00024, "price_map")
    assert hit.usage == Usage(1000, 200, cached_tokens=400, reasoning_tokens=10)
    assert hit.latency_s == 0.8
    assert (hit.cache_hit, hit.attempts, hit.error) == (True, 0, None)


def test_unpriced_stays_unpriced(cache: ResponseCache) -> None:
    cache.put("k", outcome(usd=None))

    hit = cache.get("k")

    assert hit is not None and hit.cost.usd is None and not hit.cost.priced


def test_miss_is_none(cache: ResponseCache) -> None:
    assert cache.get(ResponseCache.key(**BASE)) is None


@pytest.mark.parametrize(
    "failed",
    [CallOutcome(response=None, error="RateLimitError after 5 attempts"),
     CallOutcome(response="partial", error="cut off")],
    ids=["no-response", "error-set"],
)
def test_failed_calls_are_not_stored(cache: ResponseCache, failed: CallOutcome) -> None:
    cache.put("k", failed)

    assert cache.get("k") is None
    assert len(cache) == 0


def test_each_put_is_committed_for_a_fresh_reader(tmp_path: Path) -> None:
    path = tmp_path / "responses.sqlite"
    writer = ResponseCache(path)
    writer.put("k", outcome())

    # read with plain sqlite while the writer is still open: nothing is pending
    with sqlite3.connect(path) as reader:
        rows = reader.execute("SELECT response, cost_usd FROM responses").fetchall()
    writer.close()

    assert rows == [("4", 0.00024)]


def test_database_is_in_wal_mode(cache: ResponseCache) -> None:
    with sqlite3.connect(cache.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_second_process_shares_the_cache(cache: ResponseCache) -> None:
    cache.put("mine", outcome("from parent"))
    script = textwrap.dedent(f"""
        from mre_eval.cache import ResponseCache
        from mre_eval.providers.base import CallOutcome
        cache = ResponseCache({str(cache.path)!r})
        print(cache.get("mine").response)
        cache.put("theirs", CallOutcome(response="from child"))
        cache.close()
    """)

    child = subprocess.run([sys.executable, "-c", script], capture_output=True,
                           text=True, timeout=60, check=True)

    assert child.stdout.strip() == "from parent"
    theirs = cache.get("theirs")
    assert theirs is not None and theirs.response == "from child"


def test_concurrent_coroutines_all_land(cache: ResponseCache) -> None:
    async def one(i: int) -> str | None:
        await asyncio.sleep(0)
        cache.put(f"k{i}", outcome(f"r{i}"))
        await asyncio.sleep(0)
        hit = cache.get(f"k{i}")
        return hit.response if hit else None

    async def many() -> list[str | None]:
        return await asyncio.gather(*(one(i) for i in range(200)))

    assert asyncio.run(many()) == [f"r{i}" for i in range(200)]
    assert len(cache) == 200


def test_a_file_that_is_not_a_cache_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "responses.sqlite"
    path.write_text("not a database, just text " * 100)

    with pytest.raises(DataError, match="not a usable response cache"):
        ResponseCache(path)


def test_a_hit_names_the_run_that_paid(cache: ResponseCache) -> None:
    cache.put("paid", outcome(), run_id="suite-20260101T000000Z")
    cache.put("anon", outcome())

    paid, anon = cache.get("paid"), cache.get("anon")
    assert paid is not None and paid.paid_by_run == "suite-20260101T000000Z"
    assert anon is not None and anon.paid_by_run is None


# the responses table as the first caches wrote it, before any later column
_FIRST_COLUMNS = (
    "key TEXT PRIMARY KEY, response TEXT NOT NULL, input_tokens INTEGER, "
    "output_tokens INTEGER, cached_tokens INTEGER NOT NULL DEFAULT 0, "
    "reasoning_tokens INTEGER NOT NULL DEFAULT 0, "
    "cache_write_tokens INTEGER NOT NULL DEFAULT 0, cost_usd REAL, "
    "cost_source TEXT, latency_s REAL, created_at REAL NOT NULL")


def _old_table(db: sqlite3.Connection, *later: str) -> None:
    db.execute(f"CREATE TABLE responses ({', '.join((_FIRST_COLUMNS, *later))})")


def test_a_cache_from_before_run_stamps_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        _old_table(db)
        db.execute("INSERT INTO responses (key, response, input_tokens, "
                   "output_tokens, cost_usd, cost_source, latency_s, created_at) "
                   "VALUES ('k', 'old answer', 10, 2, 0.001, 'price_map', 0.5, 0)")

    with ResponseCache(path) as upgraded:
        hit = upgraded.get("k")
        upgraded.put("new", outcome(), run_id="r")
        new = upgraded.get("new")
        assert new is not None and new.paid_by_run == "r"

    assert hit is not None and hit.response == "old answer"
    assert hit.cost == Cost(0.001, "price_map") and hit.paid_by_run is None


def _claude_outcome() -> CallOutcome:
    # the usage litellm reports for a Claude reply that wrote one-hour entries
    usage = Usage(12_000, 300, cached_tokens=2_000, cache_write_tokens=9_000,
                  cache_write_1h_tokens=6_000)
    return CallOutcome(response="ok", usage=usage,
                       cost=price_call("claude-sonnet-4-5", usage), latency_s=0.4)


def test_a_hit_keeps_the_one_hour_writes_and_reprices_to_the_original(
        cache: ResponseCache) -> None:
    original = _claude_outcome()
    assert original.cost.priced
    cache.put("claude", original)

    hit = cache.get("claude")
    assert hit is not None and hit.usage == original.usage
    assert price_call("claude-sonnet-4-5", hit.usage) == original.cost
    # priced as five-minute writes it would be less: the split mattered
    five_minute = Usage(12_000, 300, cached_tokens=2_000, cache_write_tokens=9_000)
    assert price_call("claude-sonnet-4-5", five_minute).usd < original.cost.usd


def test_a_cache_from_before_one_hour_writes_keeps_its_answers(
        tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    old_usage = Usage(12_000, 300, cached_tokens=2_000, cache_write_tokens=9_000)
    paid = price_call("claude-sonnet-4-5", old_usage)
    with sqlite3.connect(path) as db:
        _old_table(db, "run_id TEXT")
        db.execute("INSERT INTO responses VALUES ('k', 'old answer', 12000, 300, "
                   "2000, 0, 9000, ?, 'price_map', 0.5, 0, 'old-run')",
                   (paid.usd,))

    with ResponseCache(path) as upgraded:
        hit = upgraded.get("k")
        upgraded.put("new", _claude_outcome())
        new = upgraded.get("new")

    assert hit is not None and hit.response == "old answer"
    assert hit.paid_by_run == "old-run" and hit.cost == paid
    # the split was never recorded: unknown, not zero, and priced as before
    assert hit.usage.cache_write_1h_tokens is None
    assert hit.usage.cache_write_tokens == 9_000
    assert price_call("claude-sonnet-4-5", hit.usage) == paid
    assert new is not None and new.usage.cache_write_1h_tokens == 6_000
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM responses").fetchone()[0] == 2
        assert db.execute("SELECT cache_write_1h_tokens FROM responses "
                          "WHERE key = 'k'").fetchone()[0] is None
