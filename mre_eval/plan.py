"""What a run will do: one job per example x model x prompt variant x repeat.

Planning renders each job's messages, so a template problem surfaces before
any call is made, and it prices each job's worst case for ``--max-spend`` and
``--dry-run``: its prompt tokens at the dearest rate a prompt token can be
billed (a prompt-cache write costs more than plain input) plus ``max_tokens``
at the dearer of the output and reasoning rates, in the long-context tier the
prompt reaches.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from mre_eval.datasets import Example, locate
from mre_eval.errors import ConfigError, DataError
from mre_eval.pricing import map_prices, worst_case_usd
from mre_eval.providers.base import CallRequest
from mre_eval.suite import ModelSpec, PromptVariant, Suite, TaskType
from mre_eval.usage import count_tokens

# how far a tokenizer estimate of a prompt may fall short of the billed count
PROMPT_MARGIN = 1.25


@dataclass(frozen=True)
class Job:
    """One call to make and grade."""

    example: Example
    task: TaskType
    model: ModelSpec
    prompt: PromptVariant
    repeat: int
    messages: list[dict[str, Any]]

    @property
    def key(self) -> tuple[str, str, str, int]:
        """Identifies the job's row in a results table."""
        return (self.example.id, self.model.name, self.prompt.id, self.repeat)

    def request(self) -> CallRequest:
        """The call request the provider answers."""
        return CallRequest(model=self.model, messages=self.messages,
                           params=dict(self.model.params),
                           example_id=self.example.id,
                           prompt_variant=self.prompt.id, repeat=self.repeat)


@dataclass
class ModelEstimate:
    """What a dry run expects one model to cost."""

    model: str
    calls: int = 0
    prompt_tokens: int = 0
    worst_case_usd: float | None = 0.0


def plan_jobs(suite: Suite, examples: list[Example], repeats: int) -> list[Job]:
    """Every job of a run, example by example.

    Raises:
        DataError: an example's task type is not declared in the suite, or a
            template placeholder is missing from a row.
    """
    tasks = {task.name: task for task in suite.task_types}
    jobs = []
    for example in examples:
        task = tasks.get(example.task_type)
        if task is None:
            raise DataError(
                f"{locate(suite.dataset.path, example.line, example.unit)}: "
                f"task type {example.task_type!r} is not declared in the suite; "
                f"declared: {', '.join(tasks)}. Add it to task_types or fix the row")
        for prompt in suite.prompts_for(task.name):
            messages = render_messages(prompt, example)
            for model in suite.models:
                for repeat in range(repeats):
                    jobs.append(Job(example, task, model, prompt, repeat, messages))
    return jobs


def render_messages(prompt: PromptVariant, example: Example) -> list[dict[str, Any]]:
    """The chat messages a prompt variant makes of an example."""
    try:
        system = prompt.system.format_map(example.fields) if prompt.system else None
        messages = ([{"role": "system", "content": system}] if system else [])
        if example.messages is not None:
            return messages + list(example.messages)
        user = prompt.template.format_map(example.fields)
    except KeyError as exc:
        raise DataError(
            f"example {example.id!r} ({example.where}) has no field {exc} "
            f"that prompt {prompt.id!r} uses") from None
    except (ValueError, IndexError) as exc:
        raise ConfigError(
            f"prompt {prompt.id!r}: its template cannot be filled ({exc}); write "
            "literal braces as {{ and }}") from None
    return messages + [{"role": "user", "content": user}]


def max_output_tokens(model: ModelSpec) -> int | None:
    """The most output tokens one call to ``model`` can produce, if bounded."""
    for key in ("max_tokens", "max_completion_tokens"):
        if key in model.params:
            return int(model.params[key])
    return None


def worst_case_cost(job: Job) -> float | None:
    """The most one job's call can cost; ``None`` when it cannot be bounded.

    The prompt is counted with litellm's tokenizer for the model, which for
    some providers is only an estimate, so the count is raised by
    :data:`PROMPT_MARGIN` to keep the bound a bound; the raised count also
    decides which long-context tier the bound allows for.
    """
    limit = max_output_tokens(job.model)
    if limit is None:
        return None
    counted = count_tokens(job.model.model, messages=job.messages)
    prompt_tokens = math.ceil(counted * PROMPT_MARGIN)
    override = job.model.price.prices() if job.model.price else None
    return worst_case_usd(job.model.model, prompt_tokens, limit, override)


def unbounded_reasons(suite: Suite) -> list[tuple[str, str]]:
    """Models whose calls' cost cannot be bounded, and why, as (name, reason)."""
    problems = []
    for model in suite.models:
        if max_output_tokens(model) is None:
            problems.append((model.name, "no params.max_tokens"))
        elif model.price is None and map_prices(model.model) is None:
            problems.append((model.name, "unpriced: add a price override"))
    return problems


def unbounded_models(suite: Suite) -> list[str]:
    """Models whose calls ``--max-spend`` cannot bound, with the reason."""
    return [f"{name} ({why})" for name, why in unbounded_reasons(suite)]


def estimate(jobs: list[Job]) -> list[ModelEstimate]:
    """Calls, prompt tokens and worst-case cost per model, for a dry run."""
    per_model: dict[str, ModelEstimate] = defaultdict(lambda: ModelEstimate(""))
    for job in jobs:
        entry = per_model[job.model.name]
        entry.model = job.model.name
        entry.calls += 1
        entry.prompt_tokens += count_tokens(job.model.model, messages=job.messages)
        worst = worst_case_cost(job)
        if worst is None or entry.worst_case_usd is None:
            entry.worst_case_usd = None
        else:
            entry.worst_case_usd += worst
    return list(per_model.values())
