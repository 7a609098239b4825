"""Commands: cache-sim, budget, forecast, trend, decisions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from mre_eval.cli.app import app
from mre_eval.errors import ConfigError

_LOG_HELP = "Decision log to append to (JSON lines, kept in git)."
_RECORD_HELP = "Append the recommendation and its measurements to the decision log."


def _floats(text: str | None, what: str) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"{what} {text!r} is not a comma-separated list of "
                          "numbers, e.g. 0.6,0.7,0.8") from None


def _dump(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


@app.command("cache-sim")
def cache_sim(
    dataset: Path = typer.Argument(None, help="Dataset file (JSONL, CSV, parquet)."),
    suite: Path = typer.Option(None, "--suite", help="Replay a suite's dataset."),
    run: str = typer.Option(None, "--run", help="Replay a run's requests."),
    model: str = typer.Option(None, "--model", help="Run: whose answers to cache."),
    prompt_variant: str = typer.Option(None, "--prompt-variant"),
    embedder: str = typer.Option("tfidf", "--embedder", help="tfidf or minilm."),
    thresholds: str = typer.Option(None, "--thresholds",
                                   help="Comma-separated, e.g. 0.6,0.7,0.8."),
    tolerance: float = typer.Option(0.02, "--tolerance",
                                    help="Acceptable false-hit rate, in (0, 1)."),
    text_column: str = typer.Option(None, "--text-column"),
    answer_column: str = typer.Option(None, "--answer-column"),
    cost_per_request: float = typer.Option(None, "--cost-per-request",
                                           help="Dollars per request."),
    grader: bool = typer.Option(False, "--grader",
                                help="Judge hits with the suite's graders."),
    record: bool = typer.Option(False, "--record", help=_RECORD_HELP),
    log: Path = typer.Option(Path("decisions.jsonl"), "--log", help=_LOG_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Replay requests through exact and semantic caches at a sweep of thresholds."""
    from mre_eval.economics import service

    source = service.CacheSimSource(dataset, suite, run, model, prompt_variant,
                                    text_column, answer_column, cost_per_request,
                                    grader)
    _, report = service.cache_sim(source, embedder,
                                  _floats(thresholds, "thresholds"), tolerance,
                                  log if record else None)
    if as_json:
        _dump(report)
    else:
        _render_cache(report)


def _render_cache(report: dict[str, Any]) -> None:
    from rich.table import Table

    from mre_eval.console import STYLE_DIM, STYLE_OK, console, pct, usd

    answers = report["inputs"].get("answers_of")
    table = Table(title=f"cache replay of {report['requests']:,} requests "
                        f"({report['embedder']}"
                        + (f"; answers of {answers})" if answers else ")"))
    for col in ("cache", "hits", "hit rate", "false hits", "false-hit rate",
                "95% upper", "saved"):
        table.add_column(col, justify="left" if col == "cache" else "right")
    rec = report["recommended"]
    for row in report["sweep"]:
        mark = rec is not None and row["cache"] == f"{rec['threshold']:.2f}"
        table.add_row(
            row["cache"] + (" *" if mark else ""), f"{row['hits']:,}",
            pct(row["hit_rate"]), str(row["false_hits"]),
            pct(row["false_hit_rate"]), pct(row["false_hit_rate_high"]),
            usd(row["saved_usd"]) + (f" (+{row['unpriced_hits']} unpriced)"
                                     if row["unpriced_hits"] else ""),
            style=STYLE_OK if mark else None)
    console.print(table)
    _render_recommendation(report)
    _render_near(report["near_misses"], rec and rec["threshold"])
    emb = report["embedding"]
    console.print(f"embedded {emb['texts']:,} distinct texts in "
                  f"{emb['seconds']:.2f} s; the cache's own cost is not "
                  "subtracted from the savings.", style=STYLE_DIM)


