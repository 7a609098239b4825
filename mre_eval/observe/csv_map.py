"""A CSV export of model calls into call records, through a column mapping.

The mapping names, for each record field, the CSV column that holds it::

    ts: created_at            # ISO 8601, or Unix seconds / milliseconds
    model: llm_model
    feature: endpoint
    user_tier: plan
    input_tokens: prompt_tokens
    output_tokens: completion_tokens
    cost_usd: cost            # leave unmapped to price from litellm's map
    latency_ms: duration_ms   # or latency_s: seconds
    tags.region: region       # any column kept as a tag

Fields left unmapped are read from a column of the same name when there is
one.  ``ts`` and ``model`` are required.  A mapping key that is not a field is
a :class:`~mre_eval.errors.ConfigError`; a mapped column missing from the file
is a :class:`~mre_eval.errors.DataError`.  Rows with unreadable values, or
with more or fewer fields than the header, are reported with their line
number and skipped.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mre_eval.errors import ConfigError, DataError
from mre_eval.observe.record import (FLOAT_COLUMNS, INT_COLUMNS, RECORD_COLUMNS)

EXTRA_FIELDS = ("latency_ms",)
MAPPABLE = tuple(k for k in RECORD_COLUMNS if k != "tags") + EXTRA_FIELDS
FAILED_STATUSES = {"error", "failed", "failure", "false", "0", "fail"}


def check_mapping(mapping: dict[str, str]) -> dict[str, str]:
    """Validate a field -> column mapping.

    Raises:
        ConfigError: for a key that is not a record field or ``tags.NAME``.
    """
    for key, column in mapping.items():
        if key.startswith("tags.") and len(key) > 5:
            continue
        if key not in MAPPABLE:
            raise ConfigError(
                f"unknown field {key!r} in the CSV column mapping: map one of "
                f"{', '.join(MAPPABLE)} or tags.NAME to a column name")
        if not isinstance(column, str) or not column:
            raise ConfigError(f"the CSV mapping of {key!r} must be a column name, "
                              f"got {column!r}")
    return mapping


def read_mapping(path: Path | None = None, pairs: list[str] | None = None
                 ) -> dict[str, str]:
    """A column mapping from a YAML/JSON file and ``FIELD=COLUMN`` pairs.

    Pairs override the file.  Raises ConfigError for a malformed pair or key.
    """
    mapping: dict[str, str] = {}
    if path is not None:
        import yaml

        try:
            loaded = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read the column mapping {path}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: a column mapping is FIELD: COLUMN lines, "
                              f"got {type(loaded).__name__}")
        mapping.update({str(k): str(v) for k, v in loaded.items()})
    for pair in pairs or []:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise ConfigError(f"--map {pair!r} is not FIELD=COLUMN, e.g. "
                              "--map input_tokens=prompt_tokens")
        mapping[field.strip()] = column.strip()
    return check_mapping(mapping)


def convert_csv(path: Path, out: Path, mapping: dict[str, str], problems: Any) -> int:
    """Write the rows of a CSV export to ``out`` as JSONL call records.

    Returns:
        The number of records written.
    """
    from mre_eval.observe.ingest import _open_text, check_row

    mapping = check_mapping(dict(mapping))
    written = 0
    with _open_text(path) as source, out.open("w") as sink:
        reader = csv.DictReader(source)
        header = reader.fieldnames or []
        columns = _resolve(path, mapping, header)
        line = reader.line_num
        for row in reader:
            start, line = line + 1, reader.line_num
            fields = _field_count(row)
            if fields != len(header):
                # a stray or missing comma shifts every later value
                problems.add(path, start, f"{fields} fields where the header has "
                                          f"{len(header)}")
                continue
            try:
                record = _record(row, columns)
            except ValueError as exc:
                problems.add(path, start, str(exc))
                continue
            reason = check_row(record)
            if reason is not None:
                problems.add(path, start, reason)
                continue
            sink.write(json.dumps(record) + "\n")
            written += 1
    return written


def _field_count(row: dict[Any, Any]) -> int:
    # DictReader puts surplus fields under None and fills short rows with None
    present = sum(1 for k, v in row.items() if k is not None and v is not None)
    return present + len(row.get(None) or [])


def _resolve(path: Path, mapping: dict[str, str], header: list[str]) -> dict[str, str]:
    missing = {k: c for k, c in mapping.items() if c not in header}
    if missing:
        raise DataError(
            f"{path}: mapped columns not in the file: "
            f"{', '.join(f'{k} -> {c!r}' for k, c in missing.items())}; "
            f"its columns are {', '.join(header)}")
    columns = {field: field for field in MAPPABLE if field in header}
    columns.update(mapping)
    for required in ("ts", "model"):
        if required not in columns:
            raise ConfigError(
                f"{path}: no column for {required!r}: map it, e.g. "
                f"--map {required}=COLUMN (columns: {', '.join(header)})")
    return columns


def _record(row: dict[str, str], columns: dict[str, str]) -> dict[str, Any]:
    value = {field: (row.get(column) or "").strip()
             for field, column in columns.items()}
    record: dict[str, Any] = dict.fromkeys(RECORD_COLUMNS)
    for field in RECORD_COLUMNS:
        if field in value and field != "tags":
            record[field] = _typed(field, value[field])
    record["ts"] = _timestamp(value["ts"])
    if value.get("latency_ms") and record["latency_s"] is None:
        record["latency_s"] = _number("latency_ms", value["latency_ms"]) / 1000
    record["tags"] = {k[5:]: v for k, v in value.items()
                      if k.startswith("tags.") and v}
    failed = bool(record.get("error")) or \
        (record.get("status") or "ok").lower() in FAILED_STATUSES
    record["status"] = "error" if failed else "ok"
    if record["cost_usd"] is not None and record["cost_source"] is None:
        record["cost_source"] = "provider"
    return record


def _typed(field: str, text: str) -> Any:
    if text == "":
        return None
    if field in INT_COLUMNS:
        number = _number(field, text)
        if not number.is_integer():
            raise ValueError(f"{field} {text!r} is not a whole number")
        return int(number)
    if field in FLOAT_COLUMNS:
        return _number(field, text)
    return text


def _number(field: str, text: str) -> float:
    try:
        return float(text.replace(",", "")) if text else float("nan")
    except ValueError:
        raise ValueError(f"{field} {text!r} is not a number") from None


def _timestamp(text: str) -> str | None:
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        return text  # an ISO timestamp; check_row validates it
    if seconds > 1e11:  # milliseconds since the epoch
        seconds /= 1000
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")
