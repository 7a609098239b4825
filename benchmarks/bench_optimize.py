"""Benchmark of the optimizer on the recorded RouterBench outcomes.

Run by hand (never as a test):

    python benchmarks/bench_optimize.py [--skip-scale] [--skip-yardstick]

1. Honesty and savings.  30% of the prompts (a hash of prompt_id) are kept
   out of everything.  On the rest, each task type's threshold is set 2 and 5
   points below the best configuration's quality; the optimizer emits a
   routing file, and the file is checked on the kept-out prompts: observed
   quality beside the promise, savings against static and against the most
   capable configuration.  Done with quality judged by the 95% lower bound
   (the default) and by the point estimate.
2. Yardstick.  A plain cascade of TF-IDF + logistic regression between one
   cheaper frontier configuration and the most capable one, with one cut-off
   chosen on out-of-fold predictions by the same rule, on the same split.
3. Scale.  Over 100,000 result rows (two prompt variants x three repeats of
   every recorded call, perturbed) through ``optimize_run``; seconds against
   the 30 s target.
4. Router latency: p50 and p90 of ``Router.route`` over kept-out requests.
"""

from __future__ import annotations

import argparse
import os
import hashlib
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from mre_eval.optimize.candidates import TaskSpec, build_candidates
from mre_eval.optimize.evaluate import check
from mre_eval.optimize.optimizer import optimize, optimize_run
from mre_eval.optimize.router import Router
from mre_eval.optimize.routing_file import write_routing
from mre_eval.results import EXAMPLE_COLUMNS, results_frame, write_results, write_table

DATA = Path(__file__).resolve().parents[1] / "datasets" / "routerbench"
KEPT_OUT = 30  # percent of prompts kept out of all fitting


