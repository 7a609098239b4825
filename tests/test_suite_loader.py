"""Suite files: every kind of mistake gets one message with its place."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from typer.testing import CliRunner

from conftest import tiny_suite_data, write_suite
from mre_eval.cli import app
from mre_eval.errors import DataError, SuiteError
from mre_eval.suite_loader import load_suite

LOCAL = "http://127.0.0.1:9/v1"


def _suite(tmp_path: Path, change: Callable[[dict[str, Any]], None] | None = None,
           rows: list[dict[str, Any]] | None = None) -> Path:
    data = tiny_suite_data(LOCAL)
    if change:
        change(data)
    return write_suite(tmp_path, data, rows)


def test_valid_suite_loads_with_defaults(tmp_path: Path) -> None:
    suite = load_suite(_suite(tmp_path))
    assert suite.name == "tiny"
    assert suite.models[0].name == "mini"
    assert suite.task("faq").pass_mark == 1.0
    assert suite.run.repeats == 1
    assert suite.resolve("data.jsonl") == tmp_path / "data.jsonl"


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target = data
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
    return change


CASES = [
    pytest.param(_set(("task_types", 0, "treshold"), 0.5),
                 r"unknown key 'treshold' .*did you mean 'threshold'", "treshold",
                 id="unknown-key"),
    pytest.param(_set(("task_types", 0, "threshold"), 1.5),
                 r"task_types\[0\]\.threshold: 1\.5 is not allowed: .*less than or "
                 r"equal to 1", "threshold", id="threshold-out-of-range"),
    pytest.param(_set(("run", "concurrency"), "many"),
                 r"run\.concurrency: \"many\" is not allowed", "concurrency",
                 id="wrong-type"),
    pytest.param(_set(("task_types", 0, "grader"), {"kind": "exactt"}),
                 r"unknown grader 'exactt'; did you mean 'exact'", "exactt",
                 id="unknown-grader"),
    pytest.param(_set(("prompts", 0, "template"), "{qestion}"),
                 r"placeholder \{qestion\} has no column .*did you mean \{question\}",
                 "qestion", id="placeholder-without-column"),
    pytest.param(_set(("dataset", "id"), "uid"),
                 r"dataset\.id: data\.jsonl has no column 'uid'; its columns are: "
                 r"id, kind, question, answer.*Set id to one of them", "uid",
                 id="no-id-column"),
    pytest.param(_set(("models", 0, "model"), "not-a-provider-model"),
                 r"not-a-provider-model", "not-a-provider-model", id="unroutable-model"),
    pytest.param(lambda d: d["models"].append(dict(d["models"][0])),
                 r"duplicate name 'mini' in models", "name: mini", id="duplicate-model"),
    pytest.param(_set(("models", 0, "params"), {"api_key": "sk-x"}),
                 r"api_key may not be written in a suite", "api_key", id="key-in-suite"),
    pytest.param(_set(("dataset", "path"), "missing.jsonl"),
                 r"dataset file not found", "missing.jsonl", id="missing-dataset"),
]


@pytest.mark.parametrize(("change", "message", "token"), CASES)
def test_bad_suite_is_one_clear_error(tmp_path: Path, change: Any, message: str,
                                      token: str) -> None:
    path = _suite(tmp_path, change)
    with pytest.raises(SuiteError, match=message) as caught:
        load_suite(path)
    error = caught.value
    assert error.path == path
    assert str(error).startswith(f"{path}:{error.line}:{error.column}: ")
    # the line named is the one holding the bad value
    assert token in path.read_text().splitlines()[error.line - 1]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match="suite file not found"):
        load_suite(tmp_path / "nope.yaml")


def test_yaml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\ndataset: {path: a.jsonl\nmodels: []\n")
    with pytest.raises(SuiteError, match="YAML syntax error") as caught:
        load_suite(path)
    assert caught.value.line == 3


def test_unknown_key_points_at_the_key(tmp_path: Path) -> None:
    data = tiny_suite_data(LOCAL)
    text = yaml.safe_dump(data, sort_keys=False).replace(
        "  concurrency: 4", "  concurency: 4")
    write_suite(tmp_path, data)
    (tmp_path / "suite.yaml").write_text(text)
    with pytest.raises(SuiteError, match="did you mean 'concurrency'") as caught:
        load_suite(tmp_path / "suite.yaml")
    lines = text.splitlines()
    assert lines[caught.value.line - 1].strip().startswith("concurency")


def test_duplicate_example_ids_name_both_lines(tmp_path: Path) -> None:
    from mre_eval.datasets import load_dataset

    rows = [{"id": "a", "kind": "faq", "question": "q", "answer": "1"},
            {"id": "b", "kind": "faq", "question": "q", "answer": "1"},
            {"id": "a", "kind": "faq", "question": "q", "answer": "1"}]
    suite = load_suite(_suite(tmp_path, rows=rows))
    with pytest.raises(DataError, match=r"data.jsonl:3: duplicate id 'a' \(first "
                       r"on line 1\)"):
        load_dataset(suite)


def test_undeclared_task_type_in_data(tmp_path: Path) -> None:
    rows = [{"id": "a", "kind": "billing", "question": "q", "answer": "1"}]
    result = CliRunner().invoke(app, ["validate", str(_suite(tmp_path, rows=rows))])
    assert result.exit_code == 2
    assert "task type 'billing' is not declared" in result.output


def test_bad_suite_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    path = _suite(tmp_path, _set(("task_types", 0, "threshold"), -1))
    reports = tmp_path / "reports"
    result = CliRunner().invoke(app, ["run", str(path), "--reports", str(reports)])
    assert result.exit_code == 2
    assert "threshold" in result.output
    assert not reports.exists()


def test_validate_reports_the_plan(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["validate", str(_suite(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "valid. 1 task types, 1 models, 1 prompt variants, 6 calls" in result.output


def test_shipped_suites_validate() -> None:
    from conftest import REPO

    for path in sorted((REPO / "suites").glob("*.yaml")):
        assert load_suite(path, check_models=True).name
