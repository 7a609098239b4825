"""Run the gate: load the runs, choose subjects, check each, return verdicts."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mre_eval.errors import ConfigError
from mre_eval.gate import checks as checks_mod
from mre_eval.gate import measure
from mre_eval.gate.checks import Check, Subject
from mre_eval.gate.compare import compare_quality
from mre_eval.gate.inputs import RunData, check_same_suite, load_run
from mre_eval.gate.selection import (configuration_rows, parse_config,
                                     select_subjects)
from mre_eval.results import DEFAULT_REPORTS

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GateOptions:
    """Tolerances of the regression and routing checks.

    Attributes:
        max_quality_drop: a drop since the baseline fails only when larger
            than this (in pass-rate or mean-score units) and significant.
        alpha: significance level of the one-sided quality tests.
        max_cost_increase: cost per request may rise by this fraction over
            the baseline, or over routing.json's promised cost.
        max_failed_share: the share of calls that may fail after retries.
    """

    max_quality_drop: float = 0.02
    alpha: float = 0.05
    max_cost_increase: float = 0.10
    max_failed_share: float = 0.02

    def __post_init__(self) -> None:
        for name, value, low, high in (
                ("max-quality-drop", self.max_quality_drop, 0.0, 1.0),
                ("alpha", self.alpha, 1e-9, 0.5),
                ("max-cost-increase", self.max_cost_increase, 0.0, 100.0),
                ("max-failed-share", self.max_failed_share, 0.0, 1.0)):
            if not low <= value <= high:
                raise ConfigError(f"--{name} {value!r} is out of range: give a "
                                  f"value from {low:g} to {high:g}")


@dataclass
class GateResult:
    """Every check, how subjects were chosen, and notes worth reading."""

    run: str
    suite: str
    baseline: str | None
    routing: str | None
    chosen_by: dict[str, str]
    checks: list[Check]
    options: GateOptions
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Whether no check failed."""
        return not any(c.failed for c in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.failed]

    def as_dict(self) -> dict[str, Any]:
        """The result as plain JSON data."""
        return {"passed": self.passed, "run": self.run, "suite": self.suite,
                "baseline": self.baseline, "routing": self.routing,
                "chosen_by": self.chosen_by, "notes": self.notes,
                "options": vars(self.options),
                "counts": {s: sum(c.status == s for c in self.checks)
                           for s in ("pass", "fail", "skip")},
                "checks": [c.as_dict() for c in self.checks]}


def run_gate(run_ref: str | Path | None, baseline_ref: str | Path | None = None,
             routing_path: Path | None = None, configs: list[str] | None = None,
             options: GateOptions | None = None,
             reports: Path = DEFAULT_REPORTS) -> GateResult:
    """Judge a run: thresholds, budgets, the baseline and the routing promise.

    Args:
        run_ref: the run to judge (folder, name, results file, or latest).
        baseline_ref: the last accepted run to compare with, if any.
        routing_path: a routing.json whose policy is replayed and judged.
        configs: ``[TASK=]MODEL[:VARIANT]`` configurations to judge.
        options: tolerances; the defaults when omitted.
        reports: the folder that holds run folders, for names and "latest".

    Raises:
        MreEvalError: bad input (missing run, another suite, a routing file
            for another suite); the CLI exits 2.
    """
    from mre_eval.gate.routing import load_routing

    options = options or GateOptions()
    run = load_run(run_ref, "run", reports)
    baseline = (load_run(baseline_ref, "baseline", reports) if baseline_ref
                else None)
    notes = check_same_suite(run, baseline) if baseline else []
    routing = load_routing(Path(routing_path), run) if routing_path else None
    notes += routing.notes if routing else []
    specs = [parse_config(text, run) for text in configs or []]
    subjects, chosen_by = select_subjects(run, specs, routing)

    checks: list[Check] = [c for c in [_completeness(run)] if c is not None]
    for subject in subjects:
        checks += _judge(subject, run, baseline, options)
    return GateResult(run.name, run.suite.name,
                      baseline.name if baseline else None,
                      str(routing_path) if routing_path else None,
                      chosen_by, checks, options, notes)


def _completeness(run: RunData) -> Check | None:
    # a run stopped early (spend cap, interrupt) measured fewer examples than
    # the suite asks for; its verdict would rest on a sample nobody chose
    status = run.meta.get("status")
    if status is None:
        return None
    not_launched = run.meta.get("not_launched", 0)
    return Check("(run)", run.name, "run complete",
                 "pass" if status == "complete" else "fail",
                 f"status {status}, {not_launched} calls not launched",
                 "status complete", {"status": status,
                                     "not_launched": not_launched})


def _judge(subject: Subject, run: RunData, baseline: RunData | None,
           options: GateOptions) -> list[Check]:
    task = run.suite.task(subject.task_type)
    found = [checks_mod.quality_check(subject, task),
             checks_mod.failure_check(subject, options.max_failed_share)]
    found += checks_mod.budget_checks(subject, task)
    if subject.kind == "routing":
        found += checks_mod.promise_checks(
            subject, task, options.max_quality_drop, options.alpha,
            options.max_cost_increase)
    if baseline is not None and subject.task_type in baseline.task_types:
        found += _regression(subject, task.threshold_on, baseline, options)
    return found


def _regression(subject: Subject, on: measure.QualityOn, baseline: RunData,
                options: GateOptions) -> list[Check]:
    base_rows = _baseline_rows(subject, baseline)
    if base_rows.empty:
        return [checks_mod.quality_regression_check(subject, None, 0, 0)]
    current = measure.example_quality(subject.rows, on)
    before = measure.example_quality(base_rows, on)
    comparison = compare_quality(before, current, on, options.max_quality_drop)

    # cost on the examples both runs measured: prompts differ in length
    shared = set(current.index) & set(before.index)
    cost_before = _complete_cost(_on_examples(base_rows, shared))
    cost_now = _complete_cost(_on_examples(subject.rows, shared))
    return [checks_mod.quality_regression_check(
                subject, comparison, options.max_quality_drop, options.alpha),
            checks_mod.cost_regression_check(subject, cost_before, cost_now,
                                             options.max_cost_increase)]


def _baseline_rows(subject: Subject, baseline: RunData) -> pd.DataFrame:
    if subject.kind == "configuration":
        return configuration_rows(baseline.results, subject.task_type,
                                  str(subject.model), str(subject.variant))
    # the policy's choices on this run, applied to the baseline's outcomes
    keys = ["example_id", "model", "prompt_variant"]
    chosen = subject.rows[keys].astype(str).drop_duplicates()
    rows = baseline.results[baseline.results["task_type"].astype(str)
                            == subject.task_type]
    return rows.astype({k: str for k in keys}).merge(chosen, on=keys)


def _on_examples(rows: pd.DataFrame, shared: set[str]) -> pd.DataFrame:
    if not shared:
        return rows
    return rows[rows["example_id"].astype(str).isin(shared)]


def _complete_cost(rows: pd.DataFrame) -> float | None:
    cost = measure.cost_figure(rows)
    return cost.per_request if cost.complete else None
