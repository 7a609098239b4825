"""Example requests: read a JSONL, CSV (optionally gzipped) or parquet file.

Each row becomes an :class:`Example`.  Which column holds the id, the request
text (or chat messages), the reference and the task type is said by the
suite's ``dataset`` block; a missing column or a duplicate id is reported with
the file and the line it was found on.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mre_eval.errors import DataError

FORMATS = ("jsonl", "csv", "parquet")

# A request text in a CSV cell may be far longer than the csv module's
# default field limit of 128 KiB.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


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
    unit: str = "line"

    @property
    def where(self) -> str:
        """Where the example sits in its file: ``line 12``, or ``row 12``."""
        return f"{self.unit} {self.line}"

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


def read_rows(path: Path,
              fmt: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line, row)`` pairs from a data file.

    For JSONL and CSV the number is the 1-based line of the file the record
    starts on (so a CSV's first data row is line 2, after the header); for
    parquet, which has no lines, it is the 1-based row number (see
    :func:`row_unit`).
    """
    if not path.exists():
        raise DataError(f"dataset file not found: {path}; check the path, which "
                        "is resolved against the suite file's folder")
    fmt = infer_format(path, fmt)
    if fmt == "jsonl":
        yield from _jsonl_rows(path)
    elif fmt == "csv":
        yield from _csv_rows(path)
    else:
        yield from _parquet_rows(path)


def row_unit(path: Path, fmt: str | None = None) -> str:
    """What :func:`read_rows` numbers: ``line`` of the file, or ``row`` (parquet)."""
    return "row" if infer_format(path, fmt) == "parquet" else "line"


def locate(path: Path, number: int, unit: str = "line") -> str:
    """A place in a data file as messages cite it: ``d.csv:12``, ``d.pq row 3``."""
    return f"{path}:{number}" if unit == "line" else f"{path} {unit} {number}"


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
    unit = row_unit(path, fmt)
    for line, row in read_rows(path, fmt):
        if not examples:
            _check_columns(path, row, id_column, input_column, messages_column,
                           reference_column, task_type_column)
        example = _example(path, (line, unit), row, id_column, input_column,
                           messages_column, reference_column, task_type_column,
                           task_type)
        if example.id in seen:
            raise DataError(
                f"{locate(path, line, unit)}: duplicate id {example.id!r} (first "
                f"on {unit} {seen[example.id]}); ids in column {id_column!r} "
                "must be unique")
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
        with _open_text(path) as handle:
            header = next(csv.reader(handle), None)
        return _csv_header(path, header)
    for _, row in read_rows(path, fmt):
        return list(row)
    return []


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with _open_text(path) as handle:
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


def _open_text(path: Path) -> IO[str]:
    """The file as text, unzipped when it ends in ``.gz``; a BOM is dropped.

    ``newline=""`` keeps line breaks inside quoted CSV fields as they are and
    lets the csv module count file lines.
    """
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        return opener(path, "rt", encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise DataError(f"{path}: cannot open: {exc}") from None


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """CSV records with the file line each starts on; every value is a string."""
    try:
        with _open_text(path) as handle:
            reader = csv.reader(handle, strict=True)
            header = _csv_header(path, next(reader, None))
            while True:
                start = reader.line_num + 1
                try:
                    record = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise DataError(f"{path}:{start}: not valid CSV ({exc}); "
                                    "check the quotes on this record") from None
                if record:
                    yield start, _csv_record(path, start, header, record)
    except (UnicodeDecodeError, gzip.BadGzipFile, EOFError) as exc:
        raise DataError(f"{path}: cannot read as csv: {exc}") from None


def _csv_header(path: Path, header: list[str] | None) -> list[str]:
    if not header:
        return []
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise DataError(f"{path}:1: the header repeats column(s) "
                        f"{', '.join(map(repr, repeated))}; column names must be "
                        "unique")
    return header


def _csv_record(path: Path, line: int, header: list[str],
                record: list[str]) -> dict[str, Any]:
    if len(record) > len(header):
        raise DataError(
            f"{path}:{line}: {len(record)} fields, but the header has "
            f"{len(header)}; quote a value that holds a comma")
    row: dict[str, Any] = dict.fromkeys(header)
    row.update(zip(header, record, strict=False))
    return row


def _parquet_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    import pandas as pd

    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many reader types
        raise DataError(f"{path}: cannot read as parquet: {exc}") from None
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


def _example(path: Path, place: tuple[int, str], row: dict[str, Any],
             id_column: str, input_column: str | None, messages_column: str | None,
             reference_column: str | None, task_type_column: str | None,
             task_type: str | None) -> Example:
    line, unit = place
    at = locate(path, line, unit)
    raw_id = row.get(id_column)
    if raw_id is None or str(raw_id).strip() == "":
        raise DataError(f"{at}: empty id in column {id_column!r}")
    messages = row.get(messages_column) if messages_column else None
    if messages_column and not _is_messages(messages):
        raise DataError(f"{at}: column {messages_column!r} must hold a "
                        "list of {role, content} messages")
    text = row.get(input_column) if input_column else None
    if input_column and (text is None or str(text) == ""):
        raise DataError(f"{at}: empty request text in column "
                        f"{input_column!r}")
    kind = str(row.get(task_type_column)) if task_type_column else task_type
    return Example(
        id=str(raw_id), task_type=str(kind), fields=row,
        input=None if text is None else str(text), messages=messages,
        reference=row.get(reference_column) if reference_column else None,
        line=line, unit=unit,
    )


def _is_messages(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(m, dict) and "role" in m and "content" in m for m in value)
