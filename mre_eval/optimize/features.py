"""Request text to numbers: what the complexity classifier reads.

The default featurizer joins three scikit-learn-compatible parts: word uni- and
bigram TF-IDF, character n-gram TF-IDF, and a few length and structure counts.
It also has a fast path, :meth:`TextFeaturizer.vector`, that computes one
request's sparse vector with plain dictionary look-ups, so that routing a
request costs well under a millisecond; it gives the same numbers as
:meth:`~TextFeaturizer.transform`.

Long requests are read as their head and tail only (``head_chars`` and
``tail_chars``, and ``char_chars`` for character n-grams): this bounds the
time a request takes to route.  Length features always see the whole text.

Other featurizers (sentence embeddings, say) plug in through
:func:`register_featurizer`: any scikit-learn transformer with ``fit`` and
``transform`` over a list of strings will do.  They must be importable
wherever the saved classifier is loaded.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer

from mre_eval.errors import ConfigError

_WORD = re.compile(r"(?u)\b\w\w+\b")
_CODE_CHARS = b"{};="
_SPACE = b" \t\n"
_DIGITS = b"0123456789"
_UPPER = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_PUNCT = bytes(c for c in range(33, 127) if not chr(c).isalnum())
STRUCTURE_NAMES = ("log_chars", "log_spaces", "log_lines", "digits", "upper",
                   "punctuation", "code_marks", "questions")


class Featurizer(Protocol):
    """What the classifier needs from a featurizer."""

    def fit(self, texts: list[str], y: Any = None) -> Featurizer: ...

    def transform(self, texts: list[str]) -> Any: ...


def word_tokens(text: str, head: int, tail: int) -> list[str]:
    """Lower-cased words and adjacent word pairs of the head and tail."""
    words = _WORD.findall(_clip(text, head, tail).lower())
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


def char_grams(text: str, window: int, low: int, high: int) -> list[str]:
    """Character n-grams of the last ``window`` characters, spaces squeezed."""
    squeezed = " ".join(text[-window:].lower().split())
    return [squeezed[i:i + n] for n in range(low, high + 1)
            for i in range(len(squeezed) - n + 1)]


def structure(text: str) -> list[float]:
    """Length and shape counts of the whole text, in STRUCTURE_NAMES order.

    Digits, capitals and punctuation are counted among ASCII characters.
    """
    raw = text.encode("utf-8", "replace")
    chars = max(len(raw), 1)
    digits = len(raw) - len(raw.translate(None, _DIGITS))
    upper = len(raw) - len(raw.translate(None, _UPPER))
    punct = len(raw) - len(raw.translate(None, _PUNCT))
    spaces = len(raw) - len(raw.translate(None, _SPACE))
    code = (len(raw) - len(raw.translate(None, _CODE_CHARS)) + raw.count(b"def ")
            + raw.count(b"return") + raw.count(b"```"))
    return [math.log1p(len(text)), math.log1p(spaces), math.log1p(raw.count(b"\n")),
            digits / chars, upper / chars, punct / chars, math.log1p(code),
            math.log1p(raw.count(b"?"))]


class TextFeaturizer(BaseEstimator, TransformerMixin):
    """Word and character TF-IDF plus structure counts, as one sparse matrix.

    Args:
        max_features: vocabulary cap for each of the two TF-IDF parts.
        head_chars: characters read from a request's start for words.
        tail_chars: characters read from its end for words.
        char_chars: characters read from its end for character n-grams.
        char_ngrams: the (shortest, longest) character n-gram.
    """

    def __init__(self, max_features: int = 10000, head_chars: int = 128,
                 tail_chars: int = 512, char_chars: int = 256,
                 char_ngrams: tuple[int, int] = (3, 4)) -> None:
        self.max_features = max_features
        self.head_chars = head_chars
        self.tail_chars = tail_chars
        self.char_chars = char_chars
        self.char_ngrams = char_ngrams

    def fit(self, texts: list[str], y: Any = None) -> TextFeaturizer:
        """Learn both vocabularies and the structure counts' scale."""
        self.fit_transform(texts)
        return self

    def fit_transform(self, texts: list[str], y: Any = None) -> sp.csr_matrix:
        """Fit on ``texts`` and return their feature matrix."""
        min_df = 2 if len(texts) >= 20 else 1
        low, high = self.char_ngrams
        self.word_ = TfidfVectorizer(
            analyzer=partial(word_tokens, head=self.head_chars, tail=self.tail_chars),
            min_df=min_df, max_features=self.max_features, sublinear_tf=True)
        self.char_ = TfidfVectorizer(
            analyzer=partial(char_grams, window=self.char_chars, low=low, high=high),
            min_df=min_df, max_features=self.max_features, sublinear_tf=True)
        words = self.word_.fit_transform(texts)
        chars = self.char_.fit_transform(texts)
        shape = np.array([structure(t) for t in texts]).reshape(len(texts), -1)
        self.shape_mean_ = shape.mean(axis=0)
        self.shape_scale_ = np.where(shape.std(axis=0) > 0, shape.std(axis=0), 1.0)
        self._compile()
        scaled = (shape - self.shape_mean_) / self.shape_scale_
        return sp.hstack([words, chars, sp.csr_matrix(scaled)], format="csr")

    def transform(self, texts: list[str]) -> sp.csr_matrix:
        """The feature matrix of ``texts``, one row each."""
        shape = (np.array([structure(t) for t in texts]).reshape(len(texts), -1)
                 - self.shape_mean_) / self.shape_scale_
        return sp.hstack([self.word_.transform(texts), self.char_.transform(texts),
                          sp.csr_matrix(shape)], format="csr")

    @property
    def n_features(self) -> int:
        """Width of a feature vector."""
        return self.offset_char_ + len(self.char_idf_) + len(STRUCTURE_NAMES)

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """One request's (indices, values): the fast path of :meth:`transform`."""
        known = [i for i in map(self.word_vocab_.get, self.word_tokens_(text))
                 if i is not None]
        known += [i for i in map(self.char_vocab_.get, self.char_grams_(text))
                  if i is not None]
        idx, tf = np.unique(np.array(known, dtype=np.int64), return_counts=True)
        values = (1.0 + np.log(tf)) * self.idf_[idx]
        split = int(np.searchsorted(idx, self.offset_char_))
        for part in (values[:split], values[split:]):   # each block has unit norm
            if len(part):
                part /= np.sqrt(part @ part)
        shape = (np.array(structure(text)) - self.shape_mean_) / self.shape_scale_
        return (np.concatenate([idx, self.shape_idx_]),
                np.concatenate([values, shape]))

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if hasattr(self, "word_"):
            self._compile()

    def __getstate__(self) -> dict[str, Any]:
        compiled = ("word_vocab_", "char_vocab_", "word_idf_", "char_idf_",
                    "word_tokens_", "char_grams_", "offset_char_", "shape_idx_",
                    "idf_")
        return {k: v for k, v in self.__dict__.items() if k not in compiled}

    def _compile(self) -> None:
        self.word_vocab_ = dict(self.word_.vocabulary_)
        self.char_vocab_ = dict(self.char_.vocabulary_)
        self.word_idf_ = np.asarray(self.word_.idf_, dtype=float)
        self.char_idf_ = np.asarray(self.char_.idf_, dtype=float)
        self.word_tokens_ = self.word_.analyzer
        self.char_grams_ = self.char_.analyzer
        self.offset_char_ = len(self.word_idf_)
        self.char_vocab_ = {k: v + self.offset_char_
                            for k, v in self.char_vocab_.items()}
        self.idf_ = np.concatenate([self.word_idf_, self.char_idf_])
        self.shape_idx_ = (np.arange(len(STRUCTURE_NAMES)) + self.offset_char_
                           + len(self.char_idf_))


def _clip(text: str, head: int, tail: int) -> str:
    if len(text) <= head + tail:
        return text
    return text[:head] + "\n" + text[-tail:]


FEATURIZERS: dict[str, Callable[[], Any]] = {"tfidf": TextFeaturizer}


def register_featurizer(name: str, factory: Callable[[], Any]) -> None:
    """Make a featurizer available by name (to ``optimize(featurizer=...)``)."""
    FEATURIZERS[name] = factory


def make_featurizer(name: str) -> Any:
    """A fresh, unfitted featurizer by its registered name.

    Raises:
        ConfigError: for an unknown name.
    """
    if name not in FEATURIZERS:
        raise ConfigError(
            f"featurizer {name!r} is not known: use one of {sorted(FEATURIZERS)}, "
            "or register yours with mre_eval.optimize.features.register_featurizer")
    return FEATURIZERS[name]()
