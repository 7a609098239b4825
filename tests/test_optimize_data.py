"""Optimizer test data: recorded RouterBench outcomes as results tables.

Other optimizer tests import :func:`routerbench` and :func:`split` from here;
the tests below check the split they rely on.  The tables are built straight
from the recorded CSVs, so the tests do not depend on the runner.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

import pandas as pd

from mre_eval.results import results_frame

DATA = Path(__file__).resolve().parents[1] / "datasets" / "routerbench"
KEPT_OUT_PERCENT = 30


@functools.cache
def routerbench(tasks: tuple[str, ...] = ("arc-challenge", "mbpp")
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Results and examples tables of the recorded outcomes of ``tasks``."""
    prompts = pd.read_csv(DATA / "prompts.csv.gz")
    outcomes = pd.read_csv(DATA / "outcomes.csv.gz")
    prompts = prompts[prompts["task"].isin(tasks)]
    outcomes = outcomes[outcomes["task"].isin(tasks)]
    rows = [result_row(r.prompt_id, r.task, r.model, r.score, r.cost_usd)
            for r in outcomes.itertuples()]
    examples = pd.DataFrame({"example_id": prompts["prompt_id"],
                             "task_type": prompts["task"],
                             "input": prompts["prompt"], "reference": None})
    return results_frame(rows), examples.reset_index(drop=True)


def result_row(example_id: str, task: str, model: str, score: float | None,
               cost: float | None, variant: str = "as-recorded",
               repeat: int = 0, input_tokens: int | None = None) -> dict[str, Any]:
    """One results row with the columns the optimizer reads."""
    return {"run_id": "test", "example_id": example_id, "task_type": task,
            "model": model, "litellm_model": model, "prompt_variant": variant,
            "repeat": repeat, "cost_usd": cost, "score": score,
            "passed": None if score is None else score >= 1.0,
            "input_tokens": input_tokens}


def synthetic(n: int = 80, task: str = "qa", hard_share: float = 0.3,
              cheap_cost: float = 0.001, strong_cost: float = 0.01
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A task whose hard requests (they mention "theorem") only the strong model
    answers; easy ones both answer.  The text tells them apart."""
    rows, texts = [], []
    for i in range(n):
        hard = (i * 7919) % 100 < hard_share * 100
        text = (f"prove the theorem about primes number {i} rigorously" if hard
                else f"what is {i} plus two, quickly")
        texts.append({"example_id": f"e{i:03d}", "task_type": task, "input": text,
                      "reference": None})
        rows.append(result_row(f"e{i:03d}", task, "cheap", 0.0 if hard else 1.0,
                               cheap_cost, input_tokens=20))
        rows.append(result_row(f"e{i:03d}", task, "strong", 1.0, strong_cost,
                               input_tokens=20))
    return results_frame(rows), pd.DataFrame(texts)


def is_kept_out(example_id: str) -> bool:
    """Whether a prompt is in the kept-out part (a hash of its id)."""
    digest = hashlib.sha256(f"kept-out\x00{example_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < KEPT_OUT_PERCENT


def split(results: pd.DataFrame, examples: pd.DataFrame) -> tuple[pd.DataFrame, ...]:
    """(fit results, fit examples, kept-out results, kept-out examples)."""
    out = {i for i in examples["example_id"] if is_kept_out(i)}
    r_out = results["example_id"].isin(out)
    e_out = examples["example_id"].isin(out)
    return results[~r_out], examples[~e_out], results[r_out], examples[e_out]


def test_split_keeps_out_about_thirty_percent_deterministically() -> None:
    results, examples = routerbench()
    _, fit_e, _, out_e = split(results, examples)
    share = len(out_e) / len(examples)
    assert 0.25 < share < 0.35
    assert set(fit_e["example_id"]).isdisjoint(out_e["example_id"])
    assert split(results, examples)[3]["example_id"].tolist() == \
        out_e["example_id"].tolist()


def test_routerbench_tables_have_every_call() -> None:
    results, examples = routerbench()
    assert len(results) == 11 * len(examples)
    assert results["cost_usd"].notna().all()
    assert set(results["task_type"]) == {"arc-challenge", "mbpp"}
