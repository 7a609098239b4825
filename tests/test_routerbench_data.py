"""The shipped routerbench token counts match a fresh count with litellm's tokenizer."""

from __future__ import annotations

import sys

import pandas as pd

from conftest import REPO

sys.path.insert(0, str(REPO / "datasets" / "routerbench"))
from count_tokens import counted  # noqa: E402


def test_shipped_token_counts_are_litellm_counts() -> None:
    folder = REPO / "datasets" / "routerbench"
    shipped = pd.read_csv(folder / "outcomes.csv.gz", keep_default_na=False,
                          na_values=[""])
    prompts = pd.read_csv(folder / "prompts.csv.gz")
    # every model and task, a few rows each
    sample = shipped.groupby(["model", "task"]).head(4)
    fresh = counted(sample.drop(columns=["input_tokens", "output_tokens"]), prompts)
    assert len(sample) == 11 * 3 * 4
    assert fresh["input_tokens"].tolist() == sample["input_tokens"].tolist()
    assert fresh["output_tokens"].tolist() == sample["output_tokens"].tolist()
