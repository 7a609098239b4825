"""make_grader, its option errors, and the graders that need no subprocess or model."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from mre_eval.datasets import Example
from mre_eval.errors import ConfigError, DataError
from mre_eval.graders import GRADER_KINDS, make_grader
from mre_eval.graders.base import Grade, Sample
from mre_eval.suite import GraderSpec


def _example(reference: Any = None, **fields: Any) -> Example:
    return Example(id="ex-7", task_type="faq", fields=fields, input="How?",
                   messages=None, reference=reference, line=12)


def _grade(kind: str, options: dict, response: str, reference: Any = None,
           recorded: float | None = None, base_dir: Path | None = None,
           **fields: Any) -> Grade:
    grader = make_grader(GraderSpec(kind=kind, options=options), base_dir=base_dir)
    sample = Sample(response, _example(reference, **fields), recorded)
    return asyncio.run(grader.grade(sample))


def test_kinds() -> None:
    assert GRADER_KINDS == ("exact", "normalized_exact", "contains", "regex", "choice",
                            "numeric", "json_schema", "python_tests", "callable",
                            "llm_judge", "recorded")


@pytest.mark.parametrize(("spec", "error"), [
    ({"kind": "containz"}, "unknown grader 'containz'; did you mean 'contains'\\? "
                           "Known graders: exact, normalized_exact"),
    ({"kind": "bleu"}, "unknown grader 'bleu' Known graders: exact"),
    ({"kind": "contains", "options": {"modes": "all"}},
     "unknown option 'modes' \\(did you mean 'mode'\\?\\). Options of contains: "
     "expected, field, mode, ignore_case"),
    ({"kind": "contains", "options": {"mode": "some"}},
     "option 'mode' = 'some' is not allowed: Input should be 'all' or 'any'"),
    ({"kind": "regex"}, "option 'pattern' is required"),
    ({"kind": "regex", "options": {"pattern": "("}},
     "option 'pattern' = '\\(' is not allowed: not a valid regular expression"),
    ({"kind": "numeric", "options": {"abs_tol": -1}},
     "option 'abs_tol' = -1 is not allowed"),
    ({"kind": "exact", "options": {"expected": "a", "field": "b"}},
     "give at most one of expected"),
    ({"kind": "json_schema"}, "give exactly one of schema"),
    ({"kind": "json_schema", "options": {"schema": {"type": "nope"}}},
     "the schema is not a valid JSON schema"),
    ({"kind": "json_schema", "options": {"schema_path": "missing.json"}},
     "cannot read schema_path '.*missing.json'"),
    ({"kind": "callable", "options": {"function": "no_colon"}},
     "option 'function' = 'no_colon' is not allowed: write it as module:function"),
    ({"kind": "callable", "options": {"function": "no_such_module_xyz:f"}},
     "cannot import module 'no_such_module_xyz'"),
    ({"kind": "callable", "options": {"function": "json:no_such"}},
     "'json' has no 'no_such'"),
    ({"kind": "llm_judge"}, "option 'model' is required"),
    ({"kind": "llm_judge", "options": {"model": "gpt-4o", "params": {"api_key": "k"}}},
     "api_key may not be written in a suite"),
    ({"kind": "llm_judge", "options": {"model": "gpt-4o", "params": {"timeout": 5}}},
     "the grader sets timeout \\(use option timeout_s\\) itself"),
    ({"kind": "python_tests", "options": {"timeout_s": 0}},
     "option 'timeout_s' = 0 is not allowed"),
    ({"kind": "recorded", "options": {"x": 1}},
     "unknown option 'x'. Options of recorded: none"),
], ids=["typo-kind", "unknown-kind", "unknown-option", "bad-literal",
        "missing-option", "bad-regex", "negative-tolerance", "two-sources",
        "no-schema", "invalid-schema", "missing-schema-file", "bad-target",
        "missing-module", "missing-function", "judge-without-model",
        "key-in-params", "reserved-param", "zero-timeout", "recorded-takes-none"])
def test_bad_specs(spec: dict, error: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=error):
        make_grader(GraderSpec(**spec), base_dir=tmp_path)


@pytest.mark.parametrize(("kind", "options", "response", "reference", "score"), [
    ("exact", {}, "  Paris\n", "Paris", 1.0),
    ("exact", {}, "paris", "Paris", 0.0),
    ("exact", {}, "Lyon", ["Paris", "Lyon"], 1.0),
    ("exact", {"expected": "yes"}, "yes", None, 1.0),
    ("normalized_exact", {}, "  PARIS!! ", "paris", 1.0),
    ("normalized_exact", {}, "The Paris", "paris", 0.0),
    ("normalized_exact", {"ignore_articles": True}, "The Paris", "paris", 1.0),
    ("contains", {}, "Refunds take 5 business days.", ["refund", "5 business days"],
     1.0),
    ("contains", {}, "Refunds are possible.", ["refund", "5 business days"], 0.5),
    ("contains", {"ignore_case": False}, "Refund", "refund", 0.0),
    ("contains", {"mode": "any"}, "Call us", ["email", "call"], 1.0),
    ("regex", {"pattern": r"INV-\d{4}"}, "See INV-0042.", None, 1.0),
    ("regex", {"pattern": r"INV-\d{4}", "full_match": True}, "See INV-0042.", None,
     0.0),
    ("regex", {"pattern": "yes", "ignore_case": True}, "YES", None, 1.0),
    ("numeric", {}, "The total is $1,234.50.", 1234.5, 1.0),
    ("numeric", {}, "First 3, then 7", "7", 1.0),
    ("numeric", {}, "about 99", 100, 0.0),
    ("numeric", {"rel_tol": 0.02}, "about 99", 100, 1.0),
    ("numeric", {"abs_tol": 0.5}, "-2.4", -2, 1.0),
    ("numeric", {}, "no idea", 3, 0.0),
], ids=lambda value: repr(value)[:30])
def test_scores(kind: str, options: dict, response: str, reference: Any,
                score: float) -> None:
    assert _grade(kind, options, response, reference).score == score


@pytest.mark.parametrize(("response", "number"), [
    ("The total is $1,234.50.", 1234.5),
    ("about 12%", 12.0),
    ("It fell to -3.5 degrees", -3.5),
    ("a loss of -$5", -5.0),
    ("−7 below zero", -7.0),
    ("6.02e23 atoms", 6.02e23),
    ("Answer: 1.5E-3 (approximately)", 0.0015),
    ("Step 1: 3 + 4 = 7, then 7 * 2 = 14. So 14.", 14.0),
    ("The answer is 42, found in 2 steps.", 42.0),
    ("12 apples minus 5 leaves 7\n#### 7", 7.0),
    ("so x = \\boxed{-2} for every 3 cases", -2.0),
    ("The answer is unclear; maybe 4", 4.0),
    ("no numbers here", None),
], ids=lambda value: repr(value)[:30])
def test_numeric_picks_the_answer_number(response: str, number: float | None) -> None:
    from mre_eval.graders.numeric import answer_number

    assert answer_number(response) == number


def test_numeric_reference_may_be_a_worked_solution() -> None:
    worked = "16 - 3 - 4 = 9; 9 * 2 = 18\n#### 18"
    grade = _grade("numeric", {}, "She has 18 left.", worked)
    assert grade.score == 1.0
    assert grade.detail == "18 is within 1e-09 of 18"


def test_contains_reads_a_column() -> None:
    grade = _grade("contains", {"field": "must_mention"}, "Go to Billing > Plans",
                   reference="long answer", must_mention=["billing", "plans", "save"])
    assert grade.score == pytest.approx(2 / 3)
    assert grade.detail == "found 2 of 3; missing ['save']"


@pytest.mark.parametrize(("kind", "options", "error"), [
    ("exact", {}, "example 'ex-7' \\(line 12\\) has no reference, and the exact "
                  "grader needs one"),
    ("contains", {"field": "keywords"}, "example 'ex-7' \\(line 12\\) has no column "
                                       "'keywords'"),
    ("numeric", {"expected": "n/a"}, "expected value 'n/a' is not a number"),
], ids=["no-reference", "no-column", "not-a-number"])
def test_missing_expected_values(kind: str, options: dict, error: str) -> None:
    with pytest.raises(DataError, match=error):
        _grade(kind, options, "anything")


SCHEMA = {"type": "object", "required": ["category", "escalate"],
          "properties": {"category": {"enum": ["billing", "account"]},
                         "escalate": {"type": "boolean"}}}


@pytest.mark.parametrize(("response", "score", "detail"), [
    ('{"category": "billing", "escalate": false}', 1.0, "valid JSON"),
    ('Here:\n```json\n{"category": "account", "escalate": true}\n```', 1.0,
     "valid JSON"),
    ('Sure! {"category": "billing", "escalate": false} Anything else?', 1.0,
     "valid JSON"),
    ('{"category": "sales", "escalate": false}', 0.0,
     "schema: 'sales' is not one of ['billing', 'account'] (at category); "
     "1 error(s)"),
    ('{"category": "billing"}', 0.0,
     "schema: 'escalate' is a required property (at top level); 1 error(s)"),
    ("I cannot help with that.", 0.0, "no JSON found in the response"),
    ('See [1] and [2].\n{"category": "billing", "escalate": true}\nThanks!', 1.0,
     "valid JSON"),
    ('Draft: {"category": "sales"}\nFinal: {"category": "account", '
     '"escalate": false} (done)', 1.0, "valid JSON"),
    ('{"note": "a } inside", "category": "billing", "escalate": false} bye }', 1.0,
     "valid JSON"),
    ('```json\n{"category": "billing",}\n``` oops', 0.0,
     "no JSON found in the response"),
    ('Options: {"category": "sales", "escalate": 1} or [3]', 0.0,
     "schema: 'sales' is not one of ['billing', 'account'] (at category); "
     "2 error(s)"),
], ids=["plain", "fenced", "embedded", "bad-enum", "missing-key", "no-json",
        "after-citations", "second-object-fits", "brace-in-string",
        "trailing-comma", "none-fits-first-reported"])
def test_json_schema(response: str, score: float, detail: str) -> None:
    grade = _grade("json_schema", {"schema": SCHEMA}, response)
    assert (grade.score, grade.detail) == (score, detail)


@pytest.mark.parametrize(("reference", "score"), [
    ({"category": "billing", "escalate": False}, 1.0),
    ('{"category": "billing", "escalate": true}', 0.0),
], ids=["object", "json-text"])
def test_json_schema_match_reference(reference: Any, score: float) -> None:
    grade = _grade("json_schema", {"schema": SCHEMA, "match": ["escalate"]},
                   '{"category": "billing", "escalate": false}', reference)
    assert grade.score == score


def test_json_schema_from_file(tmp_path: Path) -> None:
    (tmp_path / "label.json").write_text(json.dumps(SCHEMA))
    grade = _grade("json_schema", {"schema_path": "label.json"},
                   '{"category": "account", "escalate": true}', base_dir=tmp_path)
    assert grade.score == 1.0


@pytest.mark.parametrize(("recorded", "score"), [(1.0, 1.0), (0.0, 0.0), (0.25, 0.25)])
def test_recorded(recorded: float, score: float) -> None:
    assert _grade("recorded", {}, "B", recorded=recorded).score == score


@pytest.mark.parametrize(("recorded", "error"), [
    (None, r"example 'ex-7' \(line 12\) has no recorded score"),
    (1.5, "recorded score 1.5 is not in \\[0, 1\\]"),
], ids=["missing", "out-of-range"])
def test_recorded_errors(recorded: float | None, error: str) -> None:
    with pytest.raises(DataError, match=error):
        _grade("recorded", {}, "B", recorded=recorded)


USER_GRADERS = '''
from mre_eval.graders.base import Grade

def by_length(sample, limit=10):
    return len(sample.response) <= limit

def polite(response, example):
    return 1.0 if "please" in response.lower() else 0.0

async def detailed(sample):
    return Grade(0.5, "half right")

def too_high(sample):
    return 1.5

def nan(sample):
    return float("nan")

def broken(sample):
    return {}["missing"]
'''


@pytest.fixture()
def graders_dir(tmp_path: Path) -> Path:
    (tmp_path / "my_support_graders.py").write_text(USER_GRADERS)
    return tmp_path


@pytest.mark.parametrize(("function", "kwargs", "response", "score"), [
    ("by_length", {}, "short", 1.0),
    ("by_length", {"limit": 3}, "short", 0.0),
    ("polite", {}, "Please wait", 1.0),
    ("detailed", {}, "x", 0.5),
], ids=["bool-true", "kwargs", "two-arguments", "async-grade"])
def test_callable(graders_dir: Path, function: str, kwargs: dict, response: str,
                  score: float) -> None:
    options = {"function": f"my_support_graders:{function}", "kwargs": kwargs}
    grade = _grade("callable", options, response, base_dir=graders_dir)
    assert grade.score == score


@pytest.mark.parametrize("function", ["too_high", "nan"])
def test_callable_score_out_of_range(graders_dir: Path, function: str) -> None:
    options = {"function": f"my_support_graders:{function}"}
    with pytest.raises(ConfigError, match=f"{function} returned .* for example "
                                          r"'ex-7' \(line 12\); it must return a float in"):
        _grade("callable", options, "x", base_dir=graders_dir)


def test_callable_that_raises_names_the_example(graders_dir: Path) -> None:
    options = {"function": "my_support_graders:broken"}
    with pytest.raises(DataError, match="callable grader my_support_graders:broken "
                                        "raised KeyError: 'missing' on example "
                                        "'ex-7' \\(line 12\\)"):
        _grade("callable", options, "x", base_dir=graders_dir)
