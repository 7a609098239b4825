"""routing.json and the classifier file saved beside it.

The file holds, per task type, the policy, its routes, the quality it
promises (measured out of fold, with its 95% interval and sample size), its
cost, the baselines it was compared with and the decision record.  The
classifier is saved with joblib next to it; routing.json names that file and
its sha256, and :func:`load_routing` refuses a classifier that does not match.
The same results, seed and folds give a byte-identical pair of files.

joblib files are pickles: loading one runs code, so load only classifier
files whose routing.json you trust; the hash check guards against a changed
or swapped classifier, not against a forged routing.json.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from mre_eval.errors import ConfigError, IntegrityError
from mre_eval.optimize.frontier import tier_names
from mre_eval.optimize.optimizer import Optimization
from mre_eval.optimize.policy import GAP
from mre_eval.optimize.prompts import prompt_economics
from mre_eval.optimize.search import TaskResult

SCHEMA_VERSION = 1


def write_routing(opt: Optimization, path: Path) -> dict[str, Any]:
    """Write routing.json and its classifier file; return the routing dict."""
    import joblib

    from mre_eval.results import atomic_write_text

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clf_path = path.with_name(f"{path.stem}.classifier.joblib")
    payload = {"schema_version": SCHEMA_VERSION,
               "task_types": {n: t.classifier for n, t in opt.tasks.items()
                              if t.classifier is not None}}
    buffer = io.BytesIO()
    joblib.dump(payload, buffer, compress=3)
    _atomic_write_bytes(clf_path, buffer.getvalue())
    routing = to_routing(opt, clf_path.name, _sha256(clf_path))
    atomic_write_text(path, json.dumps(routing, indent=2) + "\n")
    return routing


def optimize_to_file(run: str | Path | None, emit: Path | None,
                     thresholds: list[str], folds: int, seed: int,
                     featurizer: str, reports: Path) -> dict[str, Any]:
    """Optimize a run; write routing.json when ``emit`` is given; return it.

    Without ``emit`` the document is returned with no classifier file.
    """
    from mre_eval.optimize.optimizer import optimize_run, parse_thresholds

    opt = optimize_run(run, thresholds=parse_thresholds(thresholds), folds=folds,
                       seed=seed, featurizer=featurizer, reports=reports)
    if emit is not None:
        return write_routing(opt, emit)
    return to_routing(opt, None, None)


def to_routing(opt: Optimization, classifier_file: str | None,
               classifier_sha256: str | None) -> dict[str, Any]:
    """The routing.json content of an optimization."""
    from mre_eval.llm import litellm_version

    return {
        "schema_version": SCHEMA_VERSION,
        "suite": {"name": opt.suite_name, "sha256": opt.suite_sha256},
        "results_sha256": opt.results_sha256,
        "price_snapshot": {"litellm_version": litellm_version()},
        "classifier": {"file": classifier_file, "sha256": classifier_sha256},
        "method": {"folds": opt.folds, "seed": opt.seed,
                   "featurizer": opt.featurizer,
                   "quality": "observed outcomes of the configuration each "
                              "request was sent to, on out-of-fold predictions"},
        "task_types": {name: task_entry(t) for name, t in opt.tasks.items()},
    }


def task_entry(task: TaskResult) -> dict[str, Any]:
    """One task type's section of routing.json."""
    spec, chosen = task.data.spec, task.chosen
    routes = _routes(task)
    expected = chosen.outcome
    return {
        "threshold": spec.threshold, "threshold_on": spec.threshold_on,
        "gate_on": spec.gate_on, "policy": chosen.kind, "met": chosen.meets,
        "message": task.unmet, "routes": routes, "routing_note": _routing_note(task),
        "folds": _folds(task),
        "expected_quality": expected.quality.as_dict(),
        "expected_cost_per_request": expected.cost,
        "baselines": _baselines(task),
        "savings": {"vs_most_capable_pct": _saving(expected.cost, task.capable.cost),
                    "vs_static_pct": _saving(expected.cost, task.static.outcome.cost)},
        "decision": _decision(task),
        "candidates": [s.as_dict() for s in task.stats],
        "prompt_economics": prompt_economics(task),
        "left_out": task.data.left_out,
    }


