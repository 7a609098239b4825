"""A content-addressed response cache on disk, in SQLite.

The key is the sha256 of the canonical JSON of everything that decides a
response: the litellm model string, the ``api_base``, the messages and the
generation parameters.  The value is the response text, its token usage, its
cost and its latency.  Every finished call is committed at once, so a run that
is killed loses nothing it paid for, and re-running a suite answers from here
without a single call.

The database runs in WAL mode with a busy timeout, so a second process (another
run, or ``sqlite3`` on the command line) can read and write it at the same
time.  API keys are never part of a key or a value: ``api_key`` and header
parameters are dropped before hashing, and only the response is stored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from mre_eval.errors import DataError
from mre_eval.pricing import Cost
from mre_eval.providers.base import CallOutcome
from mre_eval.usage import Usage

log = logging.getLogger(__name__)

DEFAULT_CACHE_PATH = Path(".mre-eval-cache") / "responses.sqlite"

KEY_VERSION = 1

# never hashed: a key, or headers that may carry one
_SECRET_PARAMS = frozenset({"api_key", "extra_headers", "headers"})

_USAGE_FIELDS = ("input_tokens", "output_tokens", "cached_tokens",
                 "reasoning_tokens", "cache_write_tokens", "cache_write_1h_tokens")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    response TEXT NOT NULL,
    input_tokens INTEGER,
    output_tokens INTEGER,
    cached_tokens INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_1h_tokens INTEGER,
    cost_usd REAL,
    cost_source TEXT,
    latency_s REAL,
    created_at REAL NOT NULL,
    run_id TEXT
)
"""

# Columns added after the first caches were written, and their SQL type.
# Rows stored before cache_write_1h_tokens existed read it as NULL, not 0:
# their one-hour writes were never recorded, so 0 would claim there were
# none.  Pricing takes NULL as writes without a reported lifetime, at the
# five-minute rate, which is the price those rows were stored with, so an
# old answer stays in the cache and re-prices to what it cost.
_LATER_COLUMNS = {"run_id": "TEXT", "cache_write_1h_tokens": "INTEGER"}

_COLUMNS = ("key", "response", *_USAGE_FIELDS, "cost_usd", "cost_source",
            "latency_s", "created_at", "run_id")


class ResponseCache:
    """Finished model calls on disk, found by the hash of their request.

    Safe for any number of coroutines on one event loop (each method runs to
    completion without awaiting) and for threads (a lock guards the
    connection), and for other processes opening the same file.

    Args:
        path: the SQLite file; its folder is created when missing.

    Raises:
        DataError: the file exists but is not a response cache.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, timeout=30.0,
                                       check_same_thread=False,
                                       isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            # a killed process loses nothing committed; only power loss could
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
            self._add_later_columns()
        except sqlite3.DatabaseError as exc:
            raise DataError(
                f"{self.path} is not a usable response cache ({exc}); delete it "
                "or point the cache at another file") from exc

    def _add_later_columns(self) -> None:
        # an older cache file lacks them; adding a nullable column keeps
        # every stored row
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(responses)")}
        for name, kind in _LATER_COLUMNS.items():
            if name in columns:
                continue
            try:
                self._db.execute(f"ALTER TABLE responses ADD COLUMN {name} {kind}")
            except sqlite3.OperationalError:
                # another process opening the same file added it first
                if not self._has_column(name):
                    raise

    def _has_column(self, name: str) -> bool:
        return any(row[1] == name for row in
                   self._db.execute("PRAGMA table_info(responses)"))

    @staticmethod
    def key(model: str, api_base: str | None, messages: list[dict],
            params: dict[str, Any]) -> str:
        """The cache key of a request: sha256 of its canonical JSON.

        Args:
            model: the litellm model string.
            api_base: where the model is served, or ``None`` for the default.
            messages: the chat messages sent.
            params: generation parameters (temperature, max_tokens, ...).

        Returns:
            64 hex digits.  Key order in dicts and a trailing ``/`` on the
            ``api_base`` do not change it.
        """
        request = {
            "v": KEY_VERSION,
            "model": model,
            "api_base": api_base.rstrip("/") if api_base else None,
            "messages": messages,
            "params": {k: v for k, v in params.items() if k not in _SECRET_PARAMS},
        }
        text = json.dumps(request, sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def get(self, key: str) -> CallOutcome | None:
        """The cached outcome for ``key``, marked as a hit, or ``None``.

        A hit carries the original call's usage, cost and latency, the run
        that paid for it, and ``attempts=0``: no request was sent for it.
        """
        with self._lock:
            row = self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM responses WHERE key = ?",
                (key,)).fetchone()
        if row is None:
            return None
        record = dict(zip(_COLUMNS, row, strict=True))
        usage = Usage(**{name: record[name] for name in _USAGE_FIELDS})
        return CallOutcome(
            response=record["response"],
            usage=usage,
            cost=Cost(record["cost_usd"], record["cost_source"]),
            latency_s=record["latency_s"],
            cache_hit=True,
            attempts=0,
            paid_by_run=record["run_id"],
        )

    def put(self, key: str, outcome: CallOutcome, run_id: str | None = None) -> None:
        """Store a successful outcome and commit it; failures are not stored.

        Args:
            key: the request's :meth:`key`.
            outcome: what the call produced.
            run_id: the run that paid for the call, if any.
        """
        if outcome.error is not None or outcome.response is None:
            return
        usage = outcome.usage or Usage(None, None)
        values = (key, outcome.response,
                  *(getattr(usage, name) for name in _USAGE_FIELDS),
                  outcome.cost.usd, outcome.cost.source, outcome.latency_s,
                  time.time(), run_id)
        placeholders = ", ".join("?" for _ in _COLUMNS)
        with self._lock:
            self._db.execute(
                f"INSERT OR REPLACE INTO responses ({', '.join(_COLUMNS)}) "
                f"VALUES ({placeholders})", values)

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM responses")
                       .fetchone()[0])

    def close(self) -> None:
        """Close the database; the object is unusable afterwards."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
