"""Example requests: read a JSONL, CSV (optionally gzipped) or parquet file.

Each row becomes an :class:`Example`.  Which column holds the id, the request
text (or chat messages), the reference and the task type is said by the
suite's ``dataset`` block; a missing column or a duplicate id is reported with
the file and the line it was found on.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mre_eval.errors import DataError

FORMATS = ("jsonl", "csv", "parquet")


@dataclass(frozen=True)
class Example:
    """One request of a dataset, with everything a grader or template needs."""

    id: str
    task_type: str
    fields: dict[str, Any]
    input: str | None
    messages: list[dict[str, Any]] | None
    reference: Any | None
    line: int

    @property
    def text(self) -> str:
        """The request text: the input, or the chat messages' contents joined."""
        if self.input is not None:
            return self.input
        return "\n".join(str(m.get("content", "")) for m in self.messages or [])


def infer_format(path: Path, declared: str | None = None) -> str:
    """The file format, as declared or from the file name."""
    if declared is not None:
        return declared
    name = path.name.lower().removesuffix(".gz")
    for fmt, endings in (("jsonl", (".jsonl", ".ndjson", ".json")),
                         ("csv", (".csv",)), ("parquet", (".parquet", ".pq"))):
        if name.endswith(endings):
            return fmt
    raise DataError(
        f"{path}: cannot tell the format from the name {path.name!r}; allowed "
        f"endings are .jsonl, .csv, .csv.gz, .parquet, or set format: to one of "
        f"{', '.join(FORMATS)}"
    )


def read_rows(path: Path, fmt: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line, row)`` pairs from a data file.

    Lines are 1-based file lines for JSONL and the data row's number (header
    excluded) for CSV and parquet.
    """
    if not path.exists():
        raise DataError(f"dataset file not found: {path}; check the path, which "
                        "is resolved against the suite file's folder")
    fmt = infer_format(path, fmt)
    if fmt == "jsonl":
        yield from _jsonl_rows(path)
    else:
        yield from _frame_rows(path, fmt)


def load_examples(path: Path, *, fmt: str | None, id_column: str,
                  input_column: str | None, messages_column: str | None,
                  reference_column: str | None, task_type_column: str | None,
                  task_type: str | None) -> list[Example]:
    """Read a dataset file into examples, checking ids and columns.

    Raises:
        DataError: the file is missing or unreadable, a column is missing, an
            id repeats, or a row has no request text.
    """
    examples: list[Example] = []
    seen: dict[str, int] = {}
    for line, row in read_rows(path, fmt):
        if not examples:
            _check_columns(path, row, id_column, input_column, messages_column,
                           reference_column, task_type_column)
        example = _example(path, line, row, id_column, input_column,
                           messages_column, reference_column,
                           task_type_column, task_type)
        if example.id in seen:
            raise DataError(
                f"{path}:{line}: duplicate id {example.id!r} (first on line "
                f"{seen[example.id]}); ids in column {id_column!r} must be unique"
            )
        seen[example.id] = line
        examples.append(example)
    if not examples:
        raise DataError(f"{path}: the dataset has no rows")
    return examples


def load_dataset(suite: Any) -> list[Example]:
    """Read the examples a suite names, resolving its path."""
    spec = suite.dataset
    return load_examples(
        suite.resolve(spec.path), fmt=spec.format, id_column=spec.id,
        input_column=None if spec.messages else spec.input,
        messages_column=spec.messages, reference_column=spec.reference,
        task_type_column=spec.task_type_column, task_type=spec.task_type,
    )


def dataset_columns(path: Path, fmt: str | None = None) -> list[str]:
    """The column names of a dataset file, read from its header or first row."""
    if path.exists() and infer_format(path, fmt) == "csv":
        import pandas as pd

        try:
            return list(pd.read_csv(path, nrows=0).columns)
        except Exception as exc:  # pandas raises many parser types
            raise DataError(f"{path}: cannot read as csv: {exc}") from None
    for _, row in read_rows(path, fmt):
        return list(row)
    return []


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{number}: not valid JSON ({exc.msg} at "
                                f"column {exc.colno}); each line must be one "
                                "JSON object") from None
            if not isinstance(row, dict):
                raise DataError(f"{path}:{number}: expected a JSON object, got "
                                f"{type(row).__name__}")
            yield number, row


def _frame_rows(path: Path, fmt: str) -> Iterator[tuple[int, dict[str, Any]]]:
    import pandas as pd

    try:
        if fmt == "csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        else:
            frame = pd.read_parquet(path)
    except Exception as exc:  # pandas raises many parser types
        raise DataError(f"{path}: cannot read as {fmt}: {exc}") from None
    for number, row in enumerate(frame.to_dict("records"), start=1):
        yield number, {k: _plain(v) for k, v in row.items()}


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _check_columns(path: Path, row: dict[str, Any], *columns: str | None) -> None:
    available = ", ".join(row) or "none"
    for column in columns:
        if column is not None and column not in row:
            raise DataError(
                f"{path}: no column {column!r}; the file has: {available}. Fix "
                "the column name in the suite's dataset block"
            )


def _example(path: Path, line: int, row: dict[str, Any], id_column: str,
             input_column: str | None, messages_column: str | None,
             reference_column: str | None, task_type_column: str | None,
             task_type: str | None) -> Example:
    raw_id = row.get(id_column)
    if raw_id is None or str(raw_id).strip() == "":
        raise DataError(f"{path}:{line}: empty id in column {id_column!r}")
    messages = row.get(messages_column) if messages_column else None
    if messages_column and not _is_messages(messages):
        raise DataError(f"{path}:{line}: column {messages_column!r} must hold a "
                        "list of {role, content} messages")
    text = row.get(input_column) if input_column else None
    if input_column and (text is None or str(text) == ""):
        raise DataError(f"{path}:{line}: empty request text in column "
                        f"{input_column!r}")
    kind = str(row.get(task_type_column)) if task_type_column else task_type
    return Example(
        id=str(raw_id), task_type=str(kind), fields=row,
        input=None if text is None else str(text), messages=messages,
        reference=row.get(reference_column) if reference_column else None,
        line=line,
    )


def _is_messages(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(m, dict) and "role" in m and "content" in m for m in value)
