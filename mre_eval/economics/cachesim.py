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
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mre_eval.economics.judging import Judge, NearMiss, judge_pairs, near_misses
from mre_eval.economics.similarity import (Embedder, neighbours,
                                           similarity_rows)
from mre_eval.economics.traffic import Request, exact_key
from mre_eval.errors import ConfigError
from mre_eval.stats import Estimate, wilson

log = logging.getLogger(__name__)

DEFAULT_THRESHOLDS = tuple(round(0.30 + 0.05 * i, 2) for i in range(15))
DEFAULT_TOLERANCE = 0.02
_EPS = 1e-5  # float32 cosine of identical texts can read 0.99999994


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
             judge: Judge | None = None, k: int = 32) -> CacheSimResult:
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
    near = near_misses(requests, {(h.cached, h.new, h.similarity)
                                  for lv in levels for h in lv.false_hits})
    return CacheSimResult(
        embedder.name, tolerance, requests, exact, levels, recommended, near,
        truncated_lookups=sum(r.fallbacks for r in replays),
        embedded_texts=sum(len(r.nb_index) for r in replays),
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
              ) -> tuple[list[tuple[float, list[Hit]]], list[_GroupReplay]]:
    hits: dict[float, list[Hit]] = {t: [] for t in thresholds}
    replays = []
    groups: dict[str, list[int]] = {}
    for i, req in enumerate(requests):
        groups.setdefault(req.group, []).append(i)
    for members in groups.values():
        replay = _GroupReplay([requests[i].text for i in members], embedder,
                              min(thresholds), k)
        for t in thresholds:
            for new, cached, sim in replay.run(t):
                hits[t].append(Hit(members[new], members[cached], sim))
        replays.append(replay)
    for t in thresholds:
        hits[t].sort(key=lambda h: h.new)
    return [(t, hits[t]) for t in thresholds], replays


class _GroupReplay:
    """One task type's traffic, its distinct texts and their neighbours."""

    def __init__(self, texts: list[str], embedder: Embedder, floor: float,
                 k: int) -> None:
        keys: dict[str, int] = {}
        self.text_ids = [keys.setdefault(exact_key(t), len(keys)) for t in texts]
        distinct = list({exact_key(t): t for t in texts}.values())
        started = time.perf_counter()
        self.vectors = embedder.embed(distinct)
        self.embed_seconds = time.perf_counter() - started
        nb = neighbours(self.vectors, floor, k)
        self.nb_index = [ix.tolist() for ix in nb.index]
        self.nb_score = [sc.tolist() for sc in nb.score]
        self.truncated = nb.truncated
        self.fallbacks = 0

    def run(self, threshold: float) -> list[tuple[int, int, float]]:
        """(new, cached, similarity) for every hit at ``threshold``."""
        entry = np.full(len(self.nb_index), -1, dtype=np.int64)
        out = []
        for i, u in enumerate(self.text_ids):
            if entry[u] >= 0:
                out.append((i, int(entry[u]), 1.0))
                continue
            found = self._lookup(u, threshold, entry)
            if found is None:
                entry[u] = i
            else:
                out.append((i, *found))
        return out

    def _lookup(self, u: int, threshold: float,
                entry: np.ndarray) -> tuple[int, float] | None:
        scores = self.nb_score[u]
        for v, s in zip(self.nb_index[u], scores):
            if s < threshold - _EPS:
                return None
            if entry[v] >= 0:
                return int(entry[v]), float(s)
        if self.truncated[u] and scores and scores[-1] >= threshold - _EPS:
            return self._scan(u, threshold, entry)
        return None

    def _scan(self, u: int, threshold: float,
              entry: np.ndarray) -> tuple[int, float] | None:
        # more neighbours than were kept: compare against every stored text
        self.fallbacks += 1
        row = similarity_rows(self.vectors, [u])[0]
        row[u] = -1.0
        row[entry < 0] = -1.0
        best = int(np.argmax(row))
        if row[best] >= threshold - _EPS:
            return int(entry[best]), float(row[best])
        return None


def _all_pairs(levels: Sequence[Level]) -> set[tuple[int, int]]:
    return {(h.cached, h.new) for lv in levels for h in lv.hits}


def _saved(requests: list[Request], hits: list[Hit]) -> tuple[float | None, int]:
    costs = [requests[h.new].cost_usd for h in hits]
    priced = [c for c in costs if c is not None]
    unpriced = len(costs) - len(priced)
    if not priced and unpriced:
        return None, unpriced
    return float(sum(priced)), unpriced


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

