"""Builders of synthetic run folders for the gate and report tests.

They write a run folder the way ``mre-eval run`` does (results, examples,
suite copy, run.json) from a few parameters, so the tests do not depend on the
runner.  Outcomes are drawn with a fixed seed: the same call builds the same
run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from mre_eval.results import (EXAMPLE_COLUMNS, results_frame, write_results,
                              write_table)


def suite_dict(name: str = "demo", budget: dict[str, float] | None = None,
               threshold: float = 0.7) -> dict[str, Any]:
    """A two-task suite: ``qa`` graded pass/fail, ``summary`` graded 0..1."""
    qa: dict[str, Any] = {"name": "qa", "grader": "exact", "threshold": threshold}
    if budget is not None:
        qa["budget"] = budget
    return {
        "name": name,
        "dataset": {"path": "data.jsonl", "task_type_column": "task"},
        "task_types": [qa, {"name": "summary", "grader": "exact",
                            "threshold": 0.5, "threshold_on": "mean_score"}],
        "models": [{"model": "openai/gpt-4o-mini", "name": "small"},
                   {"model": "openai/gpt-4o", "name": "big"}],
        "prompts": [{"id": "plain"}],
    }


@dataclass
class Config:
    """One configuration's simulated behaviour."""

    model: str
    quality: float           # pass probability, or mean score
    cost: float | None       # dollars per call; None = unpriced
    latency: float = 0.5
    variant: str = "plain"
    errors: int = 0          # leading calls that failed


@dataclass
class RunSpec:
    """What to build: configurations per task type and sample sizes."""

    configs: dict[str, list[Config]]
    examples: int = 400
    seed: int = 0
    repeats: int = 1
    suite: dict[str, Any] = field(default_factory=suite_dict)


def build_run(folder: Path, spec: RunSpec) -> Path:
    """Write a run folder for ``spec`` and return it."""
    rng = np.random.default_rng(spec.seed)
    rows: list[dict[str, Any]] = []
    examples: list[dict[str, Any]] = []
    for task, configs in spec.configs.items():
        ids = [f"{task}-{i}" for i in range(spec.examples)]
        examples += [{"example_id": i, "task_type": task,
                      "input": f"{'long ' * (n % 7)}question {n}",
                      "reference": "a"} for n, i in enumerate(ids)]
        for config in configs:
            rows += _rows(rng, folder.name, task, ids, config, spec.repeats)
    folder.mkdir(parents=True, exist_ok=True)
    write_results(results_frame(rows), folder / "results.parquet")
    write_table(pd.DataFrame(examples), folder / "examples.parquet",
                EXAMPLE_COLUMNS)
    (folder / "suite.resolved.yaml").write_text(yaml.safe_dump(spec.suite))
    # the dataset the suite names, so the suite loader accepts the copy
    (folder / "data.jsonl").write_text("".join(
        json.dumps({"id": e["example_id"], "task": e["task_type"],
                    "input": e["input"]}) + "\n" for e in examples))
    (folder / "run.json").write_text(json.dumps(
        {"run_id": folder.name, "suite": spec.suite["name"],
         "started_at": "2026-01-01T00:00:00Z", "status": "complete",
         "not_launched": 0}))
    return folder


def _rows(rng: np.random.Generator, run_id: str, task: str, ids: list[str],
          config: Config, repeats: int) -> list[dict[str, Any]]:
    graded = task == "summary"
    rows = []
    for n, example_id in enumerate(ids):
        for repeat in range(repeats):
            failed = n < config.errors and repeat == 0
            if graded:
                score = float(np.clip(rng.normal(config.quality, 0.2), 0, 1))
            else:
                score = float(rng.random() < config.quality)
            rows.append({
                "run_id": run_id, "example_id": example_id, "task_type": task,
                "model": config.model, "litellm_model": f"openai/{config.model}",
                "prompt_variant": config.variant, "repeat": repeat,
                "input_tokens": 100, "output_tokens": 20, "cached_tokens": 0,
                "reasoning_tokens": 0, "cost_usd": config.cost,
                "cost_source": None if config.cost is None else "recorded",
                "latency_s": config.latency * (1 + rng.random()),
                "score": None if failed else score,
                "passed": None if failed else score >= 1.0,
                "error": "timeout" if failed else None, "cache_hit": False,
            })
    return rows


def standard(quality: float = 0.85, cost: float = 0.001, **kwargs: Any) -> RunSpec:
    """A run with one strong configuration per task type."""
    configs = {"qa": [Config("big", quality, cost)],
               "summary": [Config("big", 0.7, cost)]}
    return RunSpec(configs, **kwargs)
