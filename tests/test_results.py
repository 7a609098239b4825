"""The results table: schema, version check, atomic writes, finding runs."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mre_eval import results as store
from mre_eval.errors import DataError


def _row(**kw: object) -> dict[str, object]:
    return {"run_id": "r", "example_id": "e", "task_type": "t", "model": "m",
            "prompt_variant": "p", "repeat": 0, "cost_usd": None, **kw}


def test_round_trip_keeps_unpriced_as_null(tmp_path: Path) -> None:
    frame = store.results_frame([_row(cost_usd=0.25, score=1.0, passed=True),
                                 _row(example_id="f")])
    store.write_results(frame, tmp_path / store.RESULTS_FILE)
    back = store.read_results(tmp_path)
    assert list(back.columns) == list(store.RESULT_COLUMNS)
    assert back["cost_usd"].iloc[0] == 0.25
    assert back["cost_usd"].isna().iloc[1]


def test_other_schema_version_refused(tmp_path: Path) -> None:
    table = pa.table({"x": [1]}).replace_schema_metadata(
        {store.SCHEMA_KEY: b"99"})
    pq.write_table(table, tmp_path / store.RESULTS_FILE)
    with pytest.raises(DataError, match="schema version 99, this mre-eval reads "
                       "version 1"):
        store.read_results(tmp_path)


def test_failed_write_leaves_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    store.atomic_write_text(target, "old")
    with pytest.raises(ZeroDivisionError):
        with store._atomic_path(target) as tmp:
            Path(tmp).write_text("half")
            1 / 0
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_find_run_latest_and_by_name(tmp_path: Path) -> None:
    older = store.new_run_dir(tmp_path, "s")
    newer = store.new_run_dir(tmp_path, "s")
    for run, started in ((older, "2026-01-01"), (newer, "2026-02-01")):
        store.write_results(store.results_frame([_row()]), run / store.RESULTS_FILE)
        store.atomic_write_json(run / store.META_FILE, {"started_at": started})
    assert store.find_run(None, tmp_path) == newer
    assert store.find_run(older.name, tmp_path) == older
    with pytest.raises(DataError, match="no run 'nope'"):
        store.find_run("nope", tmp_path)
    with pytest.raises(DataError, match="no runs under"):
        store.find_run(None, tmp_path / "empty")


def test_results_written_before_cache_write_tokens_read_it_as_null(
        tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from mre_eval import results as store

    rows = [{"run_id": "r", "example_id": "e1", "model": "m", "repeat": 0,
             "input_tokens": 10, "cache_write_tokens": 4}]
    path = tmp_path / store.RESULTS_FILE
    store.write_table(store.results_frame(rows), path, store.RESULT_COLUMNS)
    assert store.read_results(path)["cache_write_tokens"].tolist() == [4]
    older = {k: v for k, v in store.RESULT_COLUMNS.items()
             if k not in store.LATER_COLUMNS}
    store.write_table(store.results_frame(rows), path, older)
    assert "cache_write_tokens" not in pq.read_schema(path).names
    frame = store.read_results(path)
    assert frame["cache_write_tokens"].isna().all()
    assert str(frame["cache_write_tokens"].dtype) == "Int64"


def test_results_written_before_one_hour_writes_read_them_as_null(
        tmp_path: Path) -> None:
    rows = [{"run_id": "r", "example_id": "e1", "model": "m", "repeat": 0,
             "input_tokens": 10, "cache_write_tokens": 4,
             "cache_write_1h_tokens": 3}]
    path = tmp_path / store.RESULTS_FILE
    store.write_results(store.results_frame(rows), path)
    assert store.read_results(path)["cache_write_1h_tokens"].tolist() == [3]
    # a nullable column added later keeps the schema version
    assert store._schema_version(path) == store.SCHEMA_VERSION == 1

    older = {k: v for k, v in store.RESULT_COLUMNS.items()
             if k != "cache_write_1h_tokens"}
    store.write_table(store.results_frame(rows), path, older)
    frame = store.read_results(path)
    assert frame["cache_write_1h_tokens"].isna().all()
    assert str(frame["cache_write_1h_tokens"].dtype) == "Int64"
    assert frame["cache_write_tokens"].tolist() == [4]
