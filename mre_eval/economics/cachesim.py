"""Replaying traffic through an exact-match cache and a semantic cache.

Requests are replayed in arrival order.  A miss is sent to the model and its
answer is stored under the request; a hit serves the stored answer of the most
similar stored request at or above the threshold and stores nothing.  Each task
type has its own cache: a billing answer is never served to a refund request.

For every threshold of the sweep the replay counts hits, the dollars the hits
did not spend, and false hits: hits whose stored answer is wrong for the new
request (judged by :mod:`mre_eval.economics.judging`).  The recommended
threshold is the loosest whose false-hit rate has a 95% Wilson upper bound
below the tolerance.  The threshold is picked on the same traffic it is
measured on, so the bound is a little optimistic; confirm it on fresh traffic.

Costs of the cache itself (embedding each request, the lookup) are not
included in the dollars saved.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


from mre_eval.economics.judging import Judge, NearMiss, judge_pairs, near_misses
from mre_eval.economics.replay import GroupReplay
from mre_eval.economics.similarity import Embedder
from mre_eval.economics.traffic import Request, exact_key
from mre_eval.errors import ConfigError
from mre_eval.stats import Estimate, wilson

log = logging.getLogger(__name__)

DEFAULT_THRESHOLDS = tuple(round(0.30 + 0.05 * i, 2) for i in range(15))
DEFAULT_TOLERANCE = 0.02


@dataclass(frozen=True)
class Hit:
    """One request served from the cache."""

    new: int        # index of the request served
    cached: int     # index of the request whose stored answer was served
    similarity: float


@dataclass
class Level:
    """What one cache setting did over the whole replay."""

    label: str                       # "exact" or the threshold as text
    threshold: float | None
    requests: int
    hits: list[Hit]
    false_hits: list[Hit] = field(default_factory=list)
    saved_usd: float | None = None
    unpriced_hits: int = 0

    @property
    def hit_rate(self) -> float:
        return len(self.hits) / self.requests if self.requests else 0.0

    @property
    def false_rate(self) -> Estimate:
        """False hits over hits, with its 95% Wilson interval."""
        return wilson(len(self.false_hits), len(self.hits))


@dataclass
class CacheSimResult:
    """The whole sweep and what it recommends."""

    embedder: str
    tolerance: float
    requests: list[Request]
    exact: Level
    levels: list[Level]
    recommended: Level | None
    near_misses: list[NearMiss] = field(default_factory=list)
    truncated_lookups: int = 0
    embedded_texts: int = 0
    embed_seconds: float = 0.0

    @property
    def priced(self) -> bool:
        return any(r.cost_usd is not None for r in self.requests)


def simulate(requests: Sequence[Request], embedder: Embedder,
             thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
             tolerance: float = DEFAULT_TOLERANCE,
             judge: Judge | None = None, k: int = 256) -> CacheSimResult:
    """Replay ``requests`` (already in arrival order) at every threshold.

    Args:
        requests: the traffic, in arrival order.
        embedder: turns texts into unit vectors.
        thresholds: similarity thresholds to sweep, each in (0, 1].
        tolerance: the false-hit rate a team accepts, in (0, 1).
        judge: decides whether a stored answer is right for a new request;
            answer-key equality when omitted.
        k: neighbours kept per distinct text; more are looked up on demand.

    Raises:
        ConfigError: for a tolerance or threshold out of range, or no requests.
    """
    thresholds = check_sweep(thresholds, tolerance, len(requests))
    requests = list(requests)
    exact = Level("exact", None, len(requests), _exact_hits(requests))
    sweep, replays = _semantic(requests, embedder, thresholds, k)
    levels = [Level(f"{t:.2f}", t, len(requests), hits) for t, hits in sweep]

    wrong = judge_pairs(requests, _all_pairs([exact, *levels]), judge)
    for level in (exact, *levels):
        level.false_hits = [h for h in level.hits if (h.cached, h.new) in wrong]
        level.saved_usd, level.unpriced_hits = _saved(requests, level.hits)
    recommended = recommend(levels, tolerance)
    served = [(h.cached, h.new) for h in recommended.false_hits] \
        if recommended else []
    near = near_misses(requests, {(h.cached, h.new, h.similarity)
                                  for lv in levels for h in lv.false_hits},
                       served=served)
    return CacheSimResult(
        embedder.name, tolerance, requests, exact, levels, recommended, near,
        truncated_lookups=sum(r.fallbacks for r in replays),
        embedded_texts=sum(r.distinct for r in replays),
        embed_seconds=sum(r.embed_seconds for r in replays))


def check_sweep(thresholds: Sequence[float], tolerance: float,
                n_requests: int) -> list[float]:
    """Validate the sweep's inputs; the thresholds sorted, loosest first."""
    if not 0 < tolerance < 1:
        raise ConfigError(
            f"tolerance {tolerance!r} is outside (0, 1): give the false-hit rate "
            "you accept as a fraction, e.g. 0.02 for 2%")
    bad = [t for t in thresholds if not 0 < t <= 1]
    if bad or not thresholds:
        raise ConfigError(
            f"similarity thresholds {bad or list(thresholds)} are not allowed: "
            "give one or more values in (0, 1], e.g. 0.6,0.7,0.8")
    if n_requests == 0:
        raise ConfigError("no requests to replay: the dataset or run is empty")
    return sorted(set(float(t) for t in thresholds))