def _render_recommendation(report: dict[str, Any]) -> None:
    from mre_eval.console import STYLE_WARN, console, pct

    rec = report["recommended"]
    if rec is None:
        console.print(f"No threshold keeps the false-hit rate's 95% upper bound "
                      f"under {pct(report['tolerance'])}: do not cache "
                      "semantically on this evidence.", style=STYLE_WARN)
        return
    console.print(
        f"Recommended threshold {rec['threshold']:.2f}: hit rate "
        f"{pct(rec['hit_rate'])}, {rec['false_hits']} false of "
        f"{rec['hits']:,} hits, false-hit rate {pct(rec['false_hit_rate'])} "
        f"(95% upper bound {pct(rec['false_hit_rate_high'], 2)} < "
        f"{pct(report['tolerance'])}, {report['interval']}).")
    quarters = ", ".join(pct(r) for r in rec["hit_rate_by_quarter"])
    console.print(f"Hit rate by quarter of the traffic, in arrival order: {quarters}.")
    _render_by_task_type(rec, report["tolerance"])


def _render_by_task_type(rec: dict[str, Any], tolerance: float) -> None:
    from rich.table import Table

    from mre_eval.console import STYLE_WARN, console, pct, usd

    rows = rec.get("by_task_type") or {}
    if len(rows) < 2:
        return
    table = Table(title=f"by task type at threshold {rec['threshold']:.2f} "
                        "(each has its own cache)")
    for col in ("task type", "requests", "hits", "hit rate", "false hits",
                "95% upper", "saved"):
        table.add_column(col, justify="left" if col == "task type" else "right")
    for name, row in rows.items():
        table.add_row(name, f"{row['requests']:,}", f"{row['hits']:,}",
                      pct(row["hit_rate"]), str(row["false_hits"]),
                      pct(row["false_hit_rate_high"]),
                      usd(row["saved_usd"]) + (f" (+{row['unpriced_hits']} "
                                               "unpriced)" if row["unpriced_hits"]
                                               else ""),
                      style=None if row["within_tolerance"] else STYLE_WARN)
    console.print(table)
    loose = [n for n, r in rows.items() if not r["within_tolerance"]]
    if loose:
        console.print(f"At this threshold the false-hit rate's 95% upper bound "
                      f"is not under {pct(tolerance)} for {', '.join(loose)}: "
                      "too few hits to bound, or too many false ones.",
                      style=STYLE_WARN)


def _render_near(near: list[dict[str, Any]], threshold: float | None) -> None:
    from rich.table import Table

    from mre_eval.console import STYLE_DIM, STYLE_FAIL, STYLE_WARN, console

    if not near:
        return
    table = Table(title="near misses: look-alikes served a wrong answer in the "
                        "sweep")
    for col in ("similarity", "kind", "at recommended", "new request",
                "cached request"):
        table.add_column(col)
    for n in near:
        above = threshold is not None and n["similarity"] >= threshold - 1e-5
        verdict = "served wrong" if n["served"] else \
            "not separated" if above else ""
        table.add_row(f"{n['similarity']:.3f}", n["kind"], verdict, n["new"],
                      n["cached"], style=STYLE_FAIL if n["served"] else
                      STYLE_WARN if above else None)
    console.print(table)
    if threshold is not None:
        console.print("served wrong: happened at the recommended threshold; "
                      "not separated: above it too, but served wrong only at a "
                      "looser one, whose cache held other entries.",
                      style=STYLE_DIM)


