"""The results table and the run folders that hold it.

A run writes ``reports/<suite>-<UTC timestamp>/``:

- ``results.parquet``: one row per example x model x prompt variant x repeat,
  columns in :data:`RESULT_COLUMNS`;
- ``examples.parquet``: one row per example (id, task type, request text,
  reference), what the optimizer's classifier reads;
- ``suite.resolved.yaml``: the suite as it was run, with defaults filled in;
- ``summary.json``: the per task type x model x prompt variant summary;
- ``run.json``: what ran, when, how it ended, and the schema version.

Every file is written to a temporary name and renamed into place, so a killed
run never leaves a torn file behind.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mre_eval.errors import DataError

SCHEMA_VERSION = 1

# Nullable columns added without a version change: a file written before one
# existed reads it as null (unknown), and older readers pass over it.  The
# version changes only when a column changes meaning or goes away.
LATER_COLUMNS = ("cache_write_tokens", "cache_write_1h_tokens")
SCHEMA_KEY = b"mre_eval.schema_version"

RESULT_COLUMNS: dict[str, pa.DataType] = {
    "run_id": pa.string(),
    "example_id": pa.string(),
    "task_type": pa.string(),
    "model": pa.string(),            # the model's name in the suite
    "litellm_model": pa.string(),    # the litellm model string it calls
    "prompt_variant": pa.string(),
    "repeat": pa.int32(),
    "input_tokens": pa.int64(),      # includes cached and cache_write tokens
    "output_tokens": pa.int64(),     # includes reasoning_tokens
    "cached_tokens": pa.int64(),     # read from the provider's prompt cache
    "cache_write_tokens": pa.int64(),  # written to it (billed above input)
    "cache_write_1h_tokens": pa.int64(),  # of those, written for one hour
    "reasoning_tokens": pa.int64(),
    "cost_usd": pa.float64(),        # null: unpriced, never 0 for unknown
    "cost_source": pa.string(),      # recorded | provider | override | price_map
    "grader_cost_usd": pa.float64(), # an LLM judge's own cost, kept apart
    "latency_s": pa.float64(),
    "score": pa.float64(),           # in [0, 1]; null when the call failed
    "passed": pa.bool_(),            # score >= the task type's pass mark
    "error": pa.string(),
    "cache_hit": pa.bool_(),         # served from the response cache
    "response_hash": pa.string(),    # sha256 of the response text
    "response": pa.string(),
}

EXAMPLE_COLUMNS: dict[str, pa.DataType] = {
    "example_id": pa.string(),
    "task_type": pa.string(),
    "input": pa.string(),
    "reference": pa.string(),
}

RESULTS_FILE = "results.parquet"
EXAMPLES_FILE = "examples.parquet"
SUMMARY_FILE = "summary.json"
SUITE_FILE = "suite.resolved.yaml"
META_FILE = "run.json"

DEFAULT_REPORTS = Path("reports")


@dataclass(frozen=True)
class RunInfo:
    """A past run as listed by ``mre-eval runs``."""

    path: Path
    meta: dict[str, Any]

    @property
    def name(self) -> str:
        return self.path.name


def new_run_dir(reports: Path, suite_name: str, now: datetime | None = None) -> Path:
    """Create and return a fresh, uniquely named run folder."""
    now = now or datetime.now(UTC)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", suite_name).strip("-") or "suite"
    reports.mkdir(parents=True, exist_ok=True)
    for attempt in range(1000):
        name = f"{safe}-{stamp}" + (f"-{attempt}" if attempt else "")
        path = reports / name
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise DataError(f"could not create a new run folder under {reports}")


def results_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Build a results frame with every column, in order, from row dicts."""
    table = pa.Table.from_pylist(rows, schema=pa.schema(RESULT_COLUMNS))
    return table.to_pandas(types_mapper=_nullable_types)


