"""Replay recorded outcomes of real calls instead of calling models.

A recorded-outcomes file holds, per example x model (and optionally prompt
variant), the response a real model gave and, where recorded, its score,
cost, token counts and latency.  Token counts that were not recorded are
counted with litellm's tokenizer for the model, so they are estimates; a
recorded cost is used as recorded, otherwise the counts are priced.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from mre_eval.datasets import infer_format
from mre_eval.errors import DataError
from mre_eval.pricing import Cost, price_call
from mre_eval.providers.base import CallOutcome, CallRequest
from mre_eval.suite import RecordedSpec, Suite
from mre_eval.usage import Usage, count_tokens, tokenizer_name

log = logging.getLogger(__name__)

_Key = tuple[str, str, str | None]


@dataclass(frozen=True)
class RecordedCall:
    """One recorded outcome; ``None`` where the recording has no value."""

    response: str
    score: float | None
    cost_usd: float | None
    input_tokens: int | None
    output_tokens: int | None
    latency_s: float | None


class RecordedProvider:
    """Answers call requests from recorded outcomes.

    Args:
        calls: recorded outcomes keyed by (example id, model key, prompt
            variant or ``None`` when the recording has no variant column).
        source: where they were read from, for error messages.
    """

    def __init__(self, calls: dict[_Key, RecordedCall], source: str) -> None:
        self.calls = calls
        self.source = source
        self.by_variant = any(key[2] is not None for key in calls)
        # one prompt count per example x prompt variant x tokenizer
        self._prompt_tokens: dict[tuple[str, str, str], int] = {}

    @classmethod
    def from_suite(cls, suite: Suite) -> RecordedProvider:
        """Read the recorded outcomes a suite names."""
        if suite.recorded is None:
            raise DataError(f"suite {suite.name!r} has no recorded: block")
        path = suite.resolve(suite.recorded.path)
        return cls(_read_calls(path, suite.recorded), str(path))

    async def complete(self, request: CallRequest) -> CallOutcome:
        """Return the recorded outcome for the request's example and model."""
        variant = request.prompt_variant if self.by_variant else None
        key = (request.example_id, request.model.recorded_key, variant)
        call = self.calls.get(key)
        if call is None:
            return CallOutcome(response=None, error=(
                f"no recorded outcome for example {key[0]!r} and model "
                f"{key[1]!r}" + (f" with prompt {variant!r}" if variant else "")
                + f" in {self.source}"))
        usage = Usage(
            input_tokens=(call.input_tokens if call.input_tokens is not None
                          else self._count_prompt(request)),
            output_tokens=(call.output_tokens if call.output_tokens is not None
                           else count_tokens(request.model.model, text=call.response)))
        return CallOutcome(response=call.response, usage=usage,
                           cost=_cost(call, request, usage),
                           latency_s=call.latency_s, recorded_score=call.score)


    def _count_prompt(self, request: CallRequest) -> int:
        model = request.model.model
        key = (tokenizer_name(model), request.example_id, request.prompt_variant)
        if key not in self._prompt_tokens:
            self._prompt_tokens[key] = count_tokens(model, messages=request.messages)
        return self._prompt_tokens[key]


def _cost(call: RecordedCall, request: CallRequest, usage: Usage) -> Cost:
    if call.cost_usd is not None:
        return Cost(call.cost_usd, "recorded")
    override = request.model.price.prices() if request.model.price else None
    return price_call(request.model.model, usage, override)


def _read_calls(path: Any, spec: RecordedSpec) -> dict[_Key, RecordedCall]:
    import pandas as pd

    columns = spec.columns
    wanted = {name: column for name, column in columns.model_dump().items()
              if column is not None}
    try:
        if infer_format(path, spec.format) == "parquet":
            frame = pd.read_parquet(path, columns=list(wanted.values()))
        elif infer_format(path, spec.format) == "csv":
            frame = pd.read_csv(path, usecols=list(wanted.values()),
                                keep_default_na=False, na_values=[""])
        else:
            frame = pd.read_json(path, lines=True)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read recorded outcomes: {exc}") from None
    frame = frame.rename(columns={v: k for k, v in wanted.items()})
    return _index(frame, path)


def _index(frame: Any, path: Any) -> dict[_Key, RecordedCall]:
    calls: dict[_Key, RecordedCall] = {}
    rows = len(frame)

    def column(name: str) -> list[Any]:
        return frame[name].tolist() if name in frame.columns else [None] * rows

    variants = column("prompt_variant")
    for number, values in enumerate(zip(
            column("example_id"), column("model"), variants, column("response"),
            column("score"), column("cost_usd"), column("input_tokens"),
            column("output_tokens"), column("latency_s"), strict=True), start=1):
        example, model, variant, response, score, cost, tin, tout, latency = values
        key = (str(example), str(model), _text(variant))
        if key in calls:
            raise DataError(f"{path}: row {number}: a second recorded outcome for "
                            f"example {key[0]!r} and model {key[1]!r}; keep one")
        calls[key] = RecordedCall(
            response=_text(response) or "", score=_number(score),
            cost_usd=_number(cost), input_tokens=_whole(tin),
            output_tokens=_whole(tout), latency_s=_number(latency))
    return calls


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _whole(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)