@app.command("budget")
def budget(
    run: str = typer.Argument(None, help="Run folder or name; latest if omitted."),
    routing: Path = typer.Option(None, "--routing", help="routing.json to check."),
    suite: Path = typer.Option(None, "--suite", help="Suite holding the budgets."),
    task_type: list[str] = typer.Option(None, "--task-type"),
    days_per_month: float = typer.Option(30.0, "--days-per-month"),
    show: int = typer.Option(20, "--show", help="Over-limit requests to list."),
    strict: bool = typer.Option(False, "--strict",
                                help="Exit 1 when anything is over budget."),
    record: bool = typer.Option(False, "--record", help=_RECORD_HELP),
    log: Path = typer.Option(Path("decisions.jsonl"), "--log", help=_LOG_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Check a run or a routing file against the suite's budgets."""
    from mre_eval.economics import service

    if run is None and routing is None:
        run = _latest_run()
    report = service.budget(run, routing, suite, days_per_month,
                            task_type or None, log if record else None)
    if as_json:
        data = report.as_dict()
        data["over_limit"] = [o.__dict__ for o in report.over_limit[:show]]
        _dump(data)
    else:
        _render_budget(report, show)
    if strict and (report.over_budget or report.over_limit):
        raise typer.Exit(1)


def _latest_run() -> str:
    from mre_eval.results import find_run

    return str(find_run(None))


def _growth_cell(line: Any) -> str:
    if not line.monthly_growth:
        return "-"
    months = line.months_to_over
    when = "" if months in (None, 0) else f", over in {months} mo"
    return f"{line.monthly_growth:+.0%}/mo{when}"


def _render_budget(report: Any, show: int) -> None:
    from rich.table import Table

    from mre_eval.console import STYLE_FAIL, STYLE_OK, STYLE_WARN, console, usd

    table = Table(title=f"budgets ({report.days_per_month:g}-day months)")
    for col in ("task type", "configuration", "per request", "requests/day",
                "month", "budget", "status", "growth", "over limit"):
        table.add_column(col)
    for line in report.lines:
        status = {True: "OVER", False: "ok", None: "-"}[line.over_budget]
        table.add_row(
            line.task_type, line.config,
            usd(line.cost_per_request) + (f" ({line.unpriced} unpriced)"
                                          if line.unpriced else ""),
            "-" if line.requests_per_day is None else f"{line.requests_per_day:,g}",
            usd(line.monthly_usd, "-"), usd(line.budget_usd, "-"), status,
            _growth_cell(line), str(len(line.over_limit)),
            style=STYLE_FAIL if line.over_budget else None)
    console.print(table)
    unpriced = sum(line.unpriced for line in report.lines)
    if unpriced:
        console.print(f"{unpriced} unpriced request(s): a month counts them at "
                      "their line's priced mean cost.", style=STYLE_WARN)
    over = report.over_limit
    if over:
        console.print(f"{len(over)} request(s) above the per-request limit; "
                      f"the {min(show, len(over))} dearest:", style=STYLE_FAIL)
        for o in over[:show]:
            console.print(f"  {o.task_type}  {o.example_id}  {o.config}  "
                          f"{usd(o.cost_usd)} > {usd(o.limit_usd)}")
    elif report.lines:
        console.print("No request above its per-request limit.", style=STYLE_OK)


@app.command("forecast")
def forecast(
    run: str = typer.Argument(None, help="Run folder or name."),
    scenario: Path = typer.Option(None, "--scenario", help="Scenario YAML file."),
    routing: Path = typer.Option(None, "--routing", help="routing.json in use."),
    suite: Path = typer.Option(None, "--suite", help="Suite with volumes."),
    hit_rate: float = typer.Option(None, "--cache-hit-rate"),
    cache_report: Path = typer.Option(None, "--cache-sim",
                                      help="A `cache-sim --json` report."),
    days_per_month: float = typer.Option(None, "--days-per-month",
                                         help="Default 30."),
    multiples: str = typer.Option(None, "--multiples", help="e.g. 1,10,100."),
    record: bool = typer.Option(False, "--record", help=_RECORD_HELP),
    log: Path = typer.Option(Path("decisions.jsonl"), "--log", help=_LOG_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The monthly bill now and at growth multiples, routed and cached."""
    from mre_eval.economics import service

    result = service.forecast(scenario, run, routing, suite, hit_rate,
                              cache_report, days_per_month,
                              _floats(multiples, "multiples"),
                              log if record else None)
    if as_json:
        _dump(result.as_dict())
    else:
        _render_forecast(result)


def _render_forecast(result: Any) -> None:
    from rich.table import Table

    from mre_eval.console import STYLE_DIM, console, pct, usd

    table = Table(title=f"monthly bill ({result.days_per_month:g}-day months)")
    for col in ("traffic", "requests/month", "routed", "routed + cached",
                "all most capable", "reduction"):
        table.add_column(col, justify="right", overflow="fold")
    for p in result.projections:
        table.add_row(f"{p.multiple:g}x", f"{p.requests:,.0f}", usd(p.routed_usd),
                      usd(p.cached_usd), usd(p.baseline_usd, "unknown"),
                      pct(p.reduction))
    console.print(table)
    _render_caching(result.caching)
    for note in result.growth_notes() + result.findings:
        console.print(note)
    for note in result.assumptions:
        console.print(f"assumed: {note}", style=STYLE_DIM)


def _render_caching(caching: list[Any]) -> None:
    from mre_eval.console import STYLE_WARN, console, pct

    # a stream on a borrowed rate, or on none, is named in the warning colour
    for c in caching:
        rate = "no cache saving" if c.hit_rate is None and c.source == "none" \
            else "cached price" if c.hit_rate is None \
            else f"hit rate {pct(c.hit_rate)}"
        console.print(f"cache {c.stream}: {rate} [{c.source}] - {c.detail}",
                      style=STYLE_WARN if c.source in ("none", "cache-sim overall")
                      else None, markup=False)


@app.command("trend")
def trend(
    runs: list[Path] = typer.Argument(None, help="Run folders; all runs if none."),
    series: Path = typer.Option(None, "--series", help="CSV of dated figures."),
    task_type: str = typer.Option(None, "--task-type"),
    model: str = typer.Option(None, "--model"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Flag cost per request outgrowing volume, or quality falling as cost rises."""
    from mre_eval.economics import trend as trends

    points, flags = trends.series_alerts(runs or None, series, task_type, model)
    if as_json:
        _dump({"points": [p.__dict__ | {"cost_per_request": p.cost_per_request}
                          for p in points],
               "alerts": [a.__dict__ for a in flags]})
        return
    _render_trend(points, flags)


def _render_trend(points: list[Any], flags: list[Any]) -> None:
    from rich.table import Table

    from mre_eval.console import STYLE_OK, STYLE_WARN, console, usd

    table = Table(title="cost and quality over time")
    for col in ("point", "date", "requests", "per request", "quality"):
        table.add_column(col)
    for p in points:
        q = "-" if p.quality is None else f"{p.quality:.3f}"
        table.add_row(p.label, p.date[:19], f"{p.requests:,}",
                      usd(p.cost_per_request), q)
    console.print(table)
    for a in flags:
        console.print(f"ALERT {a.kind} {a.before} -> {a.after}: {a.message}",
                      style=STYLE_WARN)
    if not flags:
        console.print("No alerts.", style=STYLE_OK)


@app.command("decisions")
def decisions(
    log: Path = typer.Option(Path("decisions.jsonl"), "--log", help=_LOG_HELP),
    markdown: bool = typer.Option(False, "--markdown", help="Render as markdown."),
    add_routing: Path = typer.Option(None, "--add-routing",
                                     help="Record the routing file's choice."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show the decision log, or record a routing choice in it."""
    from mre_eval.economics import decisions as log_mod

    if add_routing is not None:
        record = log_mod.append_decision(
            log, "routing", *log_mod.routing_decision(add_routing))
        typer.echo(f"recorded routing decision {record['id']} in {log}")
        return
    records = log_mod.read_decisions(log)
    if as_json:
        _dump(records)
    elif markdown:
        typer.echo(log_mod.render_markdown(records))
    else:
        for r in records:
            typer.echo(f"{r['timestamp']}  {r['kind']:<16} {r['id']}  "
                       f"{json.dumps(r['recommendation'], default=str)[:100]}")
        if not records:
            typer.echo(f"no decisions in {log}")
