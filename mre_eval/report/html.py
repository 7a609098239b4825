"""The report as one self-contained HTML document.

Styles and plots are inline; nothing is fetched when the file is opened.  A
short inline script records each plot's drawn box on the ``<svg>`` element
(``data-drawn-x``/``-y``/``-width``/``-height``), and the page's height and
the number of resources it loaded on ``<body>``, so a headless browser check
can find each plot on a screenshot and confirm that nothing was fetched.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

from mre_eval.console import pct, seconds, usd
from mre_eval.report import plots
from mre_eval.report.data import Point, ReportData, TaskView
from mre_eval.report.decisions import decision_record

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem;
       color: #2b2b2b; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.8rem 0; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
.plot svg { max-width: 100%; height: auto; }
.unpriced { color: #a0148c; } .bad { color: #c0392b; font-weight: bold; }
.note { color: #5a5a5a; font-size: 0.85rem; }
pre { background: #f7f7f7; padding: 0.6rem; overflow-x: auto; font-size: 0.8rem; }
"""

MEASURE_SCRIPT = """
window.addEventListener('load', function () {
  document.querySelectorAll('.plot svg').forEach(function (svg) {
    var box = svg.getBoundingClientRect();
    svg.setAttribute('data-drawn-x', Math.round(box.left + window.scrollX));
    svg.setAttribute('data-drawn-y', Math.round(box.top + window.scrollY));
    svg.setAttribute('data-drawn-width', Math.round(box.width));
    svg.setAttribute('data-drawn-height', Math.round(box.height));
  });
  var body = document.body;
  body.setAttribute('data-page-height', document.documentElement.scrollHeight);
  body.setAttribute('data-resources',
                    performance.getEntriesByType('resource').length);
  body.setAttribute('data-measured', 'yes');
});
"""


def render(data: ReportData) -> str:
    """The whole HTML document for ``data``."""
    parts = [_header(data)]
    for view in data.tasks:
        parts.append(_task_section(view))
    parts.append(_section("Cost by model and task type",
                          _spend_note(data)
                          + _plot(plots.spend_by_model(data.spend,
                                                       _spend_label(data)))
                          + _spend_table(data)))
    parts.append(_section("Latency", _latency(data)))
    parts.append(_section("Unpriced and failed calls", _problems(data)))
    body = "\n".join(parts)
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>mre-eval report: {escape(data.run)}</title>"
            f"<style>{STYLE}</style></head>\n<body>\n{body}\n"
            f"<script>{MEASURE_SCRIPT}</script>\n</body></html>\n")


def _header(data: ReportData) -> str:
    meta = data.meta
    facts = [("suite", data.suite), ("run", data.run),
             ("started", meta.get("started_at", "-")),
             ("routing", data.routing or "none")]
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>"
                   for k, v in facts)
    return (f"<h1>mre-eval report: {escape(data.suite)}</h1><table>{rows}</table>"
            "<p class=\"note\">Quality is per example (repeats averaged) over the "
            "calls that returned, with a 95% interval; failed calls are counted "
            "beside it. Cost per request "
            "is the mean over priced calls; unpriced calls are counted, never "
            "read as $0.</p>")


def _task_section(view: TaskView) -> str:
    rule = "lower bound" if view.gate_on == "lower_bound" else "point"
    intro = (f"<p>Threshold: {view.threshold_on.replace('_', ' ')} "
             f"&ge; {view.threshold:.3f}, judged on the {rule}. Red line: the "
             "Pareto frontier (no configuration is both cheaper and better).</p>")
    unplotted = [p.label for p in view.points if not p.cost.complete]
    if unplotted:
        intro += (f"<p class=\"unpriced\">Not on the plot (some calls unpriced): "
                  f"{escape(', '.join(unplotted))}</p>")
    body = intro + _plot(plots.cost_quality(view)) + _points_table(view)
    body += decision_record(view)
    return _section(f"Task type: {view.name}", body)


def _points_table(view: TaskView) -> str:
    head = ("<tr><th>configuration</th><th>quality [95% CI]</th><th>n</th>"
            "<th>cost / request</th><th>unpriced</th><th>failed</th>"
            "<th>latency p50</th><th>p95</th><th>Pareto</th></tr>")
    points = sorted(view.points, key=lambda p: -_num(p.quality.point))
    if view.routed is not None:
        points = [view.routed] + points
    rows = "".join(_point_row(p, view) for p in points)
    return (f"<table>{head}{rows}</table><p class=\"note\">In red: quality "
            "below the threshold on the figure the gate judges.</p>")


