"""Commands: ``optimize`` (a run's results to routing.json) and ``route``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from mre_eval.cli.app import app


@app.command()
def optimize(
    run: Optional[str] = typer.Argument(
        None, help="Run folder or name; the latest run when omitted."),
    emit: Optional[Path] = typer.Option(
        None, "--emit", help="Write routing.json (and its classifier) here."),
    strict: bool = typer.Option(
        False, "--strict", help="Exit 1 when a task type's threshold is unmet."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    seed: int = typer.Option(0, "--seed", help="Seed of the fold assignment."),
    folds: int = typer.Option(5, "--folds", help="Cross-fitting folds (2-20)."),
    threshold: list[str] = typer.Option(
        [], "--threshold", help="TASK=VALUE; replaces the suite's threshold."),
    featurizer: str = typer.Option("tfidf", "--featurizer",
                                   help="Registered featurizer name."),
    reports: Path = typer.Option(Path("reports"), "--reports",
                                 help="Folder that holds the runs."),
) -> None:
    """Find each task type's cheapest policy that meets its threshold."""
    from mre_eval.optimize.routing_file import optimize_to_file

    routing = optimize_to_file(run, emit, threshold, folds, seed, featurizer,
                               reports)
    if as_json:
        typer.echo(json.dumps(routing, indent=2))
    else:
        _render(routing, emit)
    unmet = [t["message"] for t in routing["task_types"].values() if t["message"]]
    _warn_unmet(unmet)
    if strict and unmet:
        raise typer.Exit(1)


@app.command()
def route(
    routing: Path = typer.Argument(..., help="A routing.json from `optimize`."),
    source: Optional[Path] = typer.Option(
        None, "--input", help="JSONL requests: text (or input/prompt), task_type."),
    output: Optional[Path] = typer.Option(
        None, "--output", help="Write here instead of standard output."),
    fmt: str = typer.Option("jsonl", "--format", help="jsonl or litellm."),
    task_type: Optional[str] = typer.Option(
        None, "--task-type", help="Task type of every request."),
) -> None:
    """Route requests with a routing file, or export its tiers for LiteLLM."""
    from mre_eval.errors import ConfigError
    from mre_eval.optimize.litellm_export import litellm_yaml
    from mre_eval.optimize.router import Router, route_file
    from mre_eval.results import atomic_write_text

    if fmt == "litellm":
        text = litellm_yaml(Router.load(routing).routing)
    elif fmt == "jsonl":
        if source is None:
            raise ConfigError("--input is needed with --format jsonl: give a JSONL "
                              "file of requests")
        text = "".join(json.dumps(d) + "\n"
                       for d in route_file(routing, source, task_type))
    else:
        raise ConfigError(f"--format {fmt!r} is not known: use jsonl or litellm")
    if output is None:
        typer.echo(text, nl=False)
    else:
        atomic_write_text(output, text)


def _render(routing: dict[str, Any], emit: Path | None) -> None:
    from mre_eval.console import console

    for name, task in routing["task_types"].items():
        console.print(_frontier_table(name, task))
        console.print(_summary(task), markup=False)
        prompts = _prompt_table(name, task)
        if prompts is not None:
            console.print(prompts)
    if emit is not None:
        clf = emit.with_name(routing["classifier"]["file"])
        console.print(f"wrote {emit} and {clf}", markup=False)


