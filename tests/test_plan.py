"""The worst case of a job, for --max-spend and --dry-run: a true upper bound."""

from __future__ import annotations

import math

import pytest

from mre_eval import plan
from mre_eval.datasets import Example
from mre_eval.llm import litellm_module
from mre_eval.pricing import price_call, worst_case_usd
from mre_eval.suite import ModelSpec, PromptVariant, TaskType
from mre_eval.usage import Usage

M = 1_000_000
BEDROCK_CLAUDE = "anthropic.claude-sonnet-4-5-20250929-v1:0"


def _job(model: str, max_tokens: int = 200, **price: float) -> plan.Job:
    example = Example(id="e1", task_type="faq", fields={"input": "How do I reset it?"},
                      input="How do I reset it?", messages=None, reference=None,
                      line=1)
    task = TaskType(name="faq", grader={"kind": "exact"}, threshold=0.5)
    spec = ModelSpec(model=model, params={"max_tokens": max_tokens},
                     price=price or None)
    prompt = PromptVariant(id="short")
    return plan.Job(example, task, spec, prompt, 0,
                    plan.render_messages(prompt, example))


def _raised_prompt(job: plan.Job) -> int:
    counted = plan.count_tokens(job.model.model, messages=job.messages)
    return math.ceil(counted * plan.PROMPT_MARGIN)


def test_a_prompt_that_may_be_written_to_the_cache_is_bounded_at_the_write_rate(
) -> None:
    job = _job("claude-sonnet-4-5")
    info = litellm_module().model_cost["claude-sonnet-4-5"]
    prompt = _raised_prompt(job)
    dearest = max(info["input_cost_per_token"],
                  info["cache_creation_input_token_cost"],
                  info["cache_creation_input_token_cost_above_1hr"])
    assert dearest > info["input_cost_per_token"]
    assert plan.worst_case_cost(job) == pytest.approx(
        prompt * dearest + 200 * info["output_cost_per_token"], rel=1e-12)


@pytest.mark.parametrize("model", ["claude-sonnet-4-5", "gpt-4o", "gemini-2.5-pro",
                                   BEDROCK_CLAUDE])
@pytest.mark.parametrize("prompt", [1_000, 190_000, 250_000])
def test_no_split_of_the_prompt_costs_more_than_the_bound(model: str,
                                                          prompt: int) -> None:
    bound = worst_case_usd(model, prompt, 500)
    splits = [Usage(n, out, cached_tokens=c, cache_write_tokens=w,
                    reasoning_tokens=r)
              for n in (prompt // 2, prompt - 1, prompt)
              for c, w in ((0, 0), (0, n), (n // 3, n - n // 3), (n, 0))
              for out, r in ((500, 0), (500, 500))]
    costs = [price_call(model, usage).usd for usage in splits]
    priced = [cost for cost in costs if cost is not None]
    assert priced, "the model is expected to be priced"
    assert max(priced) <= bound + 1e-12


@pytest.mark.parametrize(("counted", "tier"), [(150_000, None), (170_000, "200k")],
                         ids=["below", "margin-passes-200k"])
def test_the_bound_takes_the_tier_the_raised_prompt_reaches(
        monkeypatch: pytest.MonkeyPatch, counted: int, tier: str | None) -> None:
    # 170,000 counted tokens raised by the margin pass 200k: the provider may
    # bill the whole call at the long-context rates
    monkeypatch.setattr(plan, "count_tokens", lambda model, messages: counted)
    info = litellm_module().model_cost[BEDROCK_CLAUDE]
    suffix = f"_above_{tier}_tokens" if tier else ""
    prompt = math.ceil(counted * plan.PROMPT_MARGIN)
    # the dearest prompt rate of this entry: a one-hour cache write
    dearest = info[f"cache_creation_input_token_cost_above_1hr{suffix}"]
    assert dearest >= info[f"cache_creation_input_token_cost{suffix}"]
    expected = prompt * dearest + 200 * info[f"output_cost_per_token{suffix}"]
    assert plan.worst_case_cost(_job(BEDROCK_CLAUDE)) == pytest.approx(
        expected, rel=1e-12)


def test_an_override_bound_uses_its_dearest_rates() -> None:
    job = _job("openai/local", max_tokens=100, input_per_million=1,
               output_per_million=2, cache_write_input_per_million=3,
               reasoning_per_million=5)
    prompt = _raised_prompt(job)
    assert plan.worst_case_cost(job) == pytest.approx((prompt * 3 + 100 * 5) / M)


def test_an_unpriced_or_unlimited_model_has_no_bound() -> None:
    assert plan.worst_case_cost(_job("openai/no-such-private-model")) is None
    job = _job("gpt-4o")
    unlimited = plan.Job(job.example, job.task,
                         ModelSpec(model="gpt-4o"), job.prompt, 0, job.messages)
    assert plan.worst_case_cost(unlimited) is None


def test_estimate_adds_the_bounds_of_a_models_jobs() -> None:
    jobs = [_job("claude-sonnet-4-5"), _job("claude-sonnet-4-5")]
    (entry,) = plan.estimate(jobs)
    assert entry.calls == 2
    assert entry.worst_case_usd == pytest.approx(2 * plan.worst_case_cost(jobs[0]))
