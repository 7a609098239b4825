"""The runtime router: routing.json applied to one request at a time.

``Router.load(path).route(task_type, text)`` returns the configuration a
request should go to.  Everything that can be is computed at load time; a
learned task type costs one featurization and one small sparse dot product
per request.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mre_eval.errors import ConfigError, DataError
from mre_eval.optimize.policy import GAP


@dataclass(frozen=True)
class RouteDecision:
    """Where one request goes.

    Attributes:
        model: the model's name in the suite and results.
        prompt_variant: the prompt variant to use.
        tier: the complexity tier the request landed in.
        predicted_quality: the classifier's predicted quality of that
            configuration on this request; the measured quality for a static
            policy.
    """

    model: str
    prompt_variant: str
    tier: str
    predicted_quality: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "prompt_variant": self.prompt_variant,
                "tier": self.tier, "predicted_quality": self.predicted_quality}


_Step = tuple[RouteDecision, int | None, float | None]  # decision, column, cut-off


@dataclass(frozen=True)
class _TaskRouter:
    static: RouteDecision | None
    folds: tuple[tuple[_Step, ...], ...]     # a learned policy's cascade per fold
    classifier: Any | None
    gaps: tuple[bool, ...] = ()    # per fold: cut-offs read the gap to the last

    def route(self, text: str) -> RouteDecision:
        if self.static is not None:
            return self.static
        fold, predicted = self.classifier.predict_fold(text)
        steps = self.folds[fold]
        decision, column, _ = steps[-1]
        base = predicted[column] if self.gaps[fold] and column is not None else 0.0
        for step, step_column, cut in steps[:-1]:
            if predicted[step_column] - base >= cut:
                return _with_quality(step, predicted[step_column])
        return decision if column is None else _with_quality(decision,
                                                             predicted[column])


class Router:
    """Routes requests as a routing.json file says."""

    def __init__(self, routing: dict[str, Any], classifiers: dict[str, Any]) -> None:
        self.routing = routing
        self._tasks = {name: _task_router(name, entry, classifiers.get(name))
                       for name, entry in routing["task_types"].items()}

    @classmethod
    def load(cls, path: str | Path) -> Router:
        """Load routing.json and its classifier, verifying the classifier's hash.

        Raises:
            IntegrityError: when the classifier file does not match its sha256.
            ConfigError: when routing.json is unreadable or another version.
        """
        from mre_eval.optimize.routing_file import load_routing

        return cls(*load_routing(Path(path)))

    @property
    def task_types(self) -> list[str]:
        """The task types this router knows."""
        return list(self._tasks)

    def route(self, task_type: str, text: str) -> RouteDecision:
        """The configuration one request should go to.

        Raises:
            ConfigError: for a task type the routing file does not cover.
        """
        task = self._tasks.get(task_type)
        if task is None:
            raise ConfigError(
                f"task type {task_type!r} is not in this routing file: it routes "
                f"{sorted(self._tasks)}")
        return task.route(text)


def _task_router(name: str, entry: dict[str, Any], classifier: Any) -> _TaskRouter:
    quality = entry["expected_quality"]["point"]
    decisions = {(r["model"], r["prompt_variant"]):
                 RouteDecision(r["model"], r["prompt_variant"], r["tier"], quality)
                 for r in entry["routes"]}
    if entry["policy"] != "learned":
        return _TaskRouter(next(iter(decisions.values())), (), None)
    if classifier is None or len(entry["folds"]) != classifier.folds:
        raise ConfigError(f"task type {name!r} has a learned policy but the "
                          "classifier file holds no matching model for it: run "
                          "optimize again")
    columns = {label: i for i, label in enumerate(classifier.labels)}
    folds = tuple(tuple(_step(step, decisions, columns) for step in fold["cascade"])
                  for fold in entry["folds"])
    # a fold without "cutoff_on" (older files) compares bare predictions
    gaps = tuple(fold.get("cutoff_on", "quality") == GAP for fold in entry["folds"])
    return _TaskRouter(None, folds, classifier, gaps)


def _step(step: dict[str, Any], decisions: dict[tuple[str, str], RouteDecision],
          columns: dict[str, int]) -> _Step:
    key = (step["model"], step["prompt_variant"])
    column = columns.get(f"{key[0]} / {key[1]}")
    return decisions[key], column, step["cutoff"]


def _with_quality(decision: RouteDecision, value: float) -> RouteDecision:
    return RouteDecision(decision.model, decision.prompt_variant, decision.tier,
                         float(value))


TEXT_FIELDS = ("text", "input", "prompt")


def route_jsonl(router: Router, lines: Iterable[str], task_type: str | None,
                source: str = "<input>") -> Iterator[dict[str, Any]]:
    """Route each JSON line; yields the decision with the line's id.

    Each line is an object with the request text in ``text``, ``input`` or
    ``prompt`` and, unless ``task_type`` is given, a ``task_type`` field.

    Raises:
        DataError: naming the file and line of a malformed request.
    """
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        record = _record(line, source, number)
        text = next((record[f] for f in TEXT_FIELDS if f in record), None)
        kind = task_type or record.get("task_type")
        if not isinstance(text, str) or not isinstance(kind, str):
            raise DataError(
                f"{source}:{number}: each line needs a string request text in one "
                f"of {list(TEXT_FIELDS)} and a task_type field (or --task-type)")
        decision = router.route(kind, text).as_dict()
        yield {"id": record.get("id"), "line": number, "task_type": kind, **decision}


def route_file(routing: Path, source: Path,
               task_type: str | None) -> Iterator[dict[str, Any]]:
    """Route a JSONL file of requests with a routing file; yields decisions."""
    if not source.exists():
        raise DataError(f"no request file at {source}: give a JSONL file of "
                        "requests with --input")
    router = Router.load(routing)
    with source.open() as handle:
        yield from route_jsonl(router, handle, task_type, str(source))


def _record(line: str, source: str, number: int) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise DataError(f"{source}:{number}: not valid JSON ({exc}): each line "
                        "must be one JSON object") from exc
    if not isinstance(record, dict):
        raise DataError(f"{source}:{number}: a JSON object is needed, got "
                        f"{type(record).__name__}")
    return record
