"""Which cache hit rate a forecast applies to each traffic stream, and why.

The sources, most specific first:

- ``--cache-hit-rate X``: one rate, given on purpose, for every task type;
- a ``cache-sim --json`` report: each task type's own hit rate at the
  recommended threshold, since the replay keeps one cache per task type and
  a FAQ repeats far more than troubleshooting does.  A task type the report
  holds no traffic for gets the report's overall rate, and is named;
- nothing: caching does not lower that stream's bill, and it says so.

A scenario file's tiers carry their own figures (``cache_hit_rate`` or
``cached_price``); :func:`from_tier` says which one a tier used.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mre_eval.errors import ConfigError, DataError

OVERRIDE = "--cache-hit-rate"
TASK_TYPE = "cache-sim task type"
OVERALL = "cache-sim overall"
SCENARIO = "scenario"
NONE = "none"

_NO_FIGURES = ("no cache figures: caching is not counted (give --cache-sim "
               "REPORT or --cache-hit-rate)")


@dataclass(frozen=True)
class StreamCache:
    """The cache figure one stream's cached bill rests on.

    Attributes:
        stream: the task type or tier.
        hit_rate: the share of its requests served from the cache; ``None``
            when none applies or a scenario gives a cached price instead.
        source: one of ``--cache-hit-rate``, ``cache-sim task type``,
            ``cache-sim overall``, ``scenario`` or ``none``.
        detail: where the figure comes from, in words.
    """

    stream: str
    hit_rate: float | None
    source: str
    detail: str


@dataclass(frozen=True)
class CacheRates:
    """The hit rates a forecast of task types may apply."""

    override: float | None = None
    report: str | None = None
    threshold: float | None = None
    embedder: str | None = None
    requests: float | None = None
    overall: float | None = None
    tolerance: float | None = None
    per_type: dict[str, dict[str, Any]] | None = None  # None: the report has none

    def for_task(self, name: str) -> StreamCache:
        """The rate for task type ``name`` and where it comes from."""
        if self.override is not None:
            return StreamCache(name, self.override, OVERRIDE,
                               f"--cache-hit-rate {_pct(self.override)}, given "
                               "for every task type")
        if self.overall is None:
            return StreamCache(name, None, NONE, _NO_FIGURES)
        row = (self.per_type or {}).get(name)
        if row is not None:
            return StreamCache(name, row["hit_rate"], TASK_TYPE,
                               self._own(name, row))
        why = (f"{self.report} has no per-task-type figures (re-run cache-sim "
               "to get them)" if self.per_type is None else
               f"{self.report} holds no {name} traffic")
        over = "" if _unknown(self.requests) else \
            f" over {self.requests:,.0f} requests"
        return StreamCache(name, self.overall, OVERALL,
                           f"{why}: the report's overall rate{over}{self._at()}")

    def _at(self) -> str:
        return "" if _unknown(self.threshold) else \
            f" at threshold {self.threshold:.2f}"

    def unused(self, names: Iterable[str]) -> list[str]:
        """Task types the report covers that the forecast does not."""
        if self.override is not None:
            return []
        return sorted(set(self.per_type or {}) - set(names))

    def _own(self, name: str, row: dict[str, Any]) -> str:
        said = (f"{self.report}{self._at()} ({self.embedder}): "
                f"{row['hits']:,} of {row['requests']:,} {name} requests hit, "
                f"{row['false_hits']} of them false (95% upper bound "
                f"{_pct(row['false_hit_rate_high'])})")
        if row.get("within_tolerance") is False:
            said += (f"; above the {_pct(self.tolerance)} tolerance for this "
                     "task type")
        return said


def load_rates(hit_rate: float | None, report: Path | None) -> CacheRates:
    """The override, or the figures of a cache-sim report, checked.

    Raises:
        ConfigError: for both given, or a rate outside [0, 1).
        DataError: for a file that is not a cache-sim report, or one that
            recommends no threshold.
    """
    if hit_rate is not None and report is not None:
        raise ConfigError("give --cache-hit-rate or --cache-sim, not both: "
                          "--cache-hit-rate overrides the report for every "
                          "task type")
    if hit_rate is not None:
        return CacheRates(override=_rate(hit_rate, "cache hit rate", ConfigError))
    if report is None:
        return CacheRates()
    return _from_report(Path(report))


def from_tier(tier: Any) -> StreamCache:
    """Which of a scenario tier's cache figures its cached bill uses."""
    if tier.cached_price is not None:
        return StreamCache(tier.name, None, SCENARIO,
                           f"cached_price {tier.cached_price:g} a request in "
                           "the scenario file")
    if tier.cache_hit_rate is not None:
        return StreamCache(tier.name, tier.cache_hit_rate, SCENARIO,
                           "cache_hit_rate in the scenario file")
    return StreamCache(tier.name, None, NONE,
                       "no cache figure in the scenario file: caching does "
                       "not change its bill")


def _from_report(path: Path) -> CacheRates:
    try:
        data = json.loads(path.read_text())
        rec = data["recommended"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{path} is not a cache-sim --json report: {exc}; "
                        "write one with `mre-eval cache-sim ... --json`") from None
    if rec is None:
        raise DataError(f"{path} recommends no threshold, so there is no "
                        "hit rate to forecast with")
    if not isinstance(rec, dict) or "hit_rate" not in rec:
        raise DataError(f"{path}: its recommendation has no hit_rate; is it a "
                        "cache-sim --json report?")
    where = f"{path}: recommended"
    per_type = rec.get("by_task_type")
    if per_type is not None and not isinstance(per_type, dict):
        raise DataError(f"{where}.by_task_type is not an object of task types")
    rows = None if per_type is None else {
        str(name): _type_row(row, f"{where}.by_task_type.{name}")
        for name, row in per_type.items()}
    return CacheRates(
        report=str(path), threshold=_number(rec.get("threshold"), where),
        embedder=str(rec.get("embedder") or data.get("embedder") or "?"),
        requests=_number(data.get("requests"), f"{path}: requests"),
        overall=_rate(rec["hit_rate"], f"{where}.hit_rate", DataError),
        tolerance=_number(rec.get("tolerance", data.get("tolerance")),
                          f"{where}.tolerance"),
        per_type=rows)


def _type_row(row: Any, where: str) -> dict[str, Any]:
    needed = ("requests", "hits", "hit_rate", "false_hits", "false_hit_rate_high")
    if not isinstance(row, dict) or any(k not in row for k in needed):
        raise DataError(f"{where}: needs {', '.join(needed)}; re-run cache-sim "
                        "--json to write it again")
    return row | {"hit_rate": _rate(row["hit_rate"], f"{where}.hit_rate",
                                    DataError)}


def _rate(value: Any, what: str, error: type[Exception]) -> float:
    try:
        rate = float(value)
    except (TypeError, ValueError):
        rate = math.nan
    if not 0 <= rate < 1:
        raise error(f"{what} {value!r} is outside [0, 1): give the share of "
                    "requests served from the cache, e.g. 0.25")
    return rate


def _number(value: Any, what: str) -> float:
    # a figure only described in the output; a missing one reads as NaN
    if value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DataError(f"{what} {value!r} is not a number; re-run cache-sim "
                        "--json to write the report again") from None


def _unknown(value: float | None) -> bool:
    return value is None or math.isnan(value)


def _pct(value: float | None) -> str:
    if _unknown(value):
        return "-"
    return f"{value * 100:.1f}%"
