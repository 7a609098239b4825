"""The candidate configurations of each task type, as matrices the search reads.

A configuration is one (model, prompt variant) pair seen in the results.  For
every task type this module lines up the examples that every priced
configuration answered and gives, per example and configuration, the quality
(repeats averaged) and the cost.  Configurations with any unpriced call are
left out, with a warning that names them: a cost we do not know cannot be
promised.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from mre_eval.errors import ConfigError, DataError

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

ThresholdOn = Literal["pass_rate", "mean_score"]
GateOn = Literal["lower_bound", "point"]

MIN_PER_FOLD = 10  # held-out examples each fold needs to say anything at all


@dataclass(frozen=True)
class Config:
    """One candidate: a model answering with one prompt variant."""

    model: str
    prompt_variant: str

    @property
    def label(self) -> str:
        return f"{self.model} / {self.prompt_variant}"


@dataclass(frozen=True)
class TaskSpec:
    """The quality a task type must keep and how it is judged."""

    name: str
    threshold: float
    threshold_on: ThresholdOn = "pass_rate"
    gate_on: GateOn = "lower_bound"

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold <= 1.0 or self.threshold != self.threshold:
            raise ConfigError(
                f"task type {self.name!r}: threshold {self.threshold!r} is outside "
                "[0, 1]: a threshold is a pass rate or mean score, e.g. 0.9")
        if self.threshold_on not in ("pass_rate", "mean_score"):
            raise ConfigError(
                f"task type {self.name!r}: threshold_on {self.threshold_on!r} is "
                "not allowed: use pass_rate or mean_score")
        if self.gate_on not in ("lower_bound", "point"):
            raise ConfigError(
                f"task type {self.name!r}: gate_on {self.gate_on!r} is not "
                "allowed: use lower_bound or point")


@dataclass
class TaskData:
    """Quality and cost of every candidate on every example of one task type."""

    spec: TaskSpec
    example_ids: list[str]
    texts: list[str]
    configs: list[Config]
    quality: np.ndarray          # examples x configs, in [0, 1]
    cost: np.ndarray             # examples x configs, dollars per request
    input_tokens: list[float | None] = field(default_factory=list)
    litellm_models: list[str | None] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)

    @property
    def binary(self) -> bool:
        """Whether quality is a proportion: pass rates, or 0/1 scores."""
        if self.spec.threshold_on == "pass_rate":
            return True
        return bool(np.all((self.quality == 0) | (self.quality == 1)))


def build_candidates(results: pd.DataFrame, examples: pd.DataFrame,
                     specs: dict[str, TaskSpec], folds: int) -> dict[str, TaskData]:
    """Line up every task type's candidates, examples in example-id order.

    Raises:
        DataError: when there are no results, a task type has no priced
            configuration, or too few examples to cross-fit ``folds`` ways.
    """
    if results.empty:
        raise DataError("the results table is empty: run `mre-eval run SUITE` first")
    texts = dict(zip(examples["example_id"].astype(str),
                     examples["input"].fillna("").astype(str)))
    out = {}
    for name in sorted(results["task_type"].dropna().unique()):
        if name not in specs:
            log.warning("task type %r has results but no threshold; skipped", name)
            continue
        rows = results[results["task_type"] == name]
        out[name] = _task_data(rows, texts, specs[name], folds)
    if not out:
        raise DataError(
            f"no task type in the results has a threshold: results hold "
            f"{sorted(results['task_type'].dropna().unique())}, thresholds name "
            f"{sorted(specs)}")
    return out


def min_examples(folds: int) -> int:
    """How many examples a task type needs to validate a policy ``folds`` ways."""
    return max(3, folds) * MIN_PER_FOLD


def _task_data(rows: pd.DataFrame, texts: dict[str, str], spec: TaskSpec,
               folds: int) -> TaskData:
    value = _quality_column(rows, spec)
    frame = rows.assign(_q=value, _c=rows["cost_usd"].astype("Float64"))
    keys = ["model", "prompt_variant"]
    unpriced = frame[frame["_c"].isna()].groupby(keys).size()
    left_out = [f"{m} / {p} ({n} unpriced calls)" for (m, p), n in unpriced.items()]
    if left_out:
        log.warning("task type %r: left out unpriced configurations: %s",
                    spec.name, "; ".join(left_out))
    priced = frame[~frame.set_index(keys).index.isin(unpriced.index)]
    if priced.empty:
        raise DataError(
            f"task type {spec.name!r}: every configuration has unpriced calls, so "
            "no policy's cost can be known: add a price override in the suite")
    per = priced.groupby(["example_id", *keys]).agg(
        q=("_q", "mean"), c=("_c", "mean")).reset_index()
    quality = per.pivot(index="example_id", columns=keys, values="q")
    cost = per.pivot(index="example_id", columns=keys, values="c")
    complete = quality.notna().all(axis=1) & quality.index.isin(list(texts))
    if (~complete).any():
        log.warning("task type %r: %d examples lack a result for some configuration "
                    "or a request text; left out", spec.name, int((~complete).sum()))
    quality, cost = quality[complete].sort_index(), cost[complete].sort_index()
    _check_size(spec.name, len(quality), folds)
    configs = [Config(str(m), str(p)) for m, p in quality.columns]
    return TaskData(
        spec=spec, example_ids=[str(i) for i in quality.index],
        texts=[texts[str(i)] for i in quality.index], configs=configs,
        quality=quality.to_numpy(dtype=float), cost=cost.to_numpy(dtype=float),
        input_tokens=_mean_tokens(priced, configs),
        litellm_models=_litellm_models(priced, configs), left_out=left_out)


def _quality_column(rows: pd.DataFrame, spec: TaskSpec) -> pd.Series:
    # a failed call has no score: it counts as a failure, never as missing
    if spec.threshold_on == "pass_rate":
        return rows["passed"].astype("boolean").fillna(False).astype(float)
    return rows["score"].astype("Float64").fillna(0.0).astype(float)


def _check_size(name: str, n: int, folds: int) -> None:
    need = min_examples(folds)
    if n < need:
        raise DataError(
            f"task type {name!r} has {n} examples answered by every configuration; "
            f"validating a policy {folds}-fold needs at least {need} "
            f"({MIN_PER_FOLD} per fold): add examples or lower --folds")


def _mean_tokens(rows: pd.DataFrame, configs: list[Config]) -> list[float | None]:
    import pandas as pd

    means = rows.groupby(["model", "prompt_variant"])["input_tokens"].mean()
    out: list[float | None] = []
    for config in configs:
        value = means.get((config.model, config.prompt_variant))
        out.append(None if value is None or pd.isna(value) else float(value))
    return out


def _litellm_models(rows: pd.DataFrame, configs: list[Config]) -> list[str | None]:
    if "litellm_model" not in rows.columns:
        return [None] * len(configs)
    named = rows.dropna(subset=["litellm_model"]).groupby(
        ["model", "prompt_variant"])["litellm_model"].first()
    return [None if (c.model, c.prompt_variant) not in named.index
            else str(named[(c.model, c.prompt_variant)]) for c in configs]
