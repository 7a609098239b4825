"""The support suite's graders on its own hand-written dataset, offline."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import pytest

from mre_eval.datasets import Example, load_dataset
from mre_eval.graders import Grader, make_grader
from mre_eval.graders.base import Sample
from mre_eval.pricing import map_prices
from mre_eval.suite import Suite
from mre_eval.suite_loader import load_suite

SUITE = Path(__file__).parents[1] / "suites" / "support.yaml"


@pytest.fixture(scope="module")
def suite() -> Suite:
    return load_suite(SUITE, check_models=False)


@pytest.fixture(scope="module")
def examples(suite: Suite) -> list[Example]:
    return load_dataset(suite)


def _grader(suite: Suite, task: str) -> Grader:
    return make_grader(suite.task(task).grader, suite.base_dir)


def test_sixty_requests_twenty_per_task_type(examples: list[Example]) -> None:
    assert Counter(e.task_type for e in examples) == {
        "faq": 20, "account": 20, "troubleshooting": 20}


def test_three_price_tiers_all_priced(suite: Suite) -> None:
    assert Counter(m.tier for m in suite.models) == {
        "budget": 2, "standard": 2, "premium": 2}
    unpriced = [m.model for m in suite.models if map_prices(m.model) is None]
    assert unpriced == []
    budget = max(map_prices(m.model).output_per_million
                 for m in suite.models if m.tier == "budget")
    premium = min(map_prices(m.model).output_per_million
                  for m in suite.models if m.tier == "premium")
    assert budget < premium


def test_a_short_and_a_long_prompt_per_task_type(suite: Suite) -> None:
    for task in suite.task_types:
        prompts = {p.id: p for p in suite.prompts_for(task.name)}
        short, long = f"{task.name}-short", f"{task.name}-long"
        assert sorted(prompts) == [long, short]
        assert len(prompts[long].system or "") > 2 * len(prompts[short].system or "")


@pytest.mark.parametrize("task", ["faq", "account"])
def test_reference_answers_pass_their_grader(suite: Suite, examples: list[Example],
                                             task: str) -> None:
    grader = _grader(suite, task)
    failed = []
    for example in (e for e in examples if e.task_type == task):
        response = example.reference
        if not isinstance(response, str):
            response = json.dumps(response)
        grade = asyncio.run(grader.grade(Sample(response, example)))
        if grade.score < suite.task(task).pass_mark:
            failed.append((example.id, grade.detail))
    assert failed == []


@pytest.mark.parametrize(("response", "passed"), [
    ('{"category": "refund", "action": "answer", "reply": "Refunded."}', True),
    ('```json\n{"category": "refund", "action": "escalate", "reply": "Sent on."}\n```',
     False),
    ('{"category": "billing", "action": "answer", "reply": "Done."}', False),
    ('{"category": "refund", "action": "answer"}', False),
    ("Sure, I have refunded you.", False),
], ids=["right", "wrong-action", "wrong-category", "no-reply", "not-json"])
def test_account_triage(suite: Suite, examples: list[Example], response: str,
                        passed: bool) -> None:
    example = next(e for e in examples if e.id == "acct-01")
    grade = asyncio.run(_grader(suite, "account").grade(Sample(response, example)))
    assert (grade.score >= suite.task("account").pass_mark) is passed


def test_faq_answer_missing_a_fact_fails(suite: Suite, examples: list[Example]) -> None:
    example = next(e for e in examples if e.id == "faq-08")
    grade = asyncio.run(_grader(suite, "faq").grade(
        Sample("Yes, look in the Trash and press Restore.", example)))
    assert grade.score == pytest.approx(2 / 3)
    assert grade.detail == "found 2 of 3; missing ['30 days']"


def test_troubleshooting_judge_declares_its_key(suite: Suite) -> None:
    grader = _grader(suite, "troubleshooting")
    assert grader.required_env() == ["OPENAI_API_KEY"]
    assert map_prices(grader.options.model) is not None


def test_validates_through_the_cli() -> None:
    from typer.testing import CliRunner

    from mre_eval.cli import app

    result = CliRunner().invoke(app, ["validate", str(SUITE)])
    assert result.exit_code == 0, result.output
    assert "3 task types, 6 models, 6 prompt variants, 720 calls" in result.output


def test_without_keys_names_them_and_points_offline(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from mre_eval.cli import app

    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(app, ["run", str(SUITE), "--reports", str(tmp_path)])
    assert result.exit_code == 2
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY",
                 "suites/routerbench.yaml"):
        assert name in result.output
    assert list(tmp_path.iterdir()) == []
