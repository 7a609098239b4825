"""Datasets in every supported format, and what goes wrong with them."""

from __future__ import annotations

import asyncio
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


def _gzip_text(path: Path, text: str) -> Path:
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        handle.write(text)
    return path


CSV_HEADER = "id,kind,text,ref\n"


@pytest.mark.parametrize("name", ["d.csv", "d.csv.gz"])
@pytest.mark.parametrize(("body", "message"), [
    pytest.param("a,faq,,hi\n", r"d\.csv(\.gz)?:2: empty request text",
                 id="first-data-row-is-line-2"),
    pytest.param('a,faq,"two\nlines",hi\n,faq,x,y\n', r"d\.csv(\.gz)?:4: empty id",
                 id="after-a-multiline-record"),
    pytest.param('a,faq,x,y\n\nb,faq,"one\n\ntwo",y\na,faq,z,y\n',
                 r"d\.csv(\.gz)?:7: duplicate id 'a' \(first on line 2\)",
                 id="blank-lines-and-embedded-newlines"),
    pytest.param("a,faq,x,y\nb,faq,x,y,extra\n",
                 r"d\.csv(\.gz)?:3: 5 fields, but the header has 4",
                 id="too-many-fields"),
    pytest.param('a,faq,x,y\nb,faq,"open quote,y\n',
                 r"d\.csv(\.gz)?:3: not valid CSV", id="unclosed-quote"),
])
def test_csv_errors_name_the_file_line(tmp_path: Path, name: str, body: str,
                                       message: str) -> None:
    path = tmp_path / name
    if name.endswith(".gz"):
        _gzip_text(path, CSV_HEADER + body)
    else:
        path.write_text(CSV_HEADER + body, newline="")
    with pytest.raises(DataError, match=message):
        _load(path)


def test_csv_example_line_is_where_the_record_starts(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text(CSV_HEADER + 'a,faq,"multi\nline",x\n\nb,faq,plain,y\n',
                    newline="")
    first, second = _load(path)
    assert (first.line, first.where, first.text) == (2, "line 2", "multi\nline")
    assert (second.line, second.where) == (5, "line 5")
    assert path.read_text().splitlines()[second.line - 1].startswith("b,")


def test_jsonl_lines_count_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text("\n" + json.dumps(ROWS[0]) + "\n\n" + json.dumps(ROWS[1]) + "\n")
    assert [e.where for e in _load(path)] == ["line 2", "line 4"]


def test_parquet_rows_are_named_rows(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    pd.DataFrame(ROWS + [{"id": "a", "kind": "faq", "text": "again", "ref": "x"}]
                 ).to_parquet(path)
    with pytest.raises(DataError, match=r"d\.parquet row 3: duplicate id 'a' "
                                        r"\(first on row 1\)"):
        _load(path)
    assert [e.where for e in _load(_write(tmp_path, "e.parquet"))] == ["row 1",
                                                                       "row 2"]


def test_csv_header_with_a_repeated_column(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("id,text,text\na,x,y\n")
    with pytest.raises(DataError, match=r"d\.csv:1: the header repeats .*'text'"):
        _load(path, reference_column=None, task_type_column=None, task_type="t")


def test_csv_values_stay_text(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("\ufeffid,text,ref\n007,hi,NA\n", encoding="utf-8")
    (example,) = _load(path, task_type_column=None, task_type="t")
    assert (example.id, example.reference) == ("007", "NA")


def test_grader_errors_cite_the_same_file_line(tmp_path: Path) -> None:
    from mre_eval.graders import make_grader
    from mre_eval.graders.base import Sample
    from mre_eval.suite import GraderSpec

    path = tmp_path / "d.csv"
    path.write_text(CSV_HEADER + 'a,faq,"two\nlines",hi\nb,faq,x,\n', newline="")
    example = _load(path)[1]
    grader = make_grader(GraderSpec(kind="exact"))
    with pytest.raises(DataError, match=r"example 'b' \(line 4\) has no reference"):
        asyncio.run(grader.grade(Sample("x", example)))