def _point_row(p: Point, view: TaskView) -> str:
    q = p.quality
    quality = ("-" if math.isnan(q.point)
               else f"{q.point:.3f} [{q.low:.3f}, {q.high:.3f}]")
    judged = q.low if view.gate_on == "lower_bound" else q.point
    below = " class=\"bad\"" if not judged >= view.threshold else ""
    unpriced = (f"<span class=\"unpriced\">{p.cost.unpriced}</span>"
                if p.cost.unpriced else "0")
    cells = [escape(p.label), f"<span{below}>{quality}</span>", str(q.n),
             usd(p.cost.per_request), unpriced, str(p.failed),
             seconds(_none(p.latency_p50)), seconds(_none(p.latency_p95)),
             "yes" if p.pareto else ""]
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _replayed(data: ReportData) -> bool:
    return data.meta.get("mode") == "recorded"


def _spend_label(data: ReportData) -> str:
    if _replayed(data):
        return "USD the recorded calls cost (priced calls)"
    return "USD spent in this run (priced calls, cache hits excluded)"


def _spend_note(data: ReportData) -> str:
    if not _replayed(data):
        return ""
    return ("<p class=\"note\">This run replayed recorded outcomes: it made no "
            "calls and spent nothing. The figures are what the recorded calls "
            "cost when they were made.</p>")


def _spend_table(data: ReportData) -> str:
    spend = data.spend
    unpriced = {(r.model, r.task_type): r.unpriced
                for r in data.problems.itertuples()}
    head = "<tr><th>model</th>" + "".join(
        f"<th>{escape(str(c))}</th>" for c in spend.columns) + "<th>total</th></tr>"
    rows = ""
    order = spend.sum(axis=1, min_count=1).sort_values(ascending=False).index
    for model, row in spend.loc[order].iterrows():
        cells = [_spend_cell(row[task], unpriced.get((model, task)))
                 for task in spend.columns]
        total = _spend_cell(row.sum(min_count=1),
                            sum(unpriced.get((model, t)) or 0 for t in spend.columns))
        rows += (f"<tr><td>{escape(str(model))}</td>"
                 + "".join(f"<td>{c}</td>" for c in cells + [total]) + "</tr>")
    return f"<table>{head}{rows}</table>"


def _spend_cell(value: float, unpriced: int | None) -> str:
    if unpriced is None:
        return "-"  # the model was not run on this task type
    if math.isnan(value):
        return f"<span class=\"unpriced\">unpriced ({unpriced} calls)</span>"
    text = usd(float(value))
    if unpriced:
        text += f" <span class=\"unpriced\">+ {unpriced} unpriced calls</span>"
    return text


def _problems(data: ReportData) -> str:
    table = data.problems
    bad = table[(table["failed"] > 0) | (table["unpriced"] > 0)]
    if bad.empty:
        return "<p>Every call succeeded and every call has a price.</p>"
    head = ("<tr><th>model</th><th>task type</th><th>calls</th><th>failed</th>"
            "<th>unpriced</th><th>an error</th></tr>")
    rows = "".join(
        f"<tr><td>{escape(r.model)}</td><td>{escape(r.task_type)}</td>"
        f"<td>{r.calls}</td><td>{r.failed} ({pct(r.failed / r.calls)})</td>"
        f"<td class=\"unpriced\">{r.unpriced}</td>"
        f"<td>{escape(r.example_error)}</td></tr>"
        for r in bad.itertuples())
    return f"<table>{head}{rows}</table>"


def _latency(data: ReportData) -> str:
    if data.latency.empty:
        return ("<p>No call in this run recorded a latency (recorded outcomes "
                "often carry none).</p>")
    return _plot(plots.latency(data.latency))


def _section(title: str, body: str) -> str:
    return f"<section><h2>{escape(title)}</h2>\n{body}\n</section>"


def _plot(svg: str) -> str:
    return f"<div class=\"plot\">{svg}</div>"


def _num(value: float) -> float:
    return -math.inf if math.isnan(value) else value


def _none(value: float) -> Any:
    return None if math.isnan(value) else value
