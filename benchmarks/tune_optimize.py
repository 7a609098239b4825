"""Cross-validation of optimizer settings on the fit part of RouterBench only.

Run by hand when changing how the optimizer searches (never as a test):

    python benchmarks/tune_optimize.py [--splits 3]

``bench_optimize.py`` keeps 30% of the prompts out of everything; this script
never reads them.  It splits the remaining fit part again, ``--splits`` times
with different salts (30% held each time), runs the same checks as the
benchmark on each inner split (thresholds 2 and 5 points below the best
configuration, quality by the 95% lower bound and by the point estimate),
and prints, per cell, the mean held-out savings against the most capable
configuration and how often the held-out quality fell short of the
threshold, for the optimizer and for the TF-IDF + logistic-regression
yardstick.  Settings are compared on these figures; the kept-out part then
reports the chosen one once.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from collections import defaultdict
from pathlib import Path

from bench_optimize import honesty, routerbench, split, thresholds, yardstick


def inner_split(results, examples, salt: int, held: int = 30) -> tuple:
    def out(example_id: str) -> bool:
        digest = hashlib.sha256(f"inner-{salt}\x00{example_id}".encode()).digest()
        return int.from_bytes(digest[:4], "big") % 100 < held

    ids = {i for i in examples["example_id"] if out(i)}
    r_out, e_out = results["example_id"].isin(ids), examples["example_id"].isin(ids)
    return results[~r_out], examples[~e_out], results[r_out], examples[e_out]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--splits", type=int, default=3)
    parser.add_argument("--skip-yardstick", action="store_true")
    args = parser.parse_args()
    fit_r, fit_e, _, _ = split(*routerbench())   # the kept-out part is dropped
    table: dict[tuple, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    with tempfile.TemporaryDirectory() as tmp:
        for salt in range(args.splits):
            parts = inner_split(fit_r, fit_e, salt)
            for gap in (0.02, 0.05):
                limits = thresholds(parts[0], gap)
                for gate in ("lower_bound", "point"):
                    for row in honesty(*parts, gap, gate, Path(tmp)):
                        _add(table, "ours", row, row["threshold"])
                    if args.skip_yardstick:
                        continue
                    for row in yardstick(*parts, gap, gate):
                        _add(table, "yardstick", row, limits[row["task"]])
    for key in sorted(table):
        cell = {name: {"saving_vs_capable_pct": round(sum(v) / len(v), 1),
                       "short": table[key][f"{name}_short"].count(True)}
                for name in ("ours", "yardstick") if table[key][name]
                for v in [table[key][name]]}
        print(json.dumps({"gap": key[0], "gate": key[1], "task": key[2], **cell}))
    totals = {name: round(sum(sum(table[k][name]) / len(table[k][name])
                              for k in table if table[k][name]), 1)
              for name in ("ours", "yardstick")}
    print(json.dumps({"sum_of_cell_savings": totals}))


def _add(table, name: str, row: dict, threshold: float) -> None:
    key = (row["gap"], row["gate"], row["task"])
    table[key][name].append(row["saving_vs_capable_pct"])
    table[key][f"{name}_short"].append(row["kept_out"] < threshold - 1e-9)


if __name__ == "__main__":
    main()
