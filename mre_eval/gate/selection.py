"""Which subjects the gate judges for each task type.

A run holds many configurations (model x prompt variant); the product ships
one policy per task type.  The gate judges, per task type, in this order:

1. the routed policy of ``--routing routing.json``, when it routes the task
   type (replayed on this run's examples);
2. else the configurations named with ``--config``;
3. else every configuration in the run, each judged on its own.

Every output states which rule chose a task type's subjects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mre_eval.errors import ConfigError
from mre_eval.gate.checks import Subject

if TYPE_CHECKING:
    import pandas as pd

    from mre_eval.gate.inputs import RunData
    from mre_eval.gate.routing import Routing


@dataclass(frozen=True)
class ConfigSpec:
    """A ``--config`` value: ``[TASK=]MODEL[:VARIANT]``."""

    task_type: str | None
    model: str
    variant: str | None

    def __str__(self) -> str:
        task = f"{self.task_type}=" if self.task_type else ""
        return f"{task}{self.model}" + (f":{self.variant}" if self.variant else "")


def parse_config(text: str, run: RunData) -> ConfigSpec:
    """Parse ``[TASK=]MODEL[:VARIANT]`` against the run's configurations.

    A model name may itself hold a colon, so the split is tried against the
    models the run actually has.

    Raises:
        ConfigError: no configuration of the run matches.
    """
    task, _, rest = text.rpartition("=") if "=" in text else ("", "", text)
    if task and task not in run.task_types:
        raise ConfigError(f"--config {text!r}: unknown task type {task!r}; the "
                          f"run has {run.task_types}")
    models = set(run.results["model"].astype(str))
    if rest in models:
        return ConfigSpec(task or None, rest, None)
    model, _, variant = rest.rpartition(":")
    if model in models:
        return ConfigSpec(task or None, model, variant)
    raise ConfigError(
        f"--config {text!r}: no model {rest!r} in run {run.name}; write "
        f"[TASK=]MODEL[:VARIANT] with a model from {sorted(models)}")


def select_subjects(run: RunData, configs: list[ConfigSpec],
                    routing: Routing | None) -> tuple[list[Subject], dict[str, str]]:
    """The subjects to judge and, per task type, how they were chosen.

    Raises:
        ConfigError: a ``--config`` matches no rows of a task type it names,
            or names a task type the routing file also routes.
    """
    from mre_eval.gate.routing import replay

    routed = set(routing.task_types) if routing is not None else set()
    clash = sorted({c.task_type for c in configs} & routed)
    if clash:
        raise ConfigError(
            f"task types {clash} are named by --config and routed by "
            f"{routing.path.name}: judge each task type one way; drop the "
            "--config or the task type's entry")
    subjects: list[Subject] = []
    chosen_by: dict[str, str] = {}
    for task in run.task_types:
        rows = _task_rows(run.results, task)
        if routing is not None and task in routing.task_types:
            played = replay(routing, run, task)
            subjects.append(Subject(task, routing.path.name, "routing",
                                    played.rows, routing.promise(task),
                                    played.choices))
            chosen_by[task] = f"routing policy {routing.path.name}"
            continue
        named = [c for c in configs if c.task_type in (None, task)]
        if named:
            subjects += [_named(rows, task, spec) for spec in named]
            chosen_by[task] = "--config " + ", ".join(map(str, named))
            continue
        subjects += _every_configuration(rows, task)
        chosen_by[task] = "every configuration in the run"
    return subjects, chosen_by


def configuration_rows(results: pd.DataFrame, task: str, model: str,
                       variant: str) -> pd.DataFrame:
    """The rows of one configuration on one task type."""
    rows = _task_rows(results, task)
    mask = ((rows["model"].astype(str) == model)
            & (rows["prompt_variant"].astype(str) == variant))
    return rows[mask]


def _task_rows(results: pd.DataFrame, task: str) -> pd.DataFrame:
    return results[results["task_type"].astype(str) == task]


def _named(rows: pd.DataFrame, task: str, spec: ConfigSpec) -> Subject:
    mask = rows["model"].astype(str) == spec.model
    variants = sorted(set(rows.loc[mask, "prompt_variant"].astype(str)))
    if spec.variant is None and len(variants) == 1:
        variant = variants[0]
    elif spec.variant in variants:
        variant = spec.variant
    else:
        raise ConfigError(
            f"--config {spec}: task type {task!r} has variants {variants} for "
            f"model {spec.model!r}; name one as {spec.model}:VARIANT")
    picked = rows[mask & (rows["prompt_variant"].astype(str) == variant)]
    return Subject(task, f"{spec.model}:{variant}", "configuration", picked,
                   model=spec.model, variant=variant)


def _every_configuration(rows: pd.DataFrame, task: str) -> list[Subject]:
    keys = [rows["model"].astype(str), rows["prompt_variant"].astype(str)]
    return [Subject(task, f"{model}:{variant}", "configuration", group,
                    model=model, variant=variant)
            for (model, variant), group in rows.groupby(keys, sort=True)]