def recommend(levels: Sequence[Level], tolerance: float) -> Level | None:
    """The loosest level whose false-hit upper bound is below ``tolerance``."""
    safe = [lv for lv in levels if lv.hits and lv.false_rate.high < tolerance]
    return min(safe, key=lambda lv: lv.threshold or 1.0) if safe else None


def _exact_hits(requests: list[Request]) -> list[Hit]:
    first: dict[tuple[str, str], int] = {}
    hits = []
    for i, req in enumerate(requests):
        key = (req.group, exact_key(req.text))
        if key in first:
            hits.append(Hit(i, first[key], 1.0))
        else:
            first[key] = i
    return hits


def _semantic(requests: list[Request], embedder: Embedder,
              thresholds: list[float], k: int,
              ) -> tuple[list[tuple[float, list[Hit]]], list[GroupReplay]]:
    hits: dict[float, list[Hit]] = {t: [] for t in thresholds}
    groups: dict[str, list[int]] = {}
    for i, req in enumerate(requests):
        groups.setdefault(req.group, []).append(i)
    replays = []
    for members in groups.values():
        replay = GroupReplay([requests[i].text for i in members], embedder,
                             min(thresholds), k)
        for t, rows in zip(thresholds, replay.run(thresholds)):
            hits[t] += [Hit(members[n], members[c], s) for n, c, s in rows]
        replays.append(replay)
    for t in thresholds:
        hits[t].sort(key=lambda h: h.new)
    return [(t, hits[t]) for t in thresholds], replays


def _all_pairs(levels: Sequence[Level]) -> set[tuple[int, int]]:
    return {(h.cached, h.new) for lv in levels for h in lv.hits}


def _saved(requests: list[Request], hits: list[Hit]) -> tuple[float | None, int]:
    costs = [requests[h.new].cost_usd for h in hits]
    priced = [c for c in costs if c is not None]
    unpriced = len(costs) - len(priced)
    if not priced and unpriced:
        return None, unpriced
    return float(sum(priced)), unpriced


def hit_rate_by_quarter(level: Level) -> list[float]:
    """The hit rate within each quarter of the stream, in arrival order.

    A rate that climbs from quarter to quarter means repeats grow with the
    traffic seen: at a higher volume the cache would likely hit more often.
    """
    bounds = [round(level.requests * q / 4) for q in range(5)]
    new = sorted(h.new for h in level.hits)
    rates = []
    for low, high in zip(bounds, bounds[1:]):
        inside = sum(1 for i in new if low <= i < high)
        rates.append(inside / (high - low) if high > low else float("nan"))
    return rates


def by_task_type(result: CacheSimResult, level: Level) -> dict[str, dict[str, Any]]:
    """One cache setting's figures within each task type (cache partition).

    Each task type is replayed in its own cache, so its hit rate is its own
    traffic's: what a forecast should apply to that task type's volume.  The
    false-hit rate's upper bound is checked against the tolerance per task
    type too; a task type with few hits may not get under it even when the
    whole traffic does.  Requests without a task type are left out.
    """
    counts: dict[str, dict[str, Any]] = {}
    for req in result.requests:
        if req.group:
            counts.setdefault(req.group, {"requests": 0, "hits": [], "false": 0})
            counts[req.group]["requests"] += 1
    wrong = {(h.cached, h.new) for h in level.false_hits}
    for hit in level.hits:
        group = counts.get(result.requests[hit.new].group)
        if group is not None:
            group["hits"].append(hit)
            group["false"] += (hit.cached, hit.new) in wrong
    return {name: _group_row(result, c, level.threshold)
            for name, c in sorted(counts.items())}


def _group_row(result: CacheSimResult, counts: dict[str, Any],
               threshold: float | None) -> dict[str, Any]:
    hits = counts["hits"]
    rate = wilson(counts["false"], len(hits))
    saved, unpriced = _saved(result.requests, hits)
    return {
        "threshold": threshold, "requests": counts["requests"],
        "hits": len(hits), "hit_rate": len(hits) / counts["requests"],
        "false_hits": counts["false"],
        "false_hit_rate": rate.point if hits else None,
        "false_hit_rate_high": rate.high,
        "within_tolerance": bool(hits) and rate.high < result.tolerance,
        "saved_usd": saved, "unpriced_hits": unpriced}


def sweep_table(result: CacheSimResult) -> list[dict[str, Any]]:
    """One plain row per cache setting, for ``--json`` and the decision log."""
    rows = []
    for level in (result.exact, *result.levels):
        rate = level.false_rate
        rows.append({
            "cache": level.label, "requests": level.requests,
            "hits": len(level.hits), "hit_rate": level.hit_rate,
            "false_hits": len(level.false_hits),
            "false_hit_rate": None if not level.hits else rate.point,
            "false_hit_rate_high": rate.high,
            "saved_usd": level.saved_usd, "unpriced_hits": level.unpriced_hits,
        })
    return rows

