"""Commands: run a suite, validate one, list past runs, show a run again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from mre_eval.cli.app import app

EXIT_SPEND_CAP = 3


@app.command()
def run(
    suite: Optional[Path] = typer.Argument(None, help="Suite YAML file."),
    resume: Optional[str] = typer.Option(
        None, "--resume", help="Continue a stopped run: its folder or name, or "
        "'latest'."),
    max_spend: Optional[float] = typer.Option(
        None, "--max-spend", min=0, help="Stop launching calls before spend could "
        "pass this many dollars."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the calls and "
                                 "worst-case cost per model; call nothing."),
    repeats: Optional[int] = typer.Option(None, "--repeats", min=1,
                                          help="Samples per example."),
    limit: Optional[int] = typer.Option(
        None, "--limit", min=1, help="Only the first N examples per task type."),
    concurrency: Optional[int] = typer.Option(None, "--concurrency", min=1),
    reports: Path = typer.Option(Path("reports"), "--reports",
                                 help="Folder that holds run folders."),
    cache: Optional[Path] = typer.Option(
        None, "--cache", help="The response cache file "
        "[default: .mre-eval-cache/responses.sqlite]."),
    no_cache: bool = typer.Option(False, "--no-cache",
                                  help="Neither read nor write the response cache."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Benchmark every model x prompt variant on every example of a suite."""
    from mre_eval import runner
    from mre_eval.cli.run_view import ProgressBar
    from mre_eval.errors import ConfigError

    settings = runner.RunSettings(
        reports=reports, max_spend_usd=max_spend, concurrency=concurrency,
        repeats=repeats, limit=limit,
        cache_path=None if no_cache else (cache or runner.DEFAULT_CACHE))
    if dry_run:
        if suite is None:
            raise ConfigError("--dry-run needs a SUITE file")
        _print_dry_run(*runner.dry_run(suite, settings), as_json)
        return
    if suite is None and resume is None:
        raise ConfigError("give a SUITE file to run, or --resume RUN to continue one")
    with ProgressBar(enabled=not as_json) as bar:
        if resume is not None:
            ref = None if resume == "latest" else resume
            report = runner.resume_run(ref, settings, bar)
        else:
            report = runner.run_suite(suite, settings, bar)
    _print_report(report, as_json)
    if report.status == "stopped_by_spend_cap":
        raise typer.Exit(EXIT_SPEND_CAP)


@app.command()
def validate(suite: Path = typer.Argument(..., help="Suite YAML file.")) -> None:
    """Check a suite, its dataset and its graders; call nothing."""
    from mre_eval.console import console
    from mre_eval.datasets import load_dataset
    from mre_eval.plan import plan_jobs
    from mre_eval.suite_loader import load_suite

    loaded = load_suite(suite, check_models=True)
    jobs = plan_jobs(loaded, load_dataset(loaded), loaded.run.repeats)
    mode = "recorded outcomes" if loaded.is_recorded else "live calls"
    console.print(f"{suite}: valid. {len(loaded.task_types)} task types, "
                  f"{len(loaded.models)} models, {len(loaded.prompts)} prompt "
                  f"variants, {len(jobs)} calls per run ({mode}).")


