"""Commands: costs (where the money went), logs compact, logs sample."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import typer

from mre_eval.cli.app import app

logs_app = typer.Typer(help="Compact call logs to parquet, or sample them into "
                            "an evaluation dataset.", no_args_is_help=True)
app.add_typer(logs_app, name="logs")

_LOGS = typer.Argument(..., help="Call logs: JSONL, parquet file or folder, SQLite, "
                                 "OpenTelemetry JSON, CSV.")
_FORMAT = typer.Option(None, "--format",
                       help="records, parquet, sqlite, otel or csv (default: infer).")
_MAP = typer.Option(None, "--map", help="CSV column for a field: FIELD=COLUMN "
                                        "(repeatable).")
_MAPPING = typer.Option(None, "--mapping", help="YAML file of FIELD: COLUMN lines.")
_ROUTING = typer.Option(None, "--routing", help="routing.json whose classifier gives "
                                                "complexity tiers (needs kept text).")


@app.command()
def costs(
    logs: list[Path] = _LOGS,
    by: str | None = typer.Option(
        None, "--by", help="day, week or month: period over period, biggest movers "
                           "first."),
    explain: tuple[str, str] | None = typer.Option(
        None, "--explain", help="Two features: why one costs more per request."),
    since: datetime | None = typer.Option(None, "--since", help="From this UTC time."),
    until: datetime | None = typer.Option(None, "--until",
                                          help="Before this UTC time."),
    routing: Path | None = _ROUTING,
    fmt: str | None = _FORMAT,
    map_pairs: list[str] | None = _MAP,
    mapping_file: Path | None = _MAPPING,
    top: int = typer.Option(10, "--top", min=1, help="Rows shown per table."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON to stdout."),
    csv_out: Path | None = typer.Option(None, "--csv", help="Also write every row "
                                                            "as CSV to this file."),
    memory_limit: str = typer.Option(
        "1GB", "--memory-limit", help="DuckDB memory cap; the rest spills to disk."),
    threads: int | None = typer.Option(None, "--threads", min=1,
                                       help="DuckDB threads (default: all cores)."),
) -> None:
    """Break the bill down by feature, model, user tier and complexity."""
    from mre_eval.observe.costs import cost_report, report_csv
    from mre_eval.observe.csv_map import read_mapping
    from mre_eval.results import atomic_write_text

    mapping = read_mapping(mapping_file, map_pairs) if (map_pairs or mapping_file) \
        else None
    report = cost_report(logs, fmt=fmt, mapping=mapping, routing=routing, by=by,
                         explain=explain, since=since, until=until,
                         memory_limit=memory_limit, threads=threads)
    if csv_out is not None:
        atomic_write_text(csv_out, report_csv(report))
    if as_json:
        typer.echo(json.dumps(report.to_dict(), default=str))
        return
    _render_report(report, top)


@logs_app.command("compact")
def logs_compact(
    logs: list[Path] = _LOGS,
    out: Path = typer.Option(..., "--out", help="Folder for day-partitioned parquet."),
    append: bool = typer.Option(False, "--append",
                                help="Add to parquet already there."),
    fmt: str | None = _FORMAT,
    map_pairs: list[str] | None = _MAP,
    mapping_file: Path | None = _MAPPING,
) -> None:
    """Turn call logs into parquet partitioned by day."""
    from mre_eval.console import console
    from mre_eval.observe.compact import compact
    from mre_eval.observe.csv_map import read_mapping

    mapping = read_mapping(mapping_file, map_pairs) if (map_pairs or mapping_file) \
        else None
    result = compact(logs, out, fmt=fmt, mapping=mapping, append=append)
    console.print(f"wrote {result.rows:,} calls over {result.days} days to "
                  f"{result.out} ({result.files} parquet files)")
    _render_problems(result.problems)


@logs_app.command("sample")
def logs_sample(
    logs: list[Path] = _LOGS,
    out: Path = typer.Option(..., "--out", help="JSONL dataset to write."),
    n: int = typer.Option(200, "--n", min=1, help="Requests to draw."),
    seed: int = typer.Option(0, "--seed", help="Seed of the draw."),
    min_per_stratum: int = typer.Option(1, "--min-per-stratum", min=0,
                                        help="Fewest draws per feature x tier."),
    routing: Path | None = _ROUTING,
    fmt: str | None = _FORMAT,
    map_pairs: list[str] | None = _MAP,
    mapping_file: Path | None = _MAPPING,
) -> None:
    """Draw logged requests, stratified by feature and complexity, as a dataset."""
    from mre_eval.console import console
    from mre_eval.observe.csv_map import read_mapping
    from mre_eval.observe.sample import sample_requests

    mapping = read_mapping(mapping_file, map_pairs) if (map_pairs or mapping_file) \
        else None
    result = sample_requests(logs, out, n=n, seed=seed, min_per_stratum=min_per_stratum,
                             routing=routing, fmt=fmt, mapping=mapping)
    table = _table("feature", "complexity", "logged requests", "drawn")
    for stratum in result.strata:
        table.add_row(stratum["feature"], stratum["complexity"],
                      f"{stratum['logged']:,}", f"{stratum['drawn']:,}")
    console.print(table)
    console.print(f"wrote {result.written:,} requests to {out}; "
                  f"{result.logged_without_text:,} logged calls kept no text. "
                  "Suite stanza: dataset: "
                  f"{{path: {out}, task_type_column: task_type}}")
    _render_problems(result.problems)


def _render_report(report: Any, top: int) -> None:
    from mre_eval.console import console, pct, seconds, usd

    t = report.totals
    if not t["calls"]:
        console.print("no calls in these logs (or in the --since/--until range)")
        _render_problems(report.problems)
        return
    console.print(f"[bold]{t['calls']:,} calls[/bold] from {t['first_call']} to "
                  f"{t['last_call']}: {usd(t['cost_usd'])} priced, "
                  f"{usd(t['cost_per_request'])} per request, "
                  f"{t['unpriced_calls']:,} unpriced, errors {pct(t['error_rate'])}, "
                  f"p50 {seconds(t['p50_latency_s'])}, "
                  f"p95 {seconds(t['p95_latency_s'])}")
    _render_drivers(report.drivers[:top])
    for dimension in ("model", "user_tier", "complexity"):
        title = f"By {dimension}" + (f" ({report.complexity_source})"
                                     if dimension == "complexity" else "")
        _render_breakdown(dimension, title, report.breakdowns[dimension][:top])
    if report.period:
        _render_periods(report)
    if report.explain:
        console.print(f"\n[bold]Why[/bold] {report.explain['summary']}")
    _render_problems(report.problems)


def _render_drivers(drivers: list[dict[str, Any]]) -> None:
    from mre_eval.console import console, pct, usd

    table = _table("feature", "calls", "cost", "share", "$/request", "in tok/req",
                   "out tok/req", "models", "cached", "errors", "unpriced",
                   title="By feature, with what drives cost per request")
    for d in drivers:
        models = ", ".join(f"{m['model']} {m['share']:.0%}" for m in d["model_mix"])
        table.add_row(d["feature"], f"{d['calls']:,}", usd(d["cost_usd"]),
                      pct(d["cost_share"]), usd(d["cost_per_request"]),
                      _tokens(d["input_tokens_per_request"]),
                      _tokens(d["output_tokens_per_request"]), models,
                      pct(d["cached_share"]), pct(d["error_rate"]),
                      f"{d['unpriced_calls']:,}")
    console.print(table)


def _render_breakdown(dimension: str, title: str,
                      found: list[dict[str, Any]]) -> None:
    from mre_eval.console import console, pct, seconds, usd

    table = _table(dimension, "calls", "cost", "share", "$/request", "in tok/req",
                   "errors", "p50", "p95", "unpriced", title=title)
    for r in found:
        table.add_row(r["key"], f"{r['calls']:,}", usd(r["cost_usd"]),
                      pct(r["cost_share"]), usd(r["cost_per_request"]),
                      _tokens(r["input_tokens_per_request"]), pct(r["error_rate"]),
                      seconds(r["p50_latency_s"]), seconds(r["p95_latency_s"]),
                      f"{r['unpriced_calls']:,}")
    console.print(table)


def _render_periods(report: Any) -> None:
    from mre_eval.console import console, pct, usd

    table = _table(report.period, "calls", "cost", "$/request", "errors",
                   "unpriced", "covers", title=f"By {report.period}")
    for p in report.periods:
        table.add_row(str(p["period"])[:10], f"{p['calls']:,}", usd(p["cost_usd"]),
                      usd(p["cost_per_request"]), pct(p["error_rate"]),
                      f"{p['unpriced_calls']:,}",
                      f"{str(p['first_call'])[:16]} .. {str(p['last_call'])[:16]}")
    console.print(table)
    if not report.movers:
        console.print(f"fewer than two {report.period}s with calls: no movers to show")
        return
    movers = _table("dimension", "value", "before", "after", "change", "from volume",
                    "from $/request", title="Biggest movers, last two periods")
    for m in report.movers[:10]:
        movers.add_row(m["dimension"], m["key"], usd(m["cost_before"]),
                       usd(m["cost_after"]), _signed(m["delta_usd"]),
                       _signed(m["volume_effect_usd"]),
                       _signed(m["per_request_effect_usd"]))
    console.print(movers)


def _render_problems(problems: Any) -> None:
    from mre_eval.console import STYLE_WARN, err_console

    if problems.skipped_spans:
        err_console.print(f"{problems.skipped_spans:,} spans were not GenAI calls "
                          "and were skipped", style=STYLE_WARN, markup=False)
    if not problems.malformed:
        return
    err_console.print(f"{problems.malformed:,} malformed lines were left out:",
                      style=STYLE_WARN, markup=False)
    for path, line, reason in problems.listed:
        err_console.print(f"  {path}:{line}: {reason}", style=STYLE_WARN,
                          markup=False, soft_wrap=True)
    if problems.malformed > len(problems.listed):
        err_console.print(f"  ... and {problems.malformed - len(problems.listed):,} "
                          "more (only the first ones are listed)",
                          style=STYLE_WARN, markup=False)


def _table(*columns: str, title: str | None = None) -> Any:
    from rich.table import Table

    table = Table(title=title, title_justify="left", title_style="bold")
    for index, name in enumerate(columns):
        table.add_column(name, justify="left" if index == 0 else "right")
    return table


def _tokens(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _signed(value: float | None) -> str:
    from mre_eval.console import usd

    if value is None:
        return "unpriced"
    return ("+" if value >= 0 else "-") + usd(abs(value))
