"""Datasets in every supported format, and what goes wrong with them."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from mre_eval.datasets import load_examples
from mre_eval.errors import DataError

ROWS = [{"id": "a", "kind": "faq", "text": "hello", "ref": "hi"},
        {"id": "b", "kind": "triage", "text": "help", "ref": "urgent"}]


def _write(folder: Path, name: str) -> Path:
    path = folder / name
    frame = pd.DataFrame(ROWS)
    if name.endswith(".jsonl"):
        path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    elif name.endswith(".csv.gz"):
        with gzip.open(path, "wt") as handle:
            frame.to_csv(handle, index=False)
    elif name.endswith(".csv"):
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path)
    return path


def _load(path: Path, **kw: object):
    options = dict(fmt=None, id_column="id", input_column="text",
                   messages_column=None, reference_column="ref",
                   task_type_column="kind", task_type=None)
    options.update(kw)
    return load_examples(path, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["d.jsonl", "d.csv", "d.csv.gz", "d.parquet"])
def test_every_format_reads_the_same(tmp_path: Path, name: str) -> None:
    examples = _load(_write(tmp_path, name))
    assert [(e.id, e.task_type, e.text, e.reference) for e in examples] == [
        ("a", "faq", "hello", "hi"), ("b", "triage", "help", "urgent")]


def test_chat_messages_column(tmp_path: Path) -> None:
    path = tmp_path / "chat.jsonl"
    path.write_text(json.dumps({"id": "c", "messages": [
        {"role": "user", "content": "one"}, {"role": "assistant", "content": "two"},
        {"role": "user", "content": "three"}]}) + "\n")
    (example,) = _load(path, input_column=None, messages_column="messages",
                       reference_column=None, task_type_column=None, task_type="chat")
    assert example.task_type == "chat"
    assert example.text == "one\ntwo\nthree"


@pytest.mark.parametrize(("content", "message"), [
    pytest.param('{"id": "a", "text": "x", "kind": "k"}\n{"id": \n',
                 r"d.jsonl:2: not valid JSON", id="bad-json-line"),
    pytest.param('[1, 2]\n', r"d.jsonl:1: expected a JSON object", id="not-object"),
    pytest.param('{"uid": "a", "text": "x", "kind": "k"}\n',
                 r"no column 'id'; the file has: uid, text, kind", id="no-id"),
    pytest.param('{"id": "a", "text": "", "kind": "k"}\n',
                 r"d.jsonl:1: empty request text", id="empty-text"),
    pytest.param("", r"the dataset has no rows", id="empty-file"),
])
def test_bad_rows(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        _load(path, reference_column=None)


def test_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "d.xlsx"
    path.write_text("x")
    with pytest.raises(DataError, match="cannot tell the format .* allowed endings"):
        _load(path)