@app.command()
def runs(reports: Path = typer.Option(Path("reports"), "--reports"),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """List past runs, oldest first."""
    from rich.table import Table

    from mre_eval import console as view
    from mre_eval.results import META_FILE, list_runs

    found = list_runs(reports, require=META_FILE)
    if as_json:
        print(json.dumps([{"run": r.name, **r.meta} for r in found], indent=2))
        return
    table = Table("run", "suite", "mode", "status", "rows", "spent", "started")
    for info in found:
        meta = info.meta
        spent = view.usd(meta.get("spent_usd"), unknown="?")
        if meta.get("unpriced_calls"):
            spent += f" + {meta['unpriced_calls']} unpriced"
        table.add_row(info.name, str(meta.get("suite", "?")),
                      str(meta.get("mode", "?")), str(meta.get("status", "?")),
                      str(meta.get("rows", "?")), spent,
                      str(meta.get("started_at", "?"))[:19])
    view.console.print(table if found else f"no runs under {reports}/")


@app.command()
def show(run_ref: Optional[str] = typer.Argument(None, metavar="RUN",
                                                 help="Run folder or name; latest."),
         reports: Path = typer.Option(Path("reports"), "--reports"),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """Print a past run's summary again."""
    from mre_eval import results as store

    run_dir = store.find_run(run_ref, reports)
    summary = json.loads((run_dir / store.SUMMARY_FILE).read_text())
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    _print_summary(summary["rows"], store.read_meta(run_dir), summary["totals"],
                   run_dir)


def _print_report(report: Any, as_json: bool) -> None:
    from mre_eval import results as store

    if as_json:
        print((report.run_dir / store.SUMMARY_FILE).read_text(), end="")
        return
    _print_summary(report.summary, store.read_meta(report.run_dir), report.totals,
                   report.run_dir)


def _print_summary(rows: list[dict[str, Any]], meta: dict[str, Any],
                   totals: dict[str, Any], run_dir: Path) -> None:
    from mre_eval import console as view
    from mre_eval.cli.run_view import summary_tables

    for table in summary_tables(rows):
        view.console.print(table)
    view.console.print(_footer(meta, totals, run_dir), soft_wrap=True)


def _grader_lines(totals: dict[str, Any]) -> list[str]:
    from mre_eval import console as view

    lines = []
    if totals.get("grader_cost_usd"):
        lines.append(f"the LLM judge's own calls cost "
                     f"{view.usd(totals['grader_cost_usd'])} of that "
                     "(grader_cost_usd)")
    if totals.get("grader_unpriced_rows"):
        lines.append(f"[{view.STYLE_UNPRICED}]{totals['grader_unpriced_rows']} LLM "
                     "judge calls are unpriced: their cost is unknown, not zero[/]")
    return lines


def _footer(meta: dict[str, Any], totals: dict[str, Any], run_dir: Path) -> str:
    from mre_eval import console as view

    lines = [f"run {run_dir.name}: {meta.get('status')}; {totals['rows']} rows, "
             f"{totals['errors']} errors, results in {run_dir}/"]
    if meta.get("mode") == "recorded":
        lines.append(f"replayed recorded outcomes: no calls made, "
                     f"{view.usd(meta.get('spent_usd'))} spent; costs shown are the "
                     "recorded costs of those calls")
    elif (meta.get("calls") == 0 and meta.get("cache_hits")
          and not meta.get("spent_usd")):
        lines.append(f"every call came from the cache: 0 calls, $0.00 spent "
                     f"({meta['cache_hits']} cache hits)")
    else:
        spent = view.usd(meta.get("spent_usd"))
        unpriced = meta.get("unpriced_calls") or 0
        lines.append(f"{meta.get('calls')} live calls, {meta.get('cache_hits')} "
                     f"cache hits, {spent} spent"
                     + (f" plus {unpriced} unpriced calls" if unpriced else ""))
    lines.extend(_grader_lines(totals))
    if totals.get("unpriced_rows"):
        lines.append(f"[{view.STYLE_UNPRICED}]{totals['unpriced_rows']} rows are "
                     "unpriced: their cost is unknown, not zero[/]")
    if meta.get("stop_reason"):
        lines.append(f"[{view.STYLE_WARN}]stopped: {meta['stop_reason']}; "
                     f"{meta.get('not_launched')} calls not launched. Continue with "
                     f"mre-eval run --resume {run_dir.name}[/]")
    return "\n".join(lines)


def _print_dry_run(suite: Any, estimates: list[Any], as_json: bool) -> None:
    from rich.table import Table

    from mre_eval import console as view
    from mre_eval.plan import unbounded_reasons

    if as_json:
        print(json.dumps([e.__dict__ for e in estimates], indent=2))
        return
    table = Table("model", "calls", "prompt tokens", "worst-case cost",
                  title=f"{suite.name}: dry run, nothing called", title_justify="left")
    reasons = dict(unbounded_reasons(suite))
    for entry in estimates:
        table.add_row(entry.model, str(entry.calls), f"{entry.prompt_tokens:,}",
                      view.usd(entry.worst_case_usd,
                               unknown=f"unbounded ({reasons.get(entry.model, '?')})"))
    view.console.print(table)
    judged = [t.name for t in suite.task_types if t.grader.kind == "llm_judge"]
    if judged:
        view.console.print(
            f"not included: the LLM judge grading {', '.join(judged)} is called "
            "once per response, and its cost is recorded apart (grader_cost_usd)")