def _frontier_table(name: str, task: dict[str, Any]) -> Any:
    from rich.table import Table

    from mre_eval.console import STYLE_DIM, STYLE_OK, quality, usd

    routed = {(r["model"], r["prompt_variant"]): r for r in task["routes"]}
    table = Table(title=f"{name}: threshold {task['threshold']:.2f} on "
                  f"{task['threshold_on']} ({task['gate_on']})", title_justify="left")
    for column in ("configuration", "quality [95% CI]", "cost/request",
                   "prompt tokens", "frontier", "route"):
        table.add_column(column)
    for cand in sorted(task["candidates"], key=lambda c: c["cost_per_request"]):
        q = cand["quality"]
        route = routed.get((cand["model"], cand["prompt_variant"]))
        tokens = cand["input_tokens"]
        table.add_row(
            f"{cand['model']} / {cand['prompt_variant']}",
            quality(q["point"], q["low"], q["high"]), usd(cand["cost_per_request"]),
            "-" if tokens is None else f"{tokens:.0f}",
            "yes" if cand["on_frontier"] else "",
            f"{route['tier']} ({route['share']:.0%})" if route else "",
            style=STYLE_OK if route else (None if cand["on_frontier"] else STYLE_DIM))
    q = task["expected_quality"]
    table.add_row(f"policy: {task['policy']}", quality(q["point"], q["low"], q["high"]),
                  usd(task["expected_cost_per_request"]), "", "", "chosen",
                  style="bold")
    return table


def _summary(task: dict[str, Any]) -> str:
    from mre_eval.console import pct, usd

    savings, base = task["savings"], task["baselines"]
    capable = base["most_capable"]
    lines = [
        f"saves {_pct(savings['vs_most_capable_pct'], pct)} against "
        f"{capable['model']} for all traffic ({usd(capable['cost_per_request'])}) "
        f"and {_pct(savings['vs_static_pct'], pct)} against static "
        f"{base['static']['model']} ({usd(base['static']['cost_per_request'])}); "
        f"hindsight oracle (best observed score per request, cheapest first): "
        f"{base['oracle']['quality']['point']:.3f} at "
        f"{usd(base['oracle']['cost_per_request'])}",
        f"decision: {task['decision']['reason']}",
    ]
    if task.get("routing_note"):
        lines.append(f"tiers: {task['routing_note']}")
    if not any(len(t["variants"]) > 1 for t in task["prompt_economics"]):
        lines.append("prompt variants: each routed model ran with one, so there "
                     "is none to compare")
    if task["left_out"]:
        lines.append("left out, unpriced: " + "; ".join(task["left_out"]))
    return "\n".join(lines) + "\n"


def _prompt_table(name: str, task: dict[str, Any]) -> Any:
    # only tiers whose model was run with more than one prompt variant
    from rich.table import Table

    from mre_eval.console import STYLE_OK, quality, usd

    tiers = [t for t in task["prompt_economics"] if len(t["variants"]) > 1]
    if not tiers:
        return None
    table = Table(title=f"{name}: prompt variants per tier, on the tier's requests",
                  title_justify="left")
    for column in ("tier / model", "prompt variant", "quality [95% CI]",
                   "cost/request", "prompt tokens", "keeps threshold", "note"):
        table.add_column(column)
    for tier in tiers:
        for row, v in enumerate(tier["variants"]):
            q, tokens = v["quality_on_tier"], v["input_tokens"]
            notes = [n for n, on in (
                ("routed", v["prompt_variant"] == tier["prompt_variant"]),
                ("cheapest", v["prompt_variant"] == tier["cheapest_meeting_bar"]))
                if on]
            table.add_row(
                f"{tier['tier']}: {tier['model']}" if row == 0 else "",
                v["prompt_variant"],
                "-" if q is None else quality(q["point"], q["low"], q["high"]),
                "-" if v["cost_per_request"] is None else usd(v["cost_per_request"]),
                "-" if tokens is None else f"{tokens:.0f}",
                {True: "yes", False: "no", None: "-"}[v["keeps_threshold"]],
                ", ".join(notes),
                style=STYLE_OK if "routed" in notes else None)
    return table


def _pct(value: float | None, pct: Any) -> str:
    return "-" if value is None else pct(value / 100)


def _warn_unmet(messages: list[str]) -> None:
    from mre_eval.console import STYLE_WARN, err_console

    for message in messages:
        err_console.print(message, style=STYLE_WARN, markup=False)
