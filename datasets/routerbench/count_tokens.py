"""Add token counts to the recorded outcomes, counted with litellm's tokenizer.

RouterBench recorded each call's cost but not its tokens.  This script counts
them once, the way mre-eval counts tokens of a recorded outcome that has none:
the prompt as the suite sends it (one user message holding the prompt) and the
response text, each with the tokenizer litellm picks for the model's litellm
string in ``suites/routerbench.yaml``.  It writes them as ``input_tokens`` and
``output_tokens`` so a replay need not load a tokenizer.

    python datasets/routerbench/count_tokens.py

Counting every row takes about a minute; ``tests/test_routerbench_data.py``
re-counts a sample to check the shipped figures.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mre_eval.usage import count_tokens
from mre_eval.suite_loader import load_suite

HERE = Path(__file__).resolve().parent
SUITE = HERE.parents[1] / "suites" / "routerbench.yaml"


def counted(outcomes: pd.DataFrame, prompts: pd.DataFrame) -> pd.DataFrame:
    """``outcomes`` with input and output token counts added."""
    suite = load_suite(SUITE, check_data=False)
    litellm_model = {m.recorded_key: m.model for m in suite.models}
    text = dict(zip(prompts["prompt_id"], prompts["prompt"], strict=True))
    out = outcomes.copy()
    out["input_tokens"] = [
        count_tokens(litellm_model[m], messages=[{"role": "user", "content": text[p]}])
        for p, m in zip(out["prompt_id"], out["model"], strict=True)]
    out["output_tokens"] = [
        count_tokens(litellm_model[m], text=r if isinstance(r, str) else "")
        for r, m in zip(out["response"], out["model"], strict=True)]
    return out


def main() -> None:
    outcomes = pd.read_csv(HERE / "outcomes.csv.gz", keep_default_na=False,
                           na_values=[""])
    prompts = pd.read_csv(HERE / "prompts.csv.gz")
    columns = ["prompt_id", "task", "model", "score", "cost_usd", "response"]
    result = counted(outcomes[columns], prompts)
    result.to_csv(HERE / "outcomes.csv.gz", index=False, compression="gzip")
    print(f"counted {len(result)} rows")


if __name__ == "__main__":
    main()
