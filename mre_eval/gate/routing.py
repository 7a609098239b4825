"""Replay a routing policy (routing.json) on a run's results.

The policy is loaded through :class:`mre_eval.Router`, which verifies the
classifier file against its hash.  Each example of the run is routed from its
request text; the rows the run recorded for the chosen model and prompt
variant are what the policy would have served.  Those rows are then measured
like any configuration's.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mre_eval.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from mre_eval.gate.inputs import RunData

log = logging.getLogger(__name__)


@dataclass
class Routing:
    """A loaded routing.json and its Router."""

    path: Path
    data: dict[str, Any]
    router: Any
    notes: list[str] = field(default_factory=list)

    @property
    def task_types(self) -> list[str]:
        """Task types the policy routes."""
        return list(self.data.get("task_types", {}))

    def promise(self, task_type: str) -> dict[str, Any]:
        """What the policy promised for ``task_type`` when it was made."""
        return self.data["task_types"][task_type]


@dataclass(frozen=True)
class Replay:
    """The rows a routed policy serves on one task type, and its choices."""

    task_type: str
    rows: pd.DataFrame
    choices: dict[str, int]  # "model:variant" -> examples routed there


def load_routing(path: Path, run: RunData) -> Routing:
    """Load routing.json, check it belongs to ``run``'s suite, load its Router.

    Raises:
        ConfigError: the file is missing or malformed, or made for another
            suite or for task types the run does not have.
        IntegrityError: the classifier file does not match its hash.
    """
    data = _read_json(path)
    notes = _check_suite(path, data, run)
    router = _router_class().load(path)
    return Routing(path, data, router, notes)


def replay(routing: Routing, run: RunData, task_type: str) -> Replay:
    """Route every example of ``task_type`` and collect the rows it serves.

    Raises:
        ConfigError: the policy routes to a configuration the run did not
            evaluate.
        DataError: the run has no examples table.
    """
    examples = run.examples()
    # only the examples the run has results for (a run may use --limit)
    measured = run.results.loc[run.results["task_type"].astype(str) == task_type,
                               "example_id"].astype(str)
    examples = examples[(examples["task_type"].astype(str) == task_type)
                        & examples["example_id"].astype(str).isin(set(measured))]
    chosen = []
    for example_id, text in zip(examples["example_id"].astype(str),
                                examples["input"].fillna("").astype(str)):
        decision = routing.router.route(task_type, text)
        chosen.append((example_id, decision.model, decision.prompt_variant))
    return Replay(task_type, _served_rows(run, task_type, chosen),
                  dict(Counter(f"{m}:{v}" for _, m, v in chosen)))


def _served_rows(run: RunData, task_type: str,
                 chosen: list[tuple[str, str, str]]) -> pd.DataFrame:
    import pandas as pd

    results = run.results
    results = results[results["task_type"].astype(str) == task_type]
    wanted = pd.DataFrame(chosen, columns=["example_id", "model", "prompt_variant"])
    keys = ["example_id", "model", "prompt_variant"]
    left = results.astype({k: str for k in keys})
    rows = left.merge(wanted, on=keys, how="inner")
    served = set(rows["example_id"])
    missing = wanted[~wanted["example_id"].isin(served)]
    if not missing.empty:
        first = missing.iloc[0]
        raise ConfigError(
            f"the routing policy sends {len(missing)} {task_type!r} examples to "
            f"configurations this run did not evaluate (first: example "
            f"{first.example_id!r} -> {first.model}:{first.prompt_variant}); "
            "run those configurations, or re-optimize on this run")
    return rows


def _router_class() -> Any:
    import mre_eval

    router = getattr(mre_eval, "Router", None)
    if router is None:  # the package exports it lazily; import it directly
        from mre_eval.optimize.router import Router as router
    return router


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"no routing file at {path}: give the routing.json "
                          "written by `mre-eval optimize`")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: "
                          f"{exc.msg}") from None
    if not isinstance(data, dict) or not isinstance(data.get("task_types"), dict):
        raise ConfigError(f"{path}: not a routing file (no task_types object); "
                          "give the routing.json written by `mre-eval optimize`")
    return data


def _check_suite(path: Path, data: dict[str, Any], run: RunData) -> list[str]:
    suite = data.get("suite") or {}
    name = suite.get("name")
    if name != run.suite.name:
        raise ConfigError(
            f"{path} was made for suite {name!r}, this run is of suite "
            f"{run.suite.name!r}: re-optimize on a run of {run.suite.name!r}")
    unknown = sorted(set(data["task_types"]) - set(run.task_types))
    if unknown:
        raise ConfigError(
            f"{path} routes task types {unknown} that run {run.name} has no "
            f"results for (it has {run.task_types}): re-optimize on this suite")
    notes = []
    if suite.get("sha256") and suite["sha256"] not in _suite_hashes(run):
        notes.append(f"{path.name} was made for another version of suite "
                     f"{name!r}; its promise is checked on this run anyway")
    return notes


def _suite_hashes(run: RunData) -> set[str]:
    from mre_eval.suite_loader import suite_hash

    return {run.suite_sha256, run.suite.sha256(), suite_hash(run.suite)}