def routerbench(data: Path = DATA) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The recorded outcomes as a results table and an examples table."""
    prompts = pd.read_csv(data / "prompts.csv.gz")
    outcomes = pd.read_csv(data / "outcomes.csv.gz")
    rows = [{"run_id": "routerbench", "example_id": r.prompt_id, "task_type": r.task,
             "model": r.model, "litellm_model": r.model,
             "prompt_variant": "as-recorded", "repeat": 0, "cost_usd": r.cost_usd,
             "cost_source": "recorded", "score": r.score, "passed": r.score >= 1.0}
            for r in outcomes.itertuples()]
    examples = pd.DataFrame({"example_id": prompts["prompt_id"],
                             "task_type": prompts["task"], "input": prompts["prompt"],
                             "reference": None})
    return results_frame(rows), examples


def kept_out(example_id: str) -> bool:
    """Whether a prompt belongs to the kept-out part."""
    digest = hashlib.sha256(f"kept-out\x00{example_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < KEPT_OUT


def split(results: pd.DataFrame, examples: pd.DataFrame) -> tuple:
    out_ids = {i for i in examples["example_id"] if kept_out(i)}
    r_out = results["example_id"].isin(out_ids)
    e_out = examples["example_id"].isin(out_ids)
    return results[~r_out], examples[~e_out], results[r_out], examples[e_out]


def thresholds(results: pd.DataFrame, gap: float) -> dict[str, float]:
    best = results.groupby(["task_type", "model"])["score"].mean().groupby(
        level=0).max()
    return {task: round(float(q) - gap, 4) for task, q in best.items()}


def honesty(fit_r, fit_e, out_r, out_e, gap: float, gate: str, folder: Path,
            folds: int = 5) -> list:
    specs = {t: TaskSpec(t, v, "pass_rate", gate)
             for t, v in thresholds(fit_r, gap).items()}
    started = time.perf_counter()
    opt = optimize(fit_r, fit_e, specs, suite_name="routerbench", seed=0,
                   folds=folds)
    seconds = time.perf_counter() - started
    path = folder / f"routing-{gap}-{gate}.json"
    routing = write_routing(opt, path)
    checks = check(Router.load(path), out_r, out_e)
    rows = []
    for task, c in checks.items():
        entry = routing["task_types"][task]
        rows.append({"gap": gap, "gate": gate, "task": task,
                     "threshold": entry["threshold"], "policy": entry["policy"],
                     "promised": round(c.promised.point, 4),
                     "promised_low": round(c.promised.low, 4),
                     "kept_out": round(c.observed.point, 4),
                     "kept_out_ci": [round(c.observed.low, 4),
                                     round(c.observed.high, 4)],
                     "n_kept_out": c.observed.n,
                     "saving_vs_static_pct": round(c.saving_vs_static, 1),
                     "saving_vs_capable_pct": round(c.saving_vs_capable, 1),
                     "optimize_s": round(seconds, 1)})
    return rows


def yardstick(fit_r, fit_e, out_r, out_e, gap: float, gate: str) -> list:
    """TF-IDF + logistic regression, one cheap configuration, one cut-off."""
    from mre_eval.optimize.frontier import config_stats, most_capable

    specs = {t: TaskSpec(t, v, "pass_rate", gate)
             for t, v in thresholds(fit_r, gap).items()}
    fit = build_candidates(fit_r, fit_e, specs, 5)
    held = build_candidates(out_r, out_e, specs, 2)
    rows = []
    for task, data in fit.items():
        stats = config_stats(data)
        strong = most_capable(stats).index
        weaks = [s.index for s in stats if s.on_frontier and s.index != strong]
        best = min((c for w in weaks for c in _pair_cutoffs(data, w, strong, gate)),
                   default=None, key=lambda c: c[0])
        row = {"gap": gap, "gate": gate, "task": task}
        rows.append({**row, **_pair_kept_out(data, held[task], best, strong)})
    return rows


def _pair_cutoffs(data, weak: int, strong: int, gate: str) -> list:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from mre_eval.optimize.policy import estimate, meets

    y = data.quality[:, weak] >= 0.5
    folds = np.arange(len(y)) % 5
    vec = TfidfVectorizer(min_df=2).fit(data.texts)
    x = vec.transform(data.texts)
    oof = np.zeros(len(y))
    for j in range(5):
        model = LogisticRegression(solver="liblinear")
        model.fit(x[folds != j], y[folds != j])
        oof[folds == j] = model.predict_proba(x[folds == j])[:, 1]
    rows, found = np.arange(len(y)), []
    final = LogisticRegression(solver="liblinear").fit(x, y)
    for cut in np.unique(np.quantile(oof, np.linspace(0, 1, 41))):
        pick = np.where(oof >= cut, weak, strong)
        if meets(estimate(data.quality[rows, pick], True), data.spec.threshold, gate):
            found.append((data.cost[rows, pick].mean(), weak, cut, vec, final))
    return found


def _pair_kept_out(data, held, best, strong: int) -> dict:
    strong_cost = held.cost[:, strong].mean()
    if best is None:
        return {"yardstick": "strong only", "saving_vs_capable_pct": 0.0,
                "kept_out": round(float(held.quality[:, strong].mean()), 4)}
    _, weak, cut, vec, model = best
    p = model.predict_proba(vec.transform(held.texts))[:, 1]
    pick = np.where(p >= cut, weak, strong)
    rows = np.arange(len(pick))
    cost = held.cost[rows, pick].mean()
    return {"yardstick": f"{data.configs[weak].model} -> "
                         f"{data.configs[strong].model}",
            "kept_out": round(float(held.quality[rows, pick].mean()), 4),
            "saving_vs_capable_pct": round(100 * (1 - cost / strong_cost), 1)}


def scaled(results: pd.DataFrame, examples: pd.DataFrame, folder: Path) -> dict:
    """Six perturbed copies of every call: two prompt variants x three repeats."""
    rng = np.random.default_rng(0)
    parts = []
    for variant, price in (("as-recorded", 1.0), ("terse", 0.8)):
        for repeat in range(3):
            part = results.copy()
            flip = rng.random(len(part)) < (0.03 if variant == "as-recorded" else 0.06)
            score = part["score"].astype(float).to_numpy(copy=True)
            score[flip] = 1.0 - score[flip]
            part["score"] = score
            part["passed"] = score >= 1.0
            part["cost_usd"] = part["cost_usd"].astype(float) * price
            part["prompt_variant"] = variant
            part["repeat"] = repeat
            parts.append(part)
    big = pd.concat(parts, ignore_index=True)
    run = folder / "scaled-run"
    run.mkdir()
    write_results(big, run / "results.parquet")
    write_table(examples, run / "examples.parquet", EXAMPLE_COLUMNS)
    gaps = thresholds(big, 0.03)
    started, cpu = time.perf_counter(), time.process_time()
    opt = optimize_run(run, thresholds=gaps, reports=folder)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"rows": len(big), "seconds": round(seconds, 1),
            "cpu_seconds": round(cpu, 1), "load_average": os.getloadavg()[0],
            "ratio_to_30s_target": round(seconds / 30, 2),
            "policies": {t: r.chosen.kind for t, r in opt.tasks.items()}}


def latency(path: Path, examples: pd.DataFrame) -> dict:
    router = Router.load(path)
    timings = []
    cpu = time.process_time()
    for row in examples.itertuples():
        started = time.perf_counter()
        router.route(row.task_type, row.input)
        timings.append(time.perf_counter() - started)
    cpu = time.process_time() - cpu
    timings.sort()
    return {"requests": len(timings), "load_average": os.getloadavg()[0],
            "cpu_ms_per_request": round(cpu / len(timings) * 1000, 3),
            "p50_ms": round(statistics.median(timings) * 1000, 3),
            "p90_ms": round(timings[int(0.9 * len(timings))] * 1000, 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sections", default="honesty,yardstick,scale",
                        help="comma-separated: honesty (with router latency), "
                        "yardstick, scale")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    sections = args.sections.split(",")
    results, examples = routerbench()
    fit_r, fit_e, out_r, out_e = split(results, examples)
    print(json.dumps({"kept_out_prompts": int(len(out_e)),
                      "fit_prompts": int(len(fit_e))}), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for gap in (0.02, 0.05):
            for gate in ("lower_bound", "point"):
                if "honesty" in sections:
                    _show("honesty", honesty(fit_r, fit_e, out_r, out_e, gap, gate,
                                             folder, args.folds))
                if "yardstick" in sections:
                    _show("yardstick", yardstick(fit_r, fit_e, out_r, out_e, gap,
                                                 gate))
        if "honesty" in sections:
            _show("router_latency", [latency(folder / "routing-0.05-point.json",
                                             out_e)])
        if "scale" in sections:
            _show("scale", [scaled(results, examples, folder)])


def _show(section: str, rows: list[dict]) -> None:
    for row in rows:
        print(json.dumps({"section": section, **row}), flush=True)


if __name__ == "__main__":
    main()
