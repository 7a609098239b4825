"""The numbers the HTML report shows, assembled from one run.

Per task type: every configuration's quality (with its 95% interval), cost
per request and latency, which of them lie on the cost-quality Pareto
frontier, and -- when a routing.json is given -- where the routed policy
lands.  Across the run: money spent by model and task type, and the calls
that failed or have no price.  Measurements follow :mod:`mre_eval.gate.measure`
so the report and the gate never disagree on a number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mre_eval.gate import measure
from mre_eval.stats import Estimate

if TYPE_CHECKING:
    import pandas as pd

    from mre_eval.gate.inputs import RunData
    from mre_eval.gate.routing import Routing


@dataclass
class Point:
    """One configuration (or the routed policy) on one task type."""

    label: str
    quality: Estimate
    cost: measure.CostFigure
    calls: int
    failed: int
    latency_p50: float
    latency_p95: float
    pareto: bool = False


@dataclass
class TaskView:
    """Everything the report shows for one task type."""

    name: str
    threshold: float
    threshold_on: str
    gate_on: str
    points: list[Point]
    routed: Point | None = None
    routing_record: dict[str, Any] | None = None
    routing_choices: dict[str, int] = field(default_factory=dict)


@dataclass
class ReportData:
    """The whole report's data."""

    run: str
    suite: str
    meta: dict[str, Any]
    tasks: list[TaskView]
    spend: pd.DataFrame        # model x task type, dollars spent by this run
    problems: pd.DataFrame     # model x task type: calls, failed, unpriced
    latency: pd.DataFrame      # model, task_type, latency_s per call
    routing: str | None = None


def assemble(run: RunData, routing: Routing | None = None) -> ReportData:
    """Measure every configuration of ``run`` and, if given, the routed policy."""
    tasks = [_task_view(run, name, routing) for name in run.task_types]
    results = run.results
    return ReportData(run.name, run.suite.name, run.meta, tasks,
                      spend_table(results), problem_table(results),
                      _latency_frame(results),
                      Path(routing.path).name if routing else None)


def measure_point(label: str, rows: pd.DataFrame, on: measure.QualityOn) -> Point:
    """Quality, cost and latency of a set of rows."""
    est = measure.quality(rows, on)
    p50, p95 = measure.latency_quantiles(rows)
    return Point(label, est, measure.cost_figure(rows), len(rows),
                 measure.failed_calls(rows), p50, p95)


def mark_pareto(points: list[Point]) -> None:
    """Flag the points no other point beats on both cost and quality.

    Points without a complete price cannot be placed on the cost axis and
    are never on the frontier.
    """
    priced = [p for p in points if p.cost.complete and not math.isnan(p.quality.point)]
    best = -math.inf
    for point in sorted(priced, key=lambda p: (p.cost.per_request,
                                               -p.quality.point)):
        if point.quality.point > best:
            point.pareto = True
            best = point.quality.point


def spend_table(results: pd.DataFrame) -> pd.DataFrame:
    """Dollars this run spent, by model (rows) and task type (columns).

    Cache hits are left out: they cost the run nothing.  Unpriced calls are
    left out of the sums and counted in :func:`problem_table`; a cell whose
    calls all lack a price, or that was not run, is NaN, never 0.
    """
    spent = results[~results["cache_hit"].fillna(False).astype(bool)]
    costs = spent["cost_usd"].astype("Float64").astype(float)
    table = costs.groupby([spent["model"].astype(str),
                           spent["task_type"].astype(str)]).sum(min_count=1)
    return table.unstack()


def problem_table(results: pd.DataFrame) -> pd.DataFrame:
    """Calls, failed calls, unpriced calls and a sample error per model x task."""
    import pandas as pd

    keys = [results["model"].astype(str), results["task_type"].astype(str)]
    grouped = results.groupby(keys)
    table = pd.DataFrame({
        "calls": grouped.size(),
        "failed": grouped["error"].apply(lambda s: int(s.notna().sum())),
        "unpriced": grouped["cost_usd"].apply(lambda s: int(s.isna().sum())),
        "example_error": grouped["error"].apply(_first_error),
    })
    table.index.names = ["model", "task_type"]
    return table.reset_index()


def _task_view(run: RunData, name: str, routing: Routing | None) -> TaskView:
    from mre_eval.gate.routing import replay

    task = run.suite.task(name)
    rows = run.results[run.results["task_type"].astype(str) == name]
    keys = [rows["model"].astype(str), rows["prompt_variant"].astype(str)]
    # with one prompt variant the model name alone names a configuration
    single = rows["prompt_variant"].nunique() == 1
    points = [measure_point(m if single else f"{m}:{v}", group, task.threshold_on)
              for (m, v), group in rows.groupby(keys, sort=True)]
    mark_pareto(points)
    view = TaskView(name, task.threshold, task.threshold_on, task.gate_on, points)
    if routing is not None and name in routing.task_types:
        played = replay(routing, run, name)
        view.routed = measure_point("routed policy", played.rows,
                                    task.threshold_on)
        view.routing_record = routing.promise(name)
        view.routing_choices = played.choices
    return view


def _latency_frame(results: pd.DataFrame) -> pd.DataFrame:
    frame = results[["model", "task_type", "latency_s"]].copy()
    frame["latency_s"] = frame["latency_s"].astype("Float64")
    frame = frame.dropna(subset=["latency_s"])
    return frame.astype({"model": str, "task_type": str, "latency_s": float})


def _first_error(errors: pd.Series) -> str:
    present = errors.dropna()
    return str(present.iloc[0])[:160] if len(present) else ""
