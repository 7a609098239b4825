"""The decision log: every recommendation, with the measurements behind it.

A team keeps ``decisions.jsonl`` in git.  Each line is one record::

    {"id": ..., "timestamp": ..., "kind": "cache_threshold",
     "recommendation": {...}, "measurements": {...}, "inputs": {...}}

The log is only ever appended to; :func:`render_markdown` turns it into a page
a budget review can read.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mre_eval.errors import ConfigError, DataError

log = logging.getLogger(__name__)

DEFAULT_LOG = Path("decisions.jsonl")
KINDS = ("cache_threshold", "routing", "budget", "forecast")
_FIELDS = ("id", "timestamp", "kind", "recommendation", "measurements", "inputs")


def append_decision(path: Path, kind: str, recommendation: dict[str, Any],
                    measurements: dict[str, Any], inputs: dict[str, Any],
                    now: datetime | None = None) -> dict[str, Any]:
    """Append one record to the log at ``path`` and return it.

    Raises:
        ConfigError: for a kind outside :data:`KINDS`.
    """
    if kind not in KINDS:
        raise ConfigError(f"unknown decision kind {kind!r}: choose one of "
                          f"{', '.join(KINDS)}")
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    body = {"timestamp": stamp, "kind": kind, "recommendation": recommendation,
            "measurements": measurements, "inputs": inputs}
    line = json.dumps(body, sort_keys=True, default=str)
    record = {"id": hashlib.sha256(line.encode()).hexdigest()[:12], **body}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, default=str) + "\n")
    log.info("recorded %s decision %s in %s", kind, record["id"], path)
    return record


def read_decisions(path: Path) -> list[dict[str, Any]]:
    """Every record of the log, oldest first; empty when there is no log.

    Raises:
        DataError: naming the line of a record that is not valid.
    """
    if not path.exists():
        return []
    records = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{number}: not a JSON record ({exc.msg}); "
                            "fix or remove the line") from None
        missing = [f for f in _FIELDS if f not in record]
        if missing:
            raise DataError(f"{path}:{number}: record lacks {missing}; every "
                            f"record needs {list(_FIELDS)}")
        records.append(record)
    return records


def render_markdown(records: list[dict[str, Any]]) -> str:
    """The log as a markdown page: one section per decision, newest last.

    Plain values are listed; a list of records (a sweep, projections, budget
    lines) or a mapping of records (per task type) becomes a table.  Nested
    figures a table cannot hold stay in the JSON log.
    """
    lines = ["# Decisions", ""]
    if not records:
        return "\n".join(lines + ["No decisions recorded yet.", ""])
    for record in records:
        lines += [f"## {record['timestamp']} {record['kind']} ({record['id']})", ""]
        for title in ("recommendation", "measurements", "inputs"):
            lines += [f"**{title.capitalize()}**", ""]
            lines += _section(record[title]) or ["- (none)"]
            lines.append("")
    return "\n".join(lines)


def _section(values: dict[str, Any]) -> list[str]:
    whole = _rows(values)
    if whole:
        return _table(whole)
    bullets, tables = [], []
    for key, value in values.items():
        rows = _rows(value)
        if rows:
            tables += [f"{key}:", "", *_table(rows), ""]
        else:
            bullets.append(f"- {key}: {_show(value)}")
    out = bullets + ([""] if bullets and tables else []) + tables
    return out[:-1] if out and out[-1] == "" else out


def _rows(value: Any) -> list[dict[str, Any]] | None:
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return value
    if isinstance(value, dict) and value and \
            all(isinstance(v, dict) for v in value.values()):
        return [{"": key, **row} for key, row in value.items()]
    return None


def _table(rows: list[dict[str, Any]]) -> list[str]:
    columns = [c for c in dict.fromkeys(k for row in rows for k in row)
               if not any(isinstance(row.get(c), dict | list) for row in rows)]
    out = ["| " + " | ".join(columns) + " |",
           "|" + "---|" * len(columns)]
    for row in rows:
        out.append("| " + " | ".join(_show(row.get(c, "")) for c in columns) + " |")
    return out


def routing_decision(path: Path) -> tuple[dict[str, Any], dict[str, Any],
                                          dict[str, Any]]:
    """The recommendation, measurements and inputs a routing file records."""
    from mre_eval.economics.routing import read_routing

    data = read_routing(path)
    recommendation, measurements = {}, {}
    for task, entry in data["task_types"].items():
        recommendation[task] = [
            f"{r.get('model')} / {r.get('prompt_variant')} ({_share(r.get('share'))})"
            for r in entry.get("routes", [])]
        measurements[task] = _routing_figures(entry)
    suite = data.get("suite") or {}
    inputs = {"routing_file": str(path), "suite": suite.get("name"),
              "suite_sha256": suite.get("sha256"),
              "results_sha256": data.get("results_sha256"),
              "file_sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    return recommendation, measurements, inputs


def _share(share: Any) -> str:
    return f"{share:.1%}" if isinstance(share, int | float) else str(share)


def _routing_figures(entry: dict[str, Any]) -> dict[str, Any]:
    # flat, so the markdown page shows one table row per task type
    quality = entry.get("expected_quality")
    if not isinstance(quality, dict):
        quality = {"point": quality}
    savings = entry.get("savings") or {}
    return {
        "policy": entry.get("policy"), "threshold": entry.get("threshold"),
        "expected_quality": quality.get("point"),
        "quality_low": quality.get("low"), "quality_high": quality.get("high"),
        "examples": quality.get("n"),
        "expected_cost_per_request": entry.get("expected_cost_per_request"),
        "saving_vs_most_capable_pct": savings.get("vs_most_capable_pct")}


def _show(value: Any) -> str:
    if isinstance(value, float):
        if value.is_integer():
            return f"{value:,.0f}"
        return f"{value:,.2f}" if abs(value) >= 100 else f"{value:.6g}"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "; ".join(value) if value else "(none)"
    if isinstance(value, dict | list):
        return f"`{json.dumps(value, default=str)}`"
    return str(value)
