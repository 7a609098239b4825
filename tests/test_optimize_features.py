"""The text featurizer: its fast path equals its scikit-learn transform."""

from __future__ import annotations

import numpy as np
import pytest

from mre_eval.errors import ConfigError
from mre_eval.optimize.features import (STRUCTURE_NAMES, TextFeaturizer,
                                        make_featurizer, register_featurizer,
                                        structure)

TEXTS = [f"Question {i}: which of these is a mammal? A) shark B) whale {'x' * i}"
         for i in range(30)] + ["", "def f(x):\n    return x + 1\n" * 40]


def test_vector_equals_the_transform_row() -> None:
    featurizer = TextFeaturizer().fit(TEXTS)
    matrix = featurizer.transform(TEXTS + ["an unseen request with new words"])
    for row, text in enumerate(TEXTS + ["an unseen request with new words"]):
        idx, values = featurizer.vector(text)
        dense = np.zeros(featurizer.n_features)
        dense[idx] = values
        assert dense == pytest.approx(matrix[row].toarray().ravel(), abs=1e-12)


def test_structure_counts_code_and_questions() -> None:
    values = dict(zip(STRUCTURE_NAMES, structure("def f():\n  return 1?")))
    assert values["code_marks"] > 0
    assert values["questions"] == pytest.approx(np.log1p(1))
    assert values["log_lines"] == pytest.approx(np.log1p(1))


def test_unknown_featurizer_is_refused_and_registered_ones_are_made() -> None:
    with pytest.raises(ConfigError, match="featurizer 'nope' is not known"):
        make_featurizer("nope")
    register_featurizer("small", lambda: TextFeaturizer(max_features=10))
    assert make_featurizer("small").max_features == 10
