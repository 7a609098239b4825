"""Summarise a results table per task type x model x prompt variant.

Quality is the task type's own measure (pass rate or mean score, as its
threshold says) with a 95% interval: Wilson for a pass rate over single
samples, a bootstrap over examples for graded scores and for repeats, where
each example's repeats are averaged first.  With repeats, pass^k is the share
of examples that passed every one of their k samples.  Failed calls are not
scored; they are counted as errors beside the quality, which rests on the
calls that returned.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mre_eval.stats import bootstrap_mean, wilson
from mre_eval.suite import Suite, TaskType

GROUP = ["task_type", "model", "prompt_variant"]


def summarize(results: pd.DataFrame, suite: Suite) -> list[dict[str, Any]]:
    """One summary row per task type x model x prompt variant, in suite order."""
    rows = []
    for (task_name, model, variant), group in results.groupby(GROUP, sort=False):
        task = suite.task(str(task_name))
        rows.append(_row(task, str(model), str(variant), group))
    order = {t.name: i for i, t in enumerate(suite.task_types)}
    models = {m.name: i for i, m in enumerate(suite.models)}
    return sorted(rows, key=lambda r: (order.get(r["task_type"], 99),
                                       models.get(r["model"], 99),
                                       r["prompt_variant"]))


def totals(results: pd.DataFrame) -> dict[str, Any]:
    """Whole-run figures: rows, errors, cache hits, priced cost, unpriced rows.

    ``cost_usd`` sums the priced rows; it is ``None`` when no row is priced,
    so a run of unpriced models never shows as free.
    """
    ok = results["error"].isna()
    cost = results["cost_usd"]
    return {
        "rows": int(len(results)),
        "errors": int((~ok).sum()),
        "cache_hits": int(results["cache_hit"].fillna(False).sum()),
        "cost_usd": float(cost.sum(skipna=True)) if cost.notna().any() else None,
        "unpriced_rows": int((ok & cost.isna()).sum()),
        "grader_cost_usd": float(results["grader_cost_usd"].sum(skipna=True)),
        "grader_unpriced_rows": int(results["grader_cost_usd"].isna().sum()),
    }


def _row(task: TaskType, model: str, variant: str,
         group: pd.DataFrame) -> dict[str, Any]:
    scored = group[group["score"].notna()]
    per_example = scored.groupby("example_id", sort=False).agg(
        score=("score", "mean"), passed=("passed", "mean"),
        all_passed=("passed", "min"))
    repeats = int(group["repeat"].max()) + 1 if len(group) else 1
    metric = "passed" if task.threshold_on == "pass_rate" else "score"
    values = per_example[metric].to_numpy(dtype=float)
    if metric == "passed" and repeats == 1:
        estimate = wilson(float(values.sum()), len(values))
    else:
        estimate = bootstrap_mean(values)
    bound = estimate.low if task.gate_on == "lower_bound" else estimate.point
    cost = group["cost_usd"]
    latency = group["latency_s"].dropna().to_numpy(dtype=float)
    priced = cost.dropna()
    return {
        "task_type": task.name, "model": model, "prompt_variant": variant,
        "examples": int(group["example_id"].nunique()), "calls": int(len(group)),
        "repeats": repeats, "metric": task.threshold_on,
        "quality": estimate.as_dict(),
        "pass_rate": _mean(per_example["passed"]),
        "mean_score": _mean(per_example["score"]),
        "pass_hat_k": _mean(per_example["all_passed"]) if repeats > 1 else None,
        "threshold": task.threshold,
        "meets_threshold": bool(len(values)) and bound >= task.threshold,
        "cost_mean_usd": float(priced.mean()) if len(priced) else None,
        "cost_total_usd": float(priced.sum()) if len(priced) else None,
        "unpriced_calls": int((group["error"].isna() & cost.isna()).sum()),
        "grader_cost_usd": float(group["grader_cost_usd"].sum(skipna=True)),
        "grader_unpriced_calls": int(group["grader_cost_usd"].isna().sum()),
        "input_tokens_mean": _mean(group["input_tokens"]),
        "output_tokens_mean": _mean(group["output_tokens"]),
        "latency_p50_s": _quantile(latency, 0.5),
        "latency_p95_s": _quantile(latency, 0.95),
        "errors": int(group["error"].notna().sum()),
        "cache_hits": int(group["cache_hit"].fillna(False).sum()),
    }


def _mean(series: pd.Series) -> float | None:
    values = series.dropna().astype(float)
    return float(values.mean()) if len(values) else None


def _quantile(values: np.ndarray, q: float) -> float | None:
    return float(np.quantile(values, q)) if len(values) else None