def write_table(frame: pd.DataFrame, path: Path,
                columns: dict[str, pa.DataType]) -> None:
    """Write ``frame`` as parquet with ``columns``' schema, atomically."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"cannot write {path.name}: columns missing: {missing}")
    schema = pa.schema(columns).with_metadata({SCHEMA_KEY: str(SCHEMA_VERSION)})
    table = pa.Table.from_pandas(frame[list(columns)], schema=schema,
                                 preserve_index=False)
    with _atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def write_results(frame: pd.DataFrame, path: Path) -> None:
    """Write a results table atomically."""
    write_table(frame, path, RESULT_COLUMNS)


def read_results(run: Path) -> pd.DataFrame:
    """Read a run's results, refusing another schema version.

    Args:
        run: a run folder or a ``results.parquet`` file.
    """
    path = run / RESULTS_FILE if run.is_dir() else run
    if not path.exists():
        raise DataError(f"no results at {path}: run `mre-eval run SUITE` first")
    version = _schema_version(path)
    if version != SCHEMA_VERSION:
        raise DataError(
            f"{path} has results schema version {version}, this mre-eval reads "
            f"version {SCHEMA_VERSION}: re-run the suite with this version"
        )
    frame = pq.read_table(path).to_pandas(types_mapper=_nullable_types)
    for column in LATER_COLUMNS:
        if column not in frame.columns:
            frame[column] = pd.Series(pd.NA, index=frame.index,
                                      dtype=_nullable_types(RESULT_COLUMNS[column]))
    return frame


def read_examples(run: Path) -> pd.DataFrame:
    """Read a run's examples table (id, task type, request text, reference)."""
    path = run / EXAMPLES_FILE
    if not path.exists():
        raise DataError(f"no examples table at {path}: the run is incomplete")
    return pq.read_table(path).to_pandas(types_mapper=_nullable_types)


def read_meta(run: Path) -> dict[str, Any]:
    """Read a run's ``run.json``; an empty dict when it has none."""
    path = run / META_FILE
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def find_run(ref: str | Path | None, reports: Path = DEFAULT_REPORTS,
             require: str = RESULTS_FILE) -> Path:
    """Resolve a run reference: a folder, a run name, or ``None`` for the latest.

    Args:
        ref: a run folder, a run's name under ``reports``, or ``None``.
        reports: the folder that holds run folders.
        require: the file a run must hold to count; ``META_FILE`` finds runs
            killed before their first results were written.

    Raises:
        DataError: when no such run exists.
    """
    if ref is not None:
        for candidate in (Path(ref), reports / str(ref)):
            if candidate.is_dir() and (candidate / require).exists():
                return candidate
            if candidate.is_file() and candidate.name == require:
                return candidate.parent
        raise DataError(
            f"no run {str(ref)!r}: give a run folder or a name from `mre-eval runs`"
        )
    runs = list_runs(reports, require)
    if not runs:
        raise DataError(
            f"no runs under {reports}/: run `mre-eval run SUITE` first"
        )
    return runs[-1].path


def list_runs(reports: Path = DEFAULT_REPORTS,
              require: str = RESULTS_FILE) -> list[RunInfo]:
    """Past runs that hold ``require``, oldest first."""
    if not reports.is_dir():
        return []
    runs = [RunInfo(p, read_meta(p)) for p in reports.iterdir()
            if p.is_dir() and (p / require).exists()]
    return sorted(runs, key=lambda r: (r.meta.get("started_at", ""), r.name))


def atomic_write_text(path: Path, text: str) -> None:
    """Write text to ``path`` so a reader sees the old file or the new one."""
    with _atomic_path(path) as tmp:
        Path(tmp).write_text(text)


def atomic_write_json(path: Path, data: Any) -> None:
    """Write JSON atomically, indented, keys in the order given."""
    atomic_write_text(path, json.dumps(data, indent=2, default=str) + "\n")


class _atomic_path:
    """Context manager yielding a temp path renamed onto ``path`` on success."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def __enter__(self) -> str:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(dir=self.path.parent,
                                        prefix=f".{self.path.name}.", suffix=".tmp")
        os.close(fd)
        return self.tmp

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            # mkstemp makes the file owner-only; give it the usual permissions
            os.chmod(self.tmp, 0o666 & ~_umask())
            os.replace(self.tmp, self.path)
        elif os.path.exists(self.tmp):
            os.unlink(self.tmp)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _schema_version(path: Path) -> int | None:
    try:
        meta = pq.read_schema(path).metadata or {}
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"{path} is not a readable parquet file: {exc}") from exc
    raw = meta.get(SCHEMA_KEY)
    return int(raw) if raw is not None else None


def _nullable_types(arrow_type: pa.DataType) -> Any:
    mapping = {
        pa.int32(): pd.Int32Dtype(),
        pa.int64(): pd.Int64Dtype(),
        pa.bool_(): pd.BooleanDtype(),
        pa.float64(): pd.Float64Dtype(),
        pa.string(): pd.StringDtype(),
    }
    return mapping.get(arrow_type)
