"""The runs the gate and the report read: results, examples, suite, metadata.

A run is a run folder, or a ``results.parquet`` file with the run's
``suite.resolved.yaml`` (and, when present, ``run.json`` and
``examples.parquet``) beside it -- the form a committed baseline takes.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mre_eval.errors import ConfigError, DataError
from mre_eval.results import (DEFAULT_REPORTS, EXAMPLES_FILE, RESULTS_FILE,
                              SUITE_FILE, find_run, read_examples, read_meta,
                              read_results)
from mre_eval.suite import Suite

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)


@dataclass
class RunData:
    """One run, loaded: its folder, results, suite and metadata."""

    path: Path
    results: pd.DataFrame
    suite: Suite
    meta: dict[str, Any]
    _examples: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        """The run's folder name."""
        return self.path.name

    @property
    def suite_sha256(self) -> str:
        """The suite version: the hash run.json recorded, else the file's."""
        recorded = self.meta.get("suite_sha256")
        return str(recorded) if recorded else self.suite.sha256()

    @property
    def task_types(self) -> list[str]:
        """Task types that have results, in the suite's order."""
        present = set(self.results["task_type"].astype(str))
        return [t.name for t in self.suite.task_types if t.name in present]

    def examples(self) -> pd.DataFrame:
        """The run's examples table (request text per example)."""
        if self._examples is None:
            if not (self.path / EXAMPLES_FILE).exists():
                raise DataError(
                    f"{self.path} has no {EXAMPLES_FILE}: replaying a routing "
                    "policy needs each example's request text; re-run the suite "
                    "or keep examples.parquet beside results.parquet")
            self._examples = read_examples(self.path)
        return self._examples


def load_run(ref: str | Path | None, what: str = "run",
             reports: Path = DEFAULT_REPORTS) -> RunData:
    """Load a run from a folder, a run name, a results file, or the latest.

    Args:
        ref: a run folder, a name under ``reports/``, a ``results.parquet``
            path, or ``None`` for the latest run.
        what: how error messages name it ("run", "baseline").
        reports: the folder that holds run folders.

    Raises:
        DataError: the run, its results or its suite copy is missing.
        ConfigError: its suite copy is not a valid suite.
    """
    folder = _locate(ref, what, reports)
    results = read_results(folder)
    if results.empty:
        raise DataError(f"{what} {folder} has no results rows: nothing to judge")
    suite = read_run_suite(folder / SUITE_FILE, what)
    return RunData(folder, results, suite, read_meta(folder))


def read_run_suite(path: Path, what: str = "run") -> Suite:
    """Read a run's resolved suite copy, checking its schema only.

    The run's dataset and graders are not checked again: a committed baseline
    must stay readable when the dataset it was made from is elsewhere.
    """
    import yaml
    from pydantic import ValidationError

    if not path.exists():
        raise DataError(
            f"{what}: no {SUITE_FILE} at {path}: the gate needs the suite the "
            f"run was made with; keep {SUITE_FILE} beside {RESULTS_FILE}")
    text = path.read_text()
    try:
        suite = Suite.model_validate(yaml.safe_load(text))
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"{path}: not a valid suite copy: {exc}") from None
    suite._text = text
    suite._source = path.resolve()
    return suite


def check_same_suite(run: RunData, baseline: RunData) -> list[str]:
    """Refuse a baseline from another suite; return notes on allowed changes.

    A suite with another name is another product: comparing is meaningless.
    A suite with the same name and another hash is the same suite edited,
    which a pull request is expected to do; the note says so.

    Raises:
        ConfigError: the suite names differ, the runs share no task type,
            or the run lacks a task type the baseline has.
    """
    if run.suite.name != baseline.suite.name:
        raise ConfigError(
            f"baseline {baseline.path} is from suite {baseline.suite.name!r}, "
            f"this run is from suite {run.suite.name!r}: give a baseline run "
            f"of {run.suite.name!r}")
    notes = []
    if run.suite_sha256 != baseline.suite_sha256:
        notes.append(
            f"the suite changed since the baseline (sha256 "
            f"{baseline.suite_sha256[:12]} -> {run.suite_sha256[:12]})")
    shared = set(run.task_types) & set(baseline.task_types)
    if not shared:
        raise ConfigError(
            f"baseline {baseline.path} has task types "
            f"{sorted(baseline.task_types)}, this run has {sorted(run.task_types)}:"
            " they share none, so nothing can be compared; give a baseline "
            "of the same task types")
    dropped = sorted(set(baseline.task_types) - shared)
    if dropped:
        raise ConfigError(
            f"task types {dropped} are in baseline {baseline.path} but not in "
            "this run: a gate cannot pass what it did not measure; run them, "
            "or accept a new baseline without them")
    for name in sorted(set(run.task_types) - shared):
        notes.append(f"task type {name!r} is new since the baseline: "
                     "no regression check")
    return notes


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _locate(ref: str | Path | None, what: str, reports: Path) -> Path:
    if ref is not None:
        path = Path(ref)
        if path.is_file() and path.suffix == ".parquet":
            return path.parent if path.name == RESULTS_FILE else _odd_name(path)
        if path.is_dir() and not (path / RESULTS_FILE).exists():
            raise DataError(f"{what} {path} has no {RESULTS_FILE}: give a run "
                            "folder written by `mre-eval run`")
    try:
        return find_run(ref, reports)
    except DataError as exc:
        raise DataError(f"{what}: {exc}") from None


def _odd_name(path: Path) -> Path:
    raise DataError(
        f"{path}: a results file must be named {RESULTS_FILE} and sit beside its "
        f"{SUITE_FILE}; copy the run folder's files together")
