"""Cross-fitting: no prediction comes from a model that saw its request."""

from __future__ import annotations

import numpy as np

from mre_eval.optimize.classifier import cross_fit, fold_of
from mre_eval.optimize.features import TextFeaturizer
from test_optimize_data import synthetic


def _texts_and_quality() -> tuple[list[str], np.ndarray]:
    results, examples = synthetic(n=120)
    quality = results.pivot(index="example_id", columns="model",
                            values="score").sort_index()
    texts = examples.set_index("example_id").loc[quality.index, "input"].tolist()
    return texts, quality.to_numpy(dtype=float)


def test_out_of_fold_predictions_ignore_their_own_folds_outcomes() -> None:
    texts, quality = _texts_and_quality()
    folds, seed = 4, 3
    where = np.array([fold_of(t, folds, seed) for t in texts])
    oof, _ = cross_fit(texts, quality, TextFeaturizer(), folds, seed)

    # flip every outcome of fold 0: its predictions must not move, others must
    flipped = quality.copy()
    flipped[where == 0] = 1.0 - flipped[where == 0]
    again, _ = cross_fit(texts, flipped, TextFeaturizer(), folds, seed)
    assert np.allclose(again[where == 0], oof[where == 0])
    assert not np.allclose(again[where != 0], oof[where != 0])


def test_live_prediction_uses_the_model_that_never_saw_the_fold() -> None:
    texts, quality = _texts_and_quality()
    oof, classifier = cross_fit(texts, quality, TextFeaturizer(), 4, 3)
    classifier.labels = ["cheap", "strong"]
    assert np.allclose(classifier.predict(texts), oof)
    for i, text in enumerate(texts[:20]):
        fold, predicted = classifier.predict_fold(text)
        assert fold == fold_of(text, 4, 3)
        assert np.allclose(predicted, oof[i], atol=1e-9)
