"""A small run folder with known costs, scores and budgets, for economics tests.

Two task types, two models, one prompt variant, four examples each:

- ``small`` costs $0.01 a request except billing ``b4`` ($0.03); scores 0.5 mean;
- ``big`` costs $0.04 a request and passes everything.

Budgets: billing $100/month, $0.02/request, 200 requests/day, 10% growth;
faq $1,000/month, $0.05/request, 1,000 requests/day.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mre_eval.results import (EXAMPLE_COLUMNS, EXAMPLES_FILE, RESULTS_FILE,
                              results_frame, write_table, write_results)

SUITE = """\
name: support
dataset:
  path: data.jsonl
  reference: reference
  task_type_column: task_type
task_types:
  - name: billing
    grader: exact
    threshold: 0.8
    budget: {monthly_usd: 100, per_request_usd: 0.02, requests_per_day: 200,
             monthly_growth: 0.1}
  - name: faq
    grader: exact
    threshold: 0.8
    budget: {monthly_usd: 1000, per_request_usd: 0.05, requests_per_day: 1000}
models:
  - {name: small, model: gpt-4o-mini}
  - {name: big, model: gpt-4o}
prompts:
  - {id: plain}
"""

EXAMPLES = [
    ("b1", "billing", "refund my order", "R1"),
    ("b2", "billing", "please refund my order", "R1"),
    ("b3", "billing", "update my card", "C1"),
    ("b4", "billing", "refund $500 to Ana", "R2"),
    ("f1", "faq", "what are your hours", "H1"),
    ("f2", "faq", "when are you open", "H1"),
    ("f3", "faq", "where is the office", "O1"),
    ("f4", "faq", "do you ship abroad", "S1"),
]


def make_run(root: Path, name: str = "support-20261101T000000Z",
             started: str = "2026-11-01T00:00:00+00:00",
             small_cost: float = 0.01, small_score: float = 0.5,
             calls: int = 1) -> Path:
    """Write a complete run folder under ``root`` and return it."""
    run = root / name
    run.mkdir(parents=True)
    (run / "suite.resolved.yaml").write_text(SUITE)
    (run / "data.jsonl").write_text("".join(
        json.dumps({"id": i, "task_type": t, "input": x, "reference": r}) + "\n"
        for i, t, x, r in EXAMPLES))
    rows = [_row(name, ex, model, small_cost, small_score, repeat)
            for ex in EXAMPLES for model in ("small", "big")
            for repeat in range(calls)]
    write_results(results_frame(rows), run / RESULTS_FILE)
    import pandas as pd

    examples = pd.DataFrame([{"example_id": i, "task_type": t, "input": x,
                              "reference": r} for i, t, x, r in EXAMPLES])
    write_table(examples, run / EXAMPLES_FILE, EXAMPLE_COLUMNS)
    (run / "run.json").write_text(json.dumps(
        {"run_id": name, "started_at": started, "suite_sha256": "abc"}))
    return run


def _row(run: str, ex: tuple[str, str, str, str], model: str, small_cost: float,
         small_score: float, repeat: int) -> dict[str, Any]:
    example_id, task, _, reference = ex
    if model == "big":
        cost, score = 0.04, 1.0
    else:
        cost = 0.03 if example_id == "b4" else small_cost
        score = small_score
    return {"run_id": run, "example_id": example_id, "task_type": task,
            "model": model, "litellm_model": model, "prompt_variant": "plain",
            "repeat": repeat, "cost_usd": cost, "score": score,
            "passed": score >= 1.0, "response": reference, "cache_hit": False}


def write_routing(path: Path, expected: dict[str, float | None]) -> Path:
    """A routing file with only the parts the economics commands read."""
    path.write_text(json.dumps({
        "schema_version": 1, "suite": {"name": "support", "sha256": "abc"},
        "task_types": {t: {"expected_cost_per_request": c, "policy": "static",
                           "routes": [{"tier": "small", "model": "small",
                                       "prompt_variant": "plain", "share": 1.0}]}
                       for t, c in expected.items()}}))
    return path


class SmallRouter:
    """Stands in for mre_eval.Router: sends every request to ``small``."""

    @classmethod
    def load(cls, path: Path) -> SmallRouter:
        return cls()

    def route(self, task_type: str, text: str) -> Any:
        from types import SimpleNamespace

        return SimpleNamespace(model="small", prompt_variant="plain",
                               tier="small", predicted_quality=None)
