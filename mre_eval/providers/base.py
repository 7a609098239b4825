"""What a provider is asked and what it answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from mre_eval.pricing import UNPRICED, Cost
from mre_eval.suite import ModelSpec
from mre_eval.usage import Usage


@dataclass(frozen=True)
class CallRequest:
    """One model call: a model, the messages, and where the call belongs."""

    model: ModelSpec
    messages: list[dict[str, str]]
    params: dict[str, Any]
    example_id: str
    prompt_variant: str
    repeat: int


@dataclass
class CallOutcome:
    """What one call produced; ``error`` is set when it failed for good."""

    response: str | None
    usage: Usage | None = None
    cost: Cost = field(default_factory=lambda: UNPRICED)
    latency_s: float | None = None
    error: str | None = None
    recorded_score: float | None = None
    cache_hit: bool = False
    attempts: int = 1
    paid_by_run: str | None = None  # for a cached answer: the run that paid


class Provider(Protocol):
    """Anything that answers call requests."""

    async def complete(self, request: CallRequest) -> CallOutcome:
        """Answer one request; never raises for a failed call, sets ``error``."""
        ...
