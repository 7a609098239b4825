"""The complexity tier of a logged request.

With a routing.json (see :mod:`mre_eval.optimize`), a request's tier is what
the optimizer's classifier says for its task type and text, so the bill is cut
along the same tiers the router uses; that needs the request text in the logs.
Without one, requests are bucketed by input length in tokens.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mre_eval.errors import ConfigError, MreEvalError

log = logging.getLogger(__name__)

# (upper bound in input tokens, label); longer requests fall in the last label
LENGTH_BUCKETS = ((500, "short (<500 tok)"), (2_000, "medium (500-2k tok)"),
                  (8_000, "long (2k-8k tok)"))
LONGEST = "very long (8k+ tok)"
UNKNOWN_LENGTH = "unknown length"
NO_TEXT = "no text kept"


def length_bucket_sql(column: str = "input_tokens") -> str:
    """A SQL expression giving the length bucket of ``column``."""
    cases = " ".join(f"WHEN {column} < {bound} THEN '{label}'"
                     for bound, label in LENGTH_BUCKETS)
    return (f"CASE WHEN {column} IS NULL THEN '{UNKNOWN_LENGTH}' {cases} "
            f"ELSE '{LONGEST}' END")


def classify_with_router(con: Any, routing: Path, table: str = "calls") -> int:
    """Fill a ``tiers(feature, request_text, tier)`` table with the router's tiers.

    Returns:
        The number of distinct requests classified.

    Raises:
        ConfigError: when the router cannot be loaded.
    """
    router = load_router(routing)
    rows = con.execute(f"SELECT DISTINCT feature, request_text FROM {table} "
                       "WHERE request_text IS NOT NULL").fetchall()
    con.execute("CREATE TEMP TABLE tiers (feature VARCHAR, request_text VARCHAR, "
                "tier VARCHAR)")
    tiers = [(feature, text, _tier(router, feature, text)) for feature, text in rows]
    if tiers:
        con.executemany("INSERT INTO tiers VALUES (?, ?, ?)", tiers)
    return len(tiers)


def load_router(routing: Path) -> Any:
    """Load the router of a routing.json, or say clearly why it cannot be."""
    if not routing.exists():
        raise ConfigError(f"no routing file at {routing}: give the routing.json "
                          "that `mre-eval optimize` wrote, or leave --routing out "
                          "to bucket requests by length")
    try:
        from mre_eval import Router  # type: ignore[attr-defined]
    except ImportError as exc:
        raise ConfigError(
            "complexity tiers from a routing.json need mre_eval.Router, which "
            "this installation does not provide; leave --routing out to bucket "
            "requests by length") from exc
    try:
        return Router.load(routing)
    except MreEvalError:
        raise
    except Exception as exc:  # a file of another version, say
        raise ConfigError(
            f"{routing} could not be loaded as a routing file ({type(exc).__name__}: "
            f"{exc}); re-run `mre-eval optimize` with this version, or leave "
            "--routing out to bucket requests by length") from exc


def _tier(router: Any, feature: str | None, text: str) -> str:
    try:
        return str(router.route(feature or "", text).tier)
    except Exception as exc:  # an unknown task type, say; keep the report going
        log.debug("no tier for a %s request: %s", feature, exc)
        return "unrouted"
