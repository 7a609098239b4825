"""The suite: what a product asks of its models, as a validated YAML file.

A suite names the dataset of example requests, the task types they fall into
(each with a grader and the quality it must keep), the candidate models and
the candidate prompt variants.  :func:`load_suite` reads it, validates it into
the models below and reports any mistake with its file, line and column.
"""

from __future__ import annotations

import hashlib
import string
from pathlib import Path
from typing import Any, Literal

from pydantic import (BaseModel, ConfigDict, Field, PrivateAttr, field_validator,
                      model_validator)

from mre_eval.pricing import Prices


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GraderSpec(_Strict):
    """Which grader scores a task type's responses, and its options."""

    kind: str = Field(description="grader name, e.g. exact, contains, choice")
    options: dict[str, Any] = Field(default_factory=dict,
                                    description="options the grader takes")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # `grader: exact` is short for `grader: {kind: exact}`
        return {"kind": value} if isinstance(value, str) else value


class Budget(_Strict):
    """What a task type may cost, and the traffic it sees."""

    monthly_usd: float | None = Field(None, ge=0, description="monthly budget")
    per_request_usd: float | None = Field(None, ge=0,
                                          description="cost limit for one request")
    requests_per_day: float | None = Field(None, ge=0,
                                           description="declared traffic volume")
    monthly_growth: float = Field(0.0, ge=-1,
                                  description="traffic growth per month, 0.1 = 10%")


class TaskType(_Strict):
    """One kind of request the product serves, and the quality it must keep."""

    name: str = Field(min_length=1)
    description: str = ""
    grader: GraderSpec
    pass_mark: float = Field(1.0, ge=0, le=1,
                             description="a response passes when score >= pass_mark")
    threshold: float = Field(ge=0, le=1, description="the quality it must keep")
    threshold_on: Literal["pass_rate", "mean_score"] = "pass_rate"
    gate_on: Literal["lower_bound", "point"] = Field(
        "lower_bound", description="judge quality by its 95% lower bound or point")
    budget: Budget | None = None


class PriceOverride(_Strict):
    """Prices per million tokens that replace litellm's for one model."""

    input_per_million: float = Field(ge=0)
    output_per_million: float = Field(ge=0)
    cached_input_per_million: float | None = Field(None, ge=0)
    reasoning_per_million: float | None = Field(None, ge=0)
    cache_write_input_per_million: float | None = Field(
        None, ge=0, description="prompt-cache writes; without it a call that "
        "writes to the cache is unpriced")
    cache_write_1h_input_per_million: float | None = Field(
        None, ge=0, description="one-hour prompt-cache writes; without it a "
        "call that writes to the cache for one hour is unpriced")

    def prices(self) -> Prices:
        return Prices(self.input_per_million, self.output_per_million,
                      self.cached_input_per_million, self.reasoning_per_million,
                      self.cache_write_input_per_million,
                      self.cache_write_1h_input_per_million)


class ModelSpec(_Strict):
    """A candidate model: a litellm model string and how to call it."""

    model: str = Field(min_length=1, description="litellm model string")
    name: str = Field("", description="its name in results; defaults to model")
    recorded: str | None = Field(None, description="its key in recorded outcomes")
    api_base: str | None = None
    api_key_env: str | None = Field(
        None, description="environment variable that holds the API key")
    params: dict[str, Any] = Field(default_factory=dict,
                                   description="generation parameters")
    price: PriceOverride | None = None
    tier: str | None = Field(None, description="a price tier label, for reading")

    @model_validator(mode="after")
    def _default_name(self) -> ModelSpec:
        if not self.name:
            object.__setattr__(self, "name", self.model)
        return self

    @field_validator("params")
    @classmethod
    def _no_secrets_in_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        if "api_key" in params:
            raise ValueError(
                "api_key may not be written in a suite; name the environment "
                "variable that holds it with api_key_env")
        return params

    @property
    def recorded_key(self) -> str:
        return self.recorded or self.name


