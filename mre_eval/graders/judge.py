"""The ``llm_judge`` grader: another model scores the response against a rubric.

The judge sees the request, the reference answer (when there is one and
``use_reference`` is on), the response and the rubric, and is asked to end
with ``SCORE: n`` for an integer n from 0 to ``scale``; the grade is n /
scale.  The judge's own call is priced from its token usage with litellm's
price map and returned in :attr:`Grade.cost_usd`, kept apart from the cost of
the model being judged (``None`` when the judge model has no known price).

Transient faults (rate limits, server errors, timeouts) are retried by the
one retry layer, :class:`mre_eval.retry.RetryPolicy`, ``retries`` times; a
call that still fails raises :class:`ProviderError`, and a reply without a
score raises :class:`GradingError` carrying what that reply cost, rather than
counting as a zero.
"""

from __future__ import annotations

import os
import re
from typing import Any, ClassVar

from pydantic import Field, field_validator

from mre_eval.errors import ConfigError, GradingError, ProviderError
from mre_eval.graders.base import Grade, Grader, Options, Sample
from mre_eval.pricing import price_call
from mre_eval.usage import usage_of

DEFAULT_RUBRIC = (
    "Judge whether the response answers the request correctly and completely, "
    "agrees with the reference answer on every fact that matters, and contains "
    "nothing false or unsafe.")

_SYSTEM = ("You are a strict, fair grader of AI assistant responses. Think "
           "briefly, then give your verdict.")

_SET_BY_GRADER = {
    "model": "use option model", "messages": "built from the rubric",
    "timeout": "use option timeout_s", "max_retries": "use option retries",
    "api_base": "use option api_base"}

_SCORE = re.compile(r"SCORE\s*[:=]\s*\**\s*(\d+(?:\.\d+)?)", re.IGNORECASE)


class JudgeOptions(Options):
    """Options of the ``llm_judge`` grader."""

    model: str = Field(min_length=1, description="litellm model string of the judge")
    rubric: str = DEFAULT_RUBRIC
    scale: int = Field(10, ge=1, le=100)
    use_reference: bool = True
    api_key_env: str | None = None
    api_base: str | None = None
    timeout_s: float = Field(60.0, gt=0)
    retries: int = Field(3, ge=0, le=20, description="retries of transient faults")
    params: dict[str, Any] = {"temperature": 0, "max_tokens": 300}

    @field_validator("params")
    @classmethod
    def _no_key(cls, params: dict[str, Any]) -> dict[str, Any]:
        if "api_key" in params:
            raise ValueError("api_key may not be written in a suite; name the "
                             "environment variable that holds it with api_key_env")
        reserved = sorted(set(params) & _SET_BY_GRADER.keys())
        if reserved:
            hints = ", ".join(f"{k} ({_SET_BY_GRADER[k]})" for k in reserved)
            raise ValueError(f"the grader sets {hints} itself")
        return params


class JudgeGrader(Grader):
    """Scores with an LLM judge and records the judge's own cost."""

    kind: ClassVar[str] = "llm_judge"
    options_model = JudgeOptions
    options: JudgeOptions

    def required_env(self) -> list[str]:
        return [self.options.api_key_env] if self.options.api_key_env else []

    async def grade(self, sample: Sample) -> Grade:
        reply = await self._call(sample)
        text = reply.choices[0].message.content or ""
        cost = judge_cost(self.options.model, reply)
        score = parse_score(text, self.options.scale)
        if score is None:
            # the judge was paid for its reply: that cost goes with the error
            raise GradingError(
                f"judge {self.options.model} replied without a score from 0 to "
                f"{self.options.scale} on example {sample.example.id!r}: "
                f"{text[-200:]!r}", cost_usd=cost)
        return Grade(score / self.options.scale, text.strip()[-500:], cost)

    async def _call(self, sample: Sample) -> Any:
        from mre_eval.llm import litellm_module
        from mre_eval.providers.live import scrub
        from mre_eval.retry import RetryPolicy

        params = self._call_params()
        litellm = litellm_module()

        async def attempt() -> Any:
            return await litellm.acompletion(
                model=self.options.model, messages=self.messages(sample),
                timeout=self.options.timeout_s, max_retries=0, **params)

        try:
            reply, _ = await RetryPolicy(self.options.retries).call(attempt)
        except Exception as exc:  # litellm raises many provider-specific types
            message = scrub(f"{type(exc).__name__}: {exc}", {params.get("api_key", "")})
            raise ProviderError(
                f"judge {self.options.model} failed on example "
                f"{sample.example.id!r}: {message[:500]}") from None
        return reply

    def messages(self, sample: Sample) -> list[dict[str, str]]:
        """The judge's prompt for one sample."""
        parts = [f"## Request\n{sample.example.text}"]
        reference = sample.example.reference
        if self.options.use_reference and reference not in (None, ""):
            parts.append(f"## Reference answer\n{reference}")
        parts += [f"## Response to grade\n{sample.response}",
                  f"## Rubric\n{self.options.rubric}",
                  f"End your reply with a line 'SCORE: n', where n is an integer "
                  f"from 0 (worst) to {self.options.scale} (best)."]
        return [{"role": "system", "content": _SYSTEM},
                {"role": "user", "content": "\n\n".join(parts)}]

    def _call_params(self) -> dict[str, Any]:
        from mre_eval.providers.live import LOCAL_PLACEHOLDER_KEY, is_local_server

        params = dict(self.options.params)
        if self.options.api_base:
            params["api_base"] = self.options.api_base
        if self.options.api_key_env:
            key = os.environ.get(self.options.api_key_env)
            if not key:
                raise ConfigError(
                    f"the llm_judge grader needs the environment variable "
                    f"{self.options.api_key_env} (the judge {self.options.model}'s "
                    "API key); set it, or use the offline suite")
            params["api_key"] = key
        elif is_local_server(self.options.api_base):
            # the openai client refuses to send without a key; a local server
            # ignores it
            params["api_key"] = LOCAL_PLACEHOLDER_KEY
        return params


def parse_score(text: str, scale: int) -> float | None:
    """The last ``SCORE: n`` in ``text`` when 0 <= n <= scale, else ``None``."""
    found = _SCORE.findall(text)
    if not found:
        return None
    value = float(found[-1])
    return value if 0 <= value <= scale else None


def judge_cost(model: str, reply: Any) -> float | None:
    """Dollars the judge call cost, from its usage block; ``None`` when unknown."""
    return price_call(model, usage_of(reply)).usd
