"""From a run's results to a decided policy per task type.

:func:`optimize_run` reads a run folder (the latest when none is named), takes
each task type's threshold from the suite the run was made with (or from
explicit overrides) and searches every task type.  :func:`optimize` does the
same on in-memory tables.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mre_eval.errors import ConfigError, DataError
from mre_eval.optimize.candidates import TaskSpec, build_candidates
from mre_eval.optimize.features import make_featurizer
from mre_eval.optimize.search import TaskResult, search_task

if TYPE_CHECKING:
    import pandas as pd

    from mre_eval.suite import Suite

log = logging.getLogger(__name__)

DEFAULT_FOLDS = 5
HASHED_COLUMNS = ["task_type", "model", "prompt_variant", "example_id", "repeat",
                  "score", "passed", "cost_usd", "input_tokens", "error"]


@dataclass
class Optimization:
    """The decided policies of every task type and what they rest on."""

    tasks: dict[str, TaskResult]
    suite_name: str
    suite_sha256: str | None
    results_sha256: str
    folds: int
    seed: int
    featurizer: str

    @property
    def unmet(self) -> list[str]:
        """Plain statements of the thresholds no configuration meets."""
        return [t.unmet for t in self.tasks.values() if t.unmet]


def optimize(results: pd.DataFrame, examples: pd.DataFrame,
             specs: dict[str, TaskSpec], *, suite_name: str = "",
             suite_sha256: str | None = None, folds: int = DEFAULT_FOLDS,
             seed: int = 0, featurizer: str = "tfidf") -> Optimization:
    """Search every task type of ``results`` for its cheapest sufficient policy.

    Args:
        results: a results table (columns of ``mre_eval.results.RESULT_COLUMNS``).
        examples: the examples table (example_id, task_type, input, reference).
        specs: threshold and its meaning per task type.
        suite_name: recorded in routing.json.
        suite_sha256: recorded in routing.json.
        folds: cross-fitting folds, 2 to 20.
        seed: salt of the fold assignment; the same seed gives the same file.
        featurizer: a registered featurizer name.

    Raises:
        ConfigError: for a bad fold count or featurizer.
        DataError: for unusable results.
    """
    _check_options(folds, featurizer)
    data = build_candidates(results, examples, specs, folds)
    tasks = {name: search_task(task, make_featurizer(featurizer), folds, seed)
             for name, task in data.items()}
    return Optimization(tasks, suite_name, suite_sha256, results_hash(results),
                        folds, seed, featurizer)


def optimize_run(run: str | Path | None = None, *,
                 thresholds: dict[str, float] | None = None,
                 folds: int = DEFAULT_FOLDS, seed: int = 0,
                 featurizer: str = "tfidf",
                 reports: Path = Path("reports")) -> Optimization:
    """Optimize a run folder's results (the latest run when ``run`` is None)."""
    from mre_eval.results import find_run, read_examples, read_results

    _check_options(folds, featurizer)
    folder = find_run(run, reports)
    results = read_results(folder)
    examples = read_examples(folder)
    suite = _run_suite(folder, warn=not thresholds)
    specs = task_specs(suite, thresholds or {})
    name = suite.name if suite is not None else folder.name
    return optimize(results, examples, specs, suite_name=name,
                    suite_sha256=_suite_hash(suite), folds=folds, seed=seed,
                    featurizer=featurizer)


def task_specs(suite: Suite | None, overrides: dict[str, float]) -> dict[str, TaskSpec]:
    """Thresholds per task type: the suite's, replaced by ``overrides``."""
    specs: dict[str, TaskSpec] = {}
    for task in suite.task_types if suite is not None else []:
        specs[task.name] = TaskSpec(task.name, task.threshold, task.threshold_on,
                                    task.gate_on)
    for name, value in overrides.items():
        base = specs.get(name)
        specs[name] = TaskSpec(name, float(value),
                               base.threshold_on if base else "pass_rate",
                               base.gate_on if base else "lower_bound")
    if not specs:
        raise ConfigError(
            "no thresholds: the run has no suite.resolved.yaml; give them with "
            "--threshold TASK=VALUE")
    return specs


def parse_thresholds(items: list[str]) -> dict[str, float]:
    """``["TASK=0.9", ...]`` as a dict; ConfigError for anything else."""
    out: dict[str, float] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        try:
            value = float(raw)
        except ValueError:
            value = None
        if not sep or not name or value is None:
            raise ConfigError(f"--threshold {item!r} is not TASK=VALUE: write e.g. "
                              "--threshold mbpp=0.6")
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"--threshold {item!r}: {value} is outside [0, 1]: a "
                              "threshold is a pass rate or mean score")
        out[name] = value
    return out


def results_hash(results: pd.DataFrame) -> str:
    """sha256 of the results' columns that decide a policy, in canonical order.

    Rows are sorted, hashed one by one with pandas' stable row hash, and the
    row hashes are hashed together: fast on millions of rows.
    """
    import pandas as pd

    present = [c for c in HASHED_COLUMNS if c in results.columns]
    frame = results[present].sort_values(present[:5], kind="mergesort")
    rows = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    header = ",".join(present).encode()
    return hashlib.sha256(header + rows.tobytes()).hexdigest()


def _check_options(folds: int, featurizer: str) -> None:
    if not 2 <= folds <= 20:
        raise ConfigError(f"--folds {folds} is not allowed: use 2 to 20 (5 is usual)")
    make_featurizer(featurizer)


def _run_suite(folder: Path, warn: bool) -> Suite | None:
    from mre_eval.results import SUITE_FILE

    if not (folder / SUITE_FILE).exists():
        if warn:
            log.warning("run %s has no %s", folder, SUITE_FILE)
        return None
    from mre_eval.suite_loader import load_run_suite

    try:
        return load_run_suite(folder)
    except ConfigError as exc:
        raise DataError(f"the run's suite copy cannot be read: {exc}") from exc


def _suite_hash(suite: Suite | None) -> str | None:
    if suite is None:
        return None
    from mre_eval.suite_loader import suite_hash

    return suite_hash(suite)
