"""The complexity classifier: each configuration's expected quality on a request.

For one task type it predicts, from the request text, the chance that each
candidate configuration passes (or its expected graded score): a
scikit-learn pipeline of a text featurizer and a multi-output ridge
regression, clipped to [0, 1].  A linear model on sparse TF-IDF fits in a
fraction of a second and routes in microseconds.

Cross-fitting.  Each request falls in one of ``folds`` folds by a salted hash
of its text (equal texts share a fold).  Fold ``j``'s model is trained on the
other folds only, and its predictions on fold ``j`` are the out-of-fold
predictions that cut-offs are chosen on and quality is measured on.  In
production a request is scored by the model of the fold its hash falls in,
which never saw it: so live predictions are distributed exactly like the
out-of-fold ones the promise was measured on.  The featurizer learns no
labels; it is fitted once on every request text of the task type.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline

log = logging.getLogger(__name__)

RIDGE_ALPHA = 2.0
BIAS = 1.0  # value of the constant column that carries the intercept


def fold_of(text: str, folds: int, seed: int) -> int:
    """The fold a request text falls in."""
    digest = hashlib.sha256(f"{seed}\x00{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % folds


@dataclass
class TaskClassifier:
    """Cross-fitted pass-chance models of one task type's configurations.

    Attributes:
        labels: the configurations predicted, as "model / prompt variant".
        pipelines: one fitted scikit-learn pipeline per fold.
        folds: how many folds.
        seed: the salt of the fold hash.
    """

    labels: list[str]
    pipelines: list[Pipeline]
    folds: int
    seed: int
    _weights: list[tuple[np.ndarray, np.ndarray]] = field(
        default_factory=list, repr=False)

    def predict(self, texts: list[str]) -> np.ndarray:
        """Predicted quality, requests x configurations, each by its fold's model."""
        out = np.empty((len(texts), len(self.labels)))
        where = np.array([fold_of(t, self.folds, self.seed) for t in texts])
        for j, pipe in enumerate(self.pipelines):
            rows = np.flatnonzero(where == j)
            if len(rows):
                scores = pipe.predict([texts[i] for i in rows])
                out[rows] = scores.reshape(len(rows), -1)
        return np.clip(out, 0.0, 1.0)

    def predict_one(self, text: str) -> np.ndarray:
        """Predicted quality of every configuration on one request, fast."""
        return self.predict_fold(text)[1]

    def predict_fold(self, text: str) -> tuple[int, np.ndarray]:
        """The request's fold and its fold model's predictions, fast."""
        if not self._weights:
            self._weights = [_dense_weights(p) for p in self.pipelines]
        fold = fold_of(text, self.folds, self.seed)
        coef, intercept = self._weights[fold]
        idx, values = self.pipelines[0].named_steps["features"].vector(text)
        return fold, np.clip(values @ coef[idx] + intercept, 0.0, 1.0)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_weights"] = []
        return state


def cross_fit(texts: list[str], quality: np.ndarray, featurizer: object,
              folds: int, seed: int) -> tuple[np.ndarray, TaskClassifier]:
    """Fit the fold models; return out-of-fold predictions and the classifier.

    Args:
        texts: request texts, one per example.
        quality: examples x configurations, observed quality in [0, 1].
        featurizer: an unfitted featurizer (see :mod:`.features`).
        folds: number of folds.
        seed: salt of the fold hash.
    """
    matrix = featurizer.fit_transform(texts)
    where = np.array([fold_of(t, folds, seed) for t in texts])
    oof = np.empty_like(quality, dtype=float)
    pipelines = []
    for j in range(folds):
        train, test = where != j, where == j
        model = _fit_ridge(matrix[train], quality[train])
        if test.any():
            oof[test] = model.predict(matrix[test]).reshape(int(test.sum()), -1)
        pipelines.append(Pipeline([("features", featurizer), ("model", model)]))
    return np.clip(oof, 0.0, 1.0), TaskClassifier([], pipelines, folds, seed)


def _fit_ridge(matrix: sp.csr_matrix, targets: np.ndarray) -> Ridge:
    # Centring a sparse matrix is slow, so the intercept is fitted as the
    # targets' mean plus the weight of a constant column, then folded back
    # into an ordinary fitted Ridge that predicts from the features alone.
    mean = targets.mean(axis=0)
    ones = sp.csr_matrix(np.full((matrix.shape[0], 1), BIAS))
    model = Ridge(alpha=RIDGE_ALPHA, solver="sparse_cg", tol=3e-3,
                  fit_intercept=False)
    model.fit(sp.hstack([matrix, ones], format="csr"), targets - mean)
    coef = np.atleast_2d(model.coef_)
    model.intercept_ = mean + coef[:, -1] * BIAS
    model.coef_ = coef[:, :-1]
    model.n_features_in_ = matrix.shape[1]
    return model


def _dense_weights(pipe: Pipeline) -> tuple[np.ndarray, np.ndarray]:
    model = pipe.named_steps["model"]
    coef = np.atleast_2d(model.coef_).T.copy()       # features x configurations
    return coef, np.atleast_1d(model.intercept_).astype(float)
