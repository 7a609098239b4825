"""How a run looks on screen: its progress bar and its summary tables."""

from __future__ import annotations

from typing import Any

from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeElapsedColumn)
from rich.table import Table

from mre_eval import console as view


class ProgressBar:
    """A run observer that draws calls done, cache hits, errors and spend."""

    def __init__(self, enabled: bool = True) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("cache hits {task.fields[hits]}"),
            TextColumn("errors {task.fields[errors]}"),
            TextColumn("spent {task.fields[spent]}"), TimeElapsedColumn(),
            console=view.err_console, disable=not enabled, transient=False)
        self.hits = 0
        self.errors = 0

    def __enter__(self) -> ProgressBar:
        self.progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.progress.stop()

    def started(self, total: int) -> None:
        self.task = self.progress.add_task("calls", total=total, hits=0, errors=0,
                                           spent=view.usd(0.0))

    def finished(self, row: dict[str, Any], spent_usd: float) -> None:
        self.hits += bool(row["cache_hit"])
        self.errors += row["error"] is not None
        self.progress.update(self.task, advance=1, hits=self.hits,
                             errors=self.errors, spent=view.usd(spent_usd))


def summary_tables(rows: list[dict[str, Any]]) -> list[Table]:
    """One table per task type: quality, cost and latency per configuration."""
    variants = len({row["prompt_variant"] for row in rows}) > 1
    timed = any(row["latency_p50_s"] is not None for row in rows)
    repeats = max((row["repeats"] for row in rows), default=1)
    tables: dict[str, Table] = {}
    for row in rows:
        task = row["task_type"]
        if task not in tables:
            tables[task] = _table(row, variants, timed, repeats)
        tables[task].add_row(*_cells(row, variants, timed, repeats))
    return list(tables.values())


def _table(first: dict[str, Any], variants: bool, timed: bool,
           repeats: int) -> Table:
    metric = "pass rate" if first["metric"] == "pass_rate" else "mean score"
    table = Table(title=f"{first['task_type']}: threshold {first['threshold']:.2f} "
                  f"on {metric}, {first['examples']} examples", title_justify="left")
    table.add_column("model")
    if variants:
        table.add_column("prompt")
    table.add_column(f"{metric} (95% CI)", justify="right")
    if repeats > 1:
        table.add_column(f"pass^{repeats}", justify="right")
    table.add_column("meets", justify="center")
    for name in ("cost/call", "total", "unpriced"):
        table.add_column(name, justify="right")
    if timed:
        table.add_column("p50", justify="right")
        table.add_column("p95", justify="right")
    table.add_column("errors", justify="right")
    return table


def _cells(row: dict[str, Any], variants: bool, timed: bool,
           repeats: int) -> list[str]:
    q = row["quality"]
    meets = (f"[{view.STYLE_OK}]yes[/]" if row["meets_threshold"]
             else f"[{view.STYLE_FAIL}]no[/]")
    unpriced = row["unpriced_calls"]
    cells = [row["model"]] + ([row["prompt_variant"]] if variants else [])
    cells.append(view.quality(q["point"], q["low"], q["high"]))
    if repeats > 1:
        cells.append(view.pct(row["pass_hat_k"]))
    cells += [meets,
              view.usd(row["cost_mean_usd"]), view.usd(row["cost_total_usd"]),
              f"[{view.STYLE_UNPRICED}]{unpriced}[/]" if unpriced else "0"]
    if timed:
        cells += [view.seconds(row["latency_p50_s"]),
                  view.seconds(row["latency_p95_s"])]
    return cells + [str(row["errors"])]
