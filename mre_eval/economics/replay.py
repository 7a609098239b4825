"""One cache partition's replay, at every threshold of a sweep in one pass.

The distinct texts are embedded once and each gets its ``k`` nearest other
texts above the sweep's lowest threshold.  Requests are then replayed in order
with one cache per threshold: a request hits when a stored text is at least as
similar as the threshold, and is served the most similar one.  When every kept
neighbour above the threshold is unstored and more neighbours existed, the
request is compared with every stored text, so the result is exact.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from mre_eval.economics.similarity import Cosine, Embedder, neighbours
from mre_eval.economics.traffic import exact_key

EPS = 1e-5  # float32 cosine of identical texts can read 0.99999994

HitRow = tuple[int, int, float]  # (new, cached, similarity), partition indices


class GroupReplay:
    """One partition's texts, their vectors and their nearest neighbours.

    Args:
        texts: the partition's request texts in arrival order.
        embedder: turns the distinct texts into unit vectors.
        floor: the lowest threshold that will be replayed.
        k: neighbours kept per distinct text.
    """

    def __init__(self, texts: list[str], embedder: Embedder, floor: float,
                 k: int) -> None:
        keys: dict[str, int] = {}
        self.text_ids = [keys.setdefault(exact_key(t), len(keys)) for t in texts]
        distinct = list({exact_key(t): t for t in texts}.values())
        started = time.perf_counter()
        self.vectors: Any = embedder.embed(distinct)
        self.embed_seconds = time.perf_counter() - started
        self.distinct = len(distinct)
        with _one_thread():
            found = neighbours(self.vectors, floor, k)
        self._index, self._score, self._truncated = _padded(found, len(distinct))
        self._cosine: Cosine | None = None
        self._last_row: tuple[int, Any] = (-1, None)
        self.fallbacks = 0

    def run(self, thresholds: list[float]) -> list[list[HitRow]]:
        """The hits at each threshold, in the thresholds' order."""
        limits = np.asarray(thresholds, dtype=np.float32) - EPS
        # one spare column that is never stored stands for padding
        entry = np.full((len(limits), self.distinct + 1), -1, dtype=np.int64)
        self._stored = np.empty((len(limits), self.distinct), dtype=np.int64)
        self._count = np.zeros(len(limits), dtype=np.int64)
        self._rows = np.arange(len(limits))
        self._limits = limits.tolist()
        out: list[list[HitRow]] = [[] for _ in thresholds]
        with _one_thread():
            for i, u in enumerate(self.text_ids):
                self._one(i, u, limits, entry, out)
        return out

    def _one(self, i: int, u: int, limits: np.ndarray, entry: np.ndarray,
             out: list[list[HitRow]]) -> None:
        cand, score = self._index[u], self._score[u]
        usable = (entry[:, cand] >= 0) & (score[None, :] >= limits[:, None])
        first = usable.argmax(axis=1)
        found = usable[self._rows, first].tolist()
        served = entry[self._rows, cand[first]].tolist()
        similarity = score[first].tolist()
        own = entry[:, u].tolist()
        deep = bool(self._truncated[u])
        for t, limit in enumerate(self._limits):
            if own[t] >= 0:
                out[t].append((i, own[t], 1.0))
            elif found[t]:
                out[t].append((i, served[t], similarity[t]))
            elif not (deep and score[-1] >= limit
                      and self._scan(i, u, t, limit, entry, out)):
                entry[t, u] = i
                self._stored[t, self._count[t]] = u
                self._count[t] += 1

    def _scan(self, i: int, u: int, t: int, limit: float, entry: np.ndarray,
              out: list[list[HitRow]]) -> bool:
        # more neighbours than were kept: compare with every stored text
        ids = self._stored[t, :self._count[t]]
        if not len(ids):
            return False
        sims = self._row(i, u)[ids]
        best = int(np.argmax(sims))
        if sims[best] < limit:
            return False
        out[t].append((i, int(entry[t, ids[best]]), float(sims[best])))
        return True


    def _row(self, i: int, u: int) -> np.ndarray:
        # one full row per request, shared by every threshold that needs it
        if self._last_row[0] != i:
            self.fallbacks += 1
            if self._cosine is None:
                self._cosine = Cosine(self.vectors)
            self._last_row = (i, self._cosine.row(u))
        return self._last_row[1]


def _one_thread() -> Any:
    from threadpoolctl import threadpool_limits

    # BLAS threads only wait on each other over these small products, and
    # badly so on a busy machine
    return threadpool_limits(limits=1, user_api="blas")


def _padded(nb: Any, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    width = max(1, max((len(ix) for ix in nb.index), default=1))
    index = np.full((n, width), n, dtype=np.int32 if n < 2**31 - 1 else np.int64)
    score = np.full((n, width), -np.inf, dtype=np.float32)
    for u, (ix, sc) in enumerate(zip(nb.index, nb.score)):
        index[u, :len(ix)] = ix
        score[u, :len(sc)] = sc
    return index, score, nb.truncated
