"""The llm_judge grader, offline through litellm's mock_response with real usage."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mre_eval.datasets import Example
from mre_eval.errors import ConfigError, GradingError, ProviderError
from mre_eval.graders import make_grader
from mre_eval.graders.base import Grade, Sample
from mre_eval.graders.judge import JudgeGrader, parse_score
from mre_eval.suite import GraderSpec
from openai_stub import Fault, StubServer, openai_stub  # noqa: F401 (fixture)

EXAMPLE = Example(id="ts-04", task_type="troubleshooting", fields={},
                  input="My invoice PDF is blank.", messages=None,
                  reference="Clear the template cache, then re-export.", line=9)


def _reply(text: str, prompt_tokens: int = 500, completion_tokens: int = 40) -> dict:
    return {"choices": [{"message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": prompt_tokens,
                      "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}}


def _judge(reply: Any, **options: Any) -> JudgeGrader:
    options = {"model": "gpt-4o-mini",
               "params": {"temperature": 0, "mock_response": reply}, **options}
    grader = make_grader(GraderSpec(kind="llm_judge", options=options))
    assert isinstance(grader, JudgeGrader)
    return grader


def _grade(grader: JudgeGrader, response: str = "Re-export it.") -> Grade:
    return asyncio.run(grader.grade(Sample(response, EXAMPLE)))


def test_score_and_the_judges_own_cost() -> None:
    grade = _grade(_judge(_reply("Covers the cache step.\nSCORE: 8")))
    assert grade.score == pytest.approx(0.8)
    # gpt-4o-mini: 500 x $0.15/M in + 40 x $0.60/M out
    assert grade.cost_usd == pytest.approx(500 * 0.15e-6 + 40 * 0.60e-6)
    assert grade.detail == "Covers the cache step.\nSCORE: 8"


def test_scale_option() -> None:
    grade = _grade(_judge(_reply("SCORE: 3"), scale=4))
    assert grade.score == pytest.approx(0.75)


def test_unpriced_judge_costs_none_not_zero() -> None:
    grader = _judge(_reply("SCORE: 10"), model="openai/house-judge-v0")
    grade = _grade(grader)
    assert (grade.score, grade.cost_usd) == (1.0, None)


@pytest.mark.parametrize(("text", "scale", "score"), [
    ("SCORE: 7", 10, 7.0),
    ("Reasoning... score = 4\nSCORE: **9**", 10, 9.0),
    ("First SCORE: 2, on reflection SCORE: 6", 10, 6.0),
    ("SCORE: 11", 10, None),
    ("I think it is good.", 10, None),
    ("SCORE: 4.5", 5, 4.5),
], ids=["plain", "bold", "last-wins", "above-scale", "none", "decimal"])
def test_parse_score(text: str, scale: int, score: float | None) -> None:
    assert parse_score(text, scale) == score


def test_reply_without_score_is_an_error_not_a_zero() -> None:
    with pytest.raises(GradingError, match="replied without a score from 0 to 10 "
                                           "on example 'ts-04'") as err:
        _grade(_judge(_reply("Looks fine to me.")))
    # the reply was billed all the same
    assert err.value.cost_usd == pytest.approx(500 * 0.15e-6 + 40 * 0.60e-6)


def test_prompt_holds_request_reference_response_and_rubric() -> None:
    grader = _judge(_reply("SCORE: 1"), rubric="Must mention the cache.")
    user = grader.messages(Sample("Try again later.", EXAMPLE))[1]["content"]
    for part in ("My invoice PDF is blank.", "Clear the template cache",
                 "Try again later.", "Must mention the cache.", "'SCORE: n'"):
        assert part in user


def test_reference_can_be_left_out() -> None:
    grader = _judge(_reply("SCORE: 1"), use_reference=False)
    user = grader.messages(Sample("x", EXAMPLE))[1]["content"]
    assert "Clear the template cache" not in user


def test_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MRE_TEST_JUDGE_KEY", raising=False)
    grader = _judge(_reply("SCORE: 1"), api_key_env="MRE_TEST_JUDGE_KEY")
    assert grader.required_env() == ["MRE_TEST_JUDGE_KEY"]
    with pytest.raises(ConfigError, match="needs the environment variable "
                                          "MRE_TEST_JUDGE_KEY"):
        _grade(grader)


def test_key_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MRE_TEST_JUDGE_KEY", "sk-test-not-real")
    grader = _judge(_reply("SCORE: 5"), api_key_env="MRE_TEST_JUDGE_KEY")
    assert _grade(grader).score == 0.5


def test_failed_call_is_a_provider_error() -> None:
    grader = _judge("litellm.RateLimitError", retries=0)
    with pytest.raises(ProviderError, match="judge gpt-4o-mini failed on example "
                                            "'ts-04'"):
        _grade(grader)


@pytest.mark.parametrize(("model", "cost"), [
    ("openai/gpt-4o-mini", 800 * 0.15e-6 + 200 * 0.60e-6),
    ("openai/house-judge", None),
], ids=["priced", "unpriced"])
def test_judge_on_a_local_server(openai_stub: StubServer, model: str,
                                 cost: float | None) -> None:
    openai_stub.reply.prompt_tokens = 800
    openai_stub.reply.completion_tokens = 200
    grader = make_grader(GraderSpec(kind="llm_judge", options={
        "model": model, "api_base": openai_stub.url, "params": {"temperature": 0}}))
    # the stub echoes the judge's prompt back, so the last score line in the
    # reply is the one written in the response being judged
    grade = _grade(grader, "Clear the cache.\nSCORE: 9")
    assert grade.score == pytest.approx(0.9)
    assert grade.cost_usd == (None if cost is None else pytest.approx(cost))
    assert "My invoice PDF is blank." in openai_stub.bodies[0]["messages"][1]["content"]


def _stub_judge(stub: StubServer, **options: Any) -> JudgeGrader:
    grader = make_grader(GraderSpec(kind="llm_judge", options={
        "model": "openai/house-judge", "api_base": stub.url, **options}))
    assert isinstance(grader, JudgeGrader)
    return grader


def test_transient_fault_is_retried(openai_stub: StubServer) -> None:
    openai_stub.script(Fault(status=503, message="overloaded"))
    grade = _grade(_stub_judge(openai_stub, retries=1), "SCORE: 6")
    assert (grade.score, openai_stub.requests) == (pytest.approx(0.6), 2)


def test_key_never_appears_in_the_error(openai_stub: StubServer,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MRE_TEST_JUDGE_KEY", "sk-test-abcdef123456")
    openai_stub.script(Fault(status=400, message="bad key sk-test-abcdef123456"))
    grader = _stub_judge(openai_stub, api_key_env="MRE_TEST_JUDGE_KEY")
    with pytest.raises(ProviderError, match="judge openai/house-judge failed") as err:
        _grade(grader)
    assert "abcdef123456" not in str(err.value)
    assert openai_stub.requests == 1
