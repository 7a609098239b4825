"""Commands: gate (the CI quality gate) and report (the shareable HTML file)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from mre_eval.cli.app import app

if TYPE_CHECKING:
    from mre_eval.gate import GateResult


@app.command()
def gate(
    run: Optional[str] = typer.Argument(
        None, help="Run folder, run name or results.parquet; the latest run "
        "when omitted."),
    baseline: Optional[str] = typer.Option(
        None, "--baseline", help="The last accepted run (folder or "
        "results.parquet with its suite.resolved.yaml beside it)."),
    routing: Optional[Path] = typer.Option(
        None, "--routing", help="routing.json whose policy is replayed and "
        "judged for the task types it routes."),
    config: Optional[list[str]] = typer.Option(
        None, "--config", help="[TASK=]MODEL[:VARIANT] to judge; repeatable. "
        "Without --routing or --config every configuration is judged."),
    max_quality_drop: float = typer.Option(
        0.02, "--max-quality-drop", help="Quality may fall this much below "
        "the baseline before it can fail."),
    alpha: float = typer.Option(
        0.05, "--alpha", help="Significance level of the quality-drop test."),
    max_cost_increase: float = typer.Option(
        0.10, "--max-cost-increase", help="Allowed rise of cost per request "
        "over the baseline or routing.json's promise, as a fraction."),
    max_failed_share: float = typer.Option(
        0.02, "--max-failed-share", help="Share of calls that may fail after "
        "retries (failed calls are not scored)."),
    junit: Optional[Path] = typer.Option(
        None, "--junit", help="Write JUnit XML here, one test case per check."),
    summary_md: Optional[Path] = typer.Option(
        None, "--summary-md", help="Write a markdown summary here (and append "
        "it to $GITHUB_STEP_SUMMARY when set)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON only."),
    reports: Path = typer.Option(Path("reports"), "--reports",
                                 help="Folder that holds run folders."),
) -> None:
    """Fail (exit 1) when quality, cost or the routing promise regresses."""
    from mre_eval.gate import GateOptions, run_gate
    from mre_eval.gate.outputs import json_text, write_outputs

    options = GateOptions(max_quality_drop, alpha, max_cost_increase,
                          max_failed_share)
    result = run_gate(run, baseline, routing, config or [], options, reports)
    write_outputs(result, junit, summary_md)
    if as_json:
        print(json_text(result))
    else:
        _render(result)
    if not result.passed:
        raise typer.Exit(1)


@app.command()
def report(
    run: Optional[str] = typer.Argument(
        None, help="Run folder, run name or results.parquet; the latest run "
        "when omitted."),
    output: Path = typer.Option(Path("report.html"), "-o", "--output",
                                help="The HTML file to write."),
    routing: Optional[Path] = typer.Option(
        None, "--routing", help="routing.json to mark on the plots, with its "
        "decision records."),
    reports: Path = typer.Option(Path("reports"), "--reports",
                                 help="Folder that holds run folders."),
) -> None:
    """Write one self-contained HTML report: cost, quality, latency, failures."""
    from mre_eval.console import console
    from mre_eval.report import write_report

    path = write_report(run, output, routing, reports)
    console.print(f"wrote {path}")


def _render(result: GateResult) -> None:
    from rich.table import Table

    from mre_eval.console import (STYLE_DIM, STYLE_FAIL, STYLE_OK, STYLE_WARN,
                                  console)

    console.print(f"gate: run {result.run} (suite {result.suite}), baseline "
                  f"{result.baseline or 'none'}")
    for task, how in result.chosen_by.items():
        console.print(f"  {task}: judged {how}", style=STYLE_DIM)
    for note in result.notes:
        console.print(f"  note: {note}", style=STYLE_WARN)
    styles = {"pass": STYLE_OK, "fail": STYLE_FAIL, "skip": STYLE_DIM}
    table = Table(show_lines=False)
    for column in ("result", "task type", "subject", "check", "measured", "limit"):
        table.add_column(column, overflow="fold")
    for c in result.checks:
        table.add_row(c.status.upper(), c.task_type, c.subject, c.name,
                      c.measured, c.limit, style=styles[c.status])
    console.print(table)
    if result.passed:
        console.print(f"gate passed: {len(result.checks)} checks", style=STYLE_OK)
    else:
        console.print(f"gate FAILED: {len(result.failed)} of "
                      f"{len(result.checks)} checks failed", style=STYLE_FAIL)
