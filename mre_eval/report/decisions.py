"""A routing.json's decision record for one task type, as HTML tables.

What the optimizer recorded when it made the policy (its routes, promised
quality and cost, the baselines it was weighed against, the savings and the
reason for its choice) beside what the policy does on this run's replay.
The full record follows, folded, as JSON.
"""

from __future__ import annotations

import json
import math
from html import escape
from typing import Any

from mre_eval.console import pct, usd
from mre_eval.report.data import Point, TaskView


def decision_record(view: TaskView) -> str:
    """The decision record of ``view``'s routed policy; empty without one."""
    record = view.routing_record
    if record is None:
        return ""
    parts = ["<h3>Routing policy: decision record</h3>",
             _promise_table(record, view.routed),
             _routes_table(record, view.routing_choices),
             _baselines_table(record), _decision(record),
             "<details><summary>the record as routing.json holds it</summary>"
             f"<pre>{escape(json.dumps(record, indent=2, default=str))}</pre>"
             "</details>"]
    return "\n".join(p for p in parts if p)


def _promise_table(record: dict[str, Any], routed: Point | None) -> str:
    head = ("<tr><th></th><th>quality [95% CI]</th><th>cost / request</th>"
            "</tr>")
    policy = escape(str(record.get("policy", "-")))
    promised = (f"<tr><td>promised by routing.json ({policy})</td>"
                f"<td>{_quality(record.get('expected_quality'))}</td>"
                f"<td>{usd(record.get('expected_cost_per_request'))}</td></tr>")
    replayed = ""
    if routed is not None:
        cost = usd(routed.cost.per_request)
        if routed.cost.unpriced:
            cost += (f" <span class=\"unpriced\">+ {routed.cost.unpriced} "
                     "unpriced calls</span>")
        replayed = (f"<tr><td>replayed on this run</td><td>"
                    f"{_quality(routed.quality.as_dict())}</td><td>{cost}</td></tr>")
    return f"<table>{head}{promised}{replayed}</table>"


def _routes_table(record: dict[str, Any], choices: dict[str, int]) -> str:
    head = ("<tr><th>tier</th><th>configuration</th><th>share when made</th>"
            "<th>examples on replay</th></tr>")
    rows = ""
    seen = set()
    for route in record.get("routes") or []:
        name = f"{route.get('model')}:{route.get('prompt_variant')}"
        seen.add(name)
        rows += (f"<tr><td>{escape(str(route.get('tier', '-')))}</td>"
                 f"<td>{escape(name)}</td><td>{pct(route.get('share'))}</td>"
                 f"<td>{choices.get(name, 0)}</td></tr>")
    for name, count in sorted(choices.items()):
        if name not in seen:  # a cascade member the routes list leaves out
            rows += (f"<tr><td>-</td><td>{escape(name)}</td><td>-</td>"
                     f"<td>{count}</td></tr>")
    return f"<table>{head}{rows}</table>"


def _baselines_table(record: dict[str, Any]) -> str:
    baselines = record.get("baselines") or {}
    if not baselines:
        return ""
    head = ("<tr><th>weighed against</th><th>configuration</th>"
            "<th>quality [95% CI]</th><th>cost / request</th></tr>")
    rows = ""
    for name, base in baselines.items():
        config = (f"{base['model']}:{base.get('prompt_variant')}"
                  if base.get("model") else base.get("note", "-"))
        rows += (f"<tr><td>{escape(name.replace('_', ' '))}</td>"
                 f"<td>{escape(str(config))}</td>"
                 f"<td>{_quality(base.get('quality'))}</td>"
                 f"<td>{usd(base.get('cost_per_request'))}</td></tr>")
    savings = record.get("savings") or {}
    note = ", ".join(f"{_pct(v)} {escape(_words(k))}" for k, v in savings.items())
    return (f"<table>{head}{rows}</table>"
            + (f"<p>Savings: {note}.</p>" if note else ""))


def _decision(record: dict[str, Any]) -> str:
    decision = record.get("decision") or {}
    text = ""
    reason = decision.get("reason") or record.get("message")
    if reason:
        chosen = escape(str(decision.get("chosen", record.get("policy", "-"))))
        text += f"<p>Decision: <b>{chosen}</b>: {escape(str(reason))}</p>"
    alternatives = decision.get("alternatives") or []
    if not alternatives:
        return text
    head = ("<tr><th>alternative</th><th>quality [95% CI]</th>"
            "<th>cost / request</th><th>meets threshold</th></tr>")
    rows = "".join(
        f"<tr><td>{escape(str(a.get('policy', '-')))}</td>"
        f"<td>{_quality(a.get('quality'))}</td>"
        f"<td>{usd(a.get('cost_per_request'))}</td>"
        f"<td>{_yes(a.get('meets_threshold'))}</td></tr>" for a in alternatives)
    return text + f"<table>{head}{rows}</table>"


def _quality(estimate: dict[str, Any] | None) -> str:
    if not estimate or estimate.get("point") is None:
        return "-"
    point = float(estimate["point"])
    if math.isnan(point):
        return "-"
    low, high = estimate.get("low"), estimate.get("high")
    interval = (f" [{float(low):.3f}, {float(high):.3f}]"
                if low is not None and high is not None else "")
    n = f" n={estimate['n']}" if estimate.get("n") is not None else ""
    return f"{point:.3f}{interval}{n}"


def _words(key: str) -> str:
    return key.removesuffix("_pct").replace("_", " ")


def _pct(value: Any) -> str:
    return "-" if value is None else f"{float(value):.1f}%"


def _yes(value: Any) -> str:
    return {True: "yes", False: "no"}.get(value, "-")