def load_routing(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read routing.json and its verified classifiers.

    Raises:
        ConfigError: when the file is missing, unreadable or another version.
        IntegrityError: when the classifier file's sha256 differs.
    """
    import joblib

    path = Path(path)
    try:
        routing = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read routing file {path}: {exc}: write one "
                          "with `mre-eval optimize --emit routing.json`") from exc
    if not isinstance(routing, dict):
        raise ConfigError(f"{path} holds a JSON {type(routing).__name__}, not a "
                          "routing object: write one with `mre-eval optimize "
                          "--emit routing.json`")
    version = routing.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ConfigError(f"{path} has routing schema version {version!r}; this "
                          f"mre-eval reads {SCHEMA_VERSION}: run optimize again")
    missing = [key for key in ("classifier", "task_types") if key not in routing]
    clf = routing.get("classifier")
    if not missing and not (isinstance(clf, dict) and {"file", "sha256"} <= set(clf)):
        missing = ["classifier.file", "classifier.sha256"]
    if missing:
        raise ConfigError(f"{path} lacks {', '.join(missing)}: it was edited or cut "
                          "short; run `mre-eval optimize --emit` again")
    clf_path = path.parent / clf["file"]
    if not clf_path.exists():
        raise IntegrityError(f"classifier file {clf_path} named by {path} is missing")
    actual = _sha256(clf_path)
    if actual != clf["sha256"]:
        raise IntegrityError(
            f"classifier file {clf_path} has sha256 {actual}, but {path} expects "
            f"{clf['sha256']}: it was changed or replaced; run optimize again")
    return routing, joblib.load(clf_path)["task_types"]


def _routes(task: TaskResult) -> list[dict[str, Any]]:
    cascade, configs = task.chosen.cascade, task.data.configs
    names = tier_names(len(cascade.members))
    litellm = task.data.litellm_models or [None] * len(configs)
    folds = task.chosen.folds
    return [{"tier": names[pos], "model": configs[m].model,
             "prompt_variant": configs[m].prompt_variant,
             "share": task.chosen.outcome.shares[pos],
             "litellm_model": litellm[m],
             "folds": ([j for j, c in enumerate(folds) if m in c.members]
                       if folds else None)}
            for pos, m in enumerate(cascade.members)]


def _routing_note(task: TaskResult) -> str | None:
    # A learned policy's folds may route by different cascades; say what that
    # means for one request and for the tier names.
    folds = task.chosen.folds
    if not folds:
        return None
    labels = [" -> ".join(task.data.configs[m].label for m in c.members)
              for c in folds]
    if len(set(labels)) == 1:
        return f"every fold routes by the same cascade: {labels[0]}"
    groups: dict[str, list[int]] = {}
    for j, label in enumerate(labels):
        groups.setdefault(label, []).append(j)
    parts = [f"{'fold' if len(js) == 1 else 'folds'} "
             f"{', '.join(map(str, js))}: {label}" for label, js in groups.items()]
    widest = max(len(c.members) for c in folds)
    tiers = len(task.chosen.cascade.members)
    return (f"the cascade differs by fold; a request is routed by the cascade of "
            f"its fold (a hash of its text), chosen without that fold's outcomes, "
            f"so it meets at most {widest} configuration"
            f"{'s' if widest > 1 else ''}; the {tiers} tiers are the configurations "
            f"requests land on, cheapest first, not nested levels: "
            + "; ".join(parts))


def _folds(task: TaskResult) -> list[dict[str, Any]]:
    # a learned policy routes each fold's traffic by that fold's cascade
    configs = task.data.configs
    return [{"fold": j, "cutoff_on": GAP if c.on_gap else "quality", "cascade": [
                {"model": configs[m].model,
                 "prompt_variant": configs[m].prompt_variant,
                 "cutoff": float(cut) if cut is not None else None}
                for m, cut in zip(c.members, [*c.cutoffs, None])]}
            for j, c in enumerate(task.chosen.folds)]


def _baselines(task: TaskResult) -> dict[str, Any]:
    capable, static = task.capable, task.static
    config = task.data.configs[static.cascade.members[0]]
    return {
        "most_capable": {"model": capable.model,
                         "prompt_variant": capable.prompt_variant,
                         "quality": capable.quality.as_dict(),
                         "cost_per_request": capable.cost},
        "static": {"model": config.model, "prompt_variant": config.prompt_variant,
                   "meets_threshold": static.meets,
                   "quality": static.outcome.quality.as_dict(),
                   "cost_per_request": static.outcome.cost},
        "oracle": {"quality": task.oracle.quality.as_dict(),
                   "cost_per_request": task.oracle.cost,
                   "note": "hindsight: the cheapest configuration reaching the best "
                           "observed quality on each request; no router can "
                           "know this, and on multiple choice luck inflates it"},
    }


def _decision(task: TaskResult) -> dict[str, Any]:
    static_label = task.data.configs[task.static.cascade.members[0]].label
    capable = task.capable
    alternatives = [{"policy": f"most capable: {capable.model} / "
                               f"{capable.prompt_variant}",
                     "quality": capable.quality.as_dict(),
                     "cost_per_request": capable.cost,
                     "meets_threshold": _meets(capable.quality, task)},
                    _alternative(f"{task.static.kind}: {static_label}", task.static)]
    if task.learned is not None:
        labels = " -> ".join(task.data.configs[m].label
                             for m in task.learned.cascade.members)
        alternatives.append(_alternative(f"learned: {labels}", task.learned))
    return {"chosen": task.chosen.kind, "reason": task.reason,
            "alternatives": alternatives, "search": task.record}


def _meets(quality: Any, task: TaskResult) -> bool:
    from mre_eval.optimize.policy import meets

    return meets(quality, task.data.spec.threshold, task.data.spec.gate_on)


def _alternative(name: str, choice: Any) -> dict[str, Any]:
    return {"policy": name, "quality": choice.outcome.quality.as_dict(),
            "cost_per_request": choice.outcome.cost,
            "meets_threshold": choice.meets}


def _saving(cost: float, reference: float) -> float | None:
    if reference <= 0:
        return None
    return 100.0 * (1.0 - cost / reference)


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