class PromptVariant(_Strict):
    """A way of asking: a system prompt and a user template."""

    id: str = Field(min_length=1)
    system: str | None = None
    template: str = Field("{input}", description="user message, {field} placeholders")
    task_types: list[str] | None = Field(
        None, description="task types it serves; all when omitted")

    def placeholders(self) -> list[str]:
        """The ``{field}`` names its system prompt and template use."""
        names = []
        for text in (self.system or "", self.template):
            names += [f for _, f, _, _ in string.Formatter().parse(text) if f]
        return names


class DatasetSpec(_Strict):
    """Where the example requests are and which columns mean what."""

    path: str
    format: Literal["jsonl", "csv", "parquet"] | None = Field(
        None, description="inferred from the file name when omitted")
    id: str = Field("id", description="column with a unique example id")
    input: str | None = Field("input", description="column with the request text")
    messages: str | None = Field(None, description="column with chat messages")
    reference: str | None = Field(None, description="column with the reference")
    task_type_column: str | None = Field(
        None, description="column naming the task type")
    task_type: str | None = Field(None, description="one task type for every row")

    @model_validator(mode="after")
    def _one_task_type_source(self) -> DatasetSpec:
        if (self.task_type_column is None) == (self.task_type is None):
            raise ValueError(
                "give exactly one of task_type_column (a column naming each row's "
                "task type) or task_type (one task type for every row)")
        return self


class RecordedColumns(_Strict):
    """Column names in a recorded-outcomes file."""

    example_id: str = "example_id"
    model: str = "model"
    prompt_variant: str | None = None
    response: str = "response"
    score: str | None = "score"
    cost_usd: str | None = "cost_usd"
    input_tokens: str | None = None
    output_tokens: str | None = None
    latency_s: str | None = None


class RecordedSpec(_Strict):
    """Recorded outcomes of real calls, replayed instead of calling models."""

    path: str
    format: Literal["jsonl", "csv", "parquet"] | None = None
    columns: RecordedColumns = RecordedColumns()


class RunOptions(_Strict):
    """How a run calls models."""

    concurrency: int = Field(16, ge=1, le=1024)
    per_model_concurrency: int = Field(8, ge=1, le=1024)
    timeout_s: float = Field(60.0, gt=0)
    retries: int = Field(4, ge=0, le=20)
    repeats: int = Field(1, ge=1, le=100)
    max_spend_usd: float | None = Field(None, ge=0)


class Suite(_Strict):
    """A whole suite file, validated."""

    name: str = Field(min_length=1)
    description: str = ""
    dataset: DatasetSpec
    recorded: RecordedSpec | None = None
    task_types: list[TaskType] = Field(min_length=1)
    models: list[ModelSpec] = Field(min_length=1)
    prompts: list[PromptVariant] = Field(min_length=1)
    run: RunOptions = RunOptions()

    _source: Path | None = PrivateAttr(None)
    _text: str = PrivateAttr("")

    @property
    def source(self) -> Path | None:
        """The file the suite was loaded from."""
        return self._source

    @property
    def base_dir(self) -> Path:
        """Folder that relative paths in the suite are resolved against."""
        return self._source.parent if self._source else Path.cwd()

    @property
    def is_recorded(self) -> bool:
        """Whether the suite replays recorded outcomes instead of calling models."""
        return self.recorded is not None

    def resolve(self, relative: str) -> Path:
        """Resolve a path written in the suite against the suite's folder."""
        path = Path(relative).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    def task(self, name: str) -> TaskType:
        """The task type called ``name``."""
        for task in self.task_types:
            if task.name == name:
                return task
        raise KeyError(name)

    def model_spec(self, name: str) -> ModelSpec:
        """The model called ``name`` in results."""
        for model in self.models:
            if model.name == name:
                return model
        raise KeyError(name)

    def prompts_for(self, task_type: str) -> list[PromptVariant]:
        """Prompt variants that serve ``task_type``."""
        return [p for p in self.prompts
                if p.task_types is None or task_type in p.task_types]

    def sha256(self) -> str:
        """Hash of the suite's text as loaded: names a suite version."""
        return hashlib.sha256(self._text.encode()).hexdigest()

    def resolved_yaml(self) -> str:
        """The suite with every default filled in, for the run folder."""
        import yaml

        data = self.model_dump(mode="json")
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
