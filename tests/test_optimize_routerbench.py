"""The optimizer on recorded RouterBench outcomes, checked on a kept-out split.

30% of the prompts never reach the optimizer; the emitted routing file is
then applied to them, and what happened is compared with what it promised.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from mre_eval import Router
from mre_eval.errors import IntegrityError
from mre_eval.optimize.candidates import TaskSpec
from mre_eval.optimize.classifier import fold_of
from mre_eval.optimize.evaluate import check
from mre_eval.optimize.litellm_export import litellm_config
from mre_eval.optimize.optimizer import optimize
from mre_eval.optimize.routing_file import write_routing
from mre_eval.optimize.selection import MAX_MEMBERS
from test_optimize_data import routerbench, split

SPECS = {"arc-challenge": TaskSpec("arc-challenge", 0.90),
         "mbpp": TaskSpec("mbpp", 0.60, gate_on="point")}


@pytest.fixture(scope="module")
def emitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:
    fit_r, fit_e, out_r, out_e = split(*routerbench())
    opt = optimize(fit_r, fit_e, SPECS, suite_name="routerbench", seed=0)
    path = tmp_path_factory.mktemp("routing") / "routing.json"
    routing = write_routing(opt, path)
    return path, routing, check(Router.load(path), out_r, out_e)


@pytest.mark.parametrize("task", sorted(SPECS), ids=sorted(SPECS))
def test_kept_out_quality_is_within_sampling_error_of_the_promise(
        emitted: tuple, task: str) -> None:
    _, _, checks = emitted
    c = checks[task]
    promise_se = (c.promised.high - c.promised.low) / (2 * 1.96)
    observed_se = math.sqrt(c.observed.point * (1 - c.observed.point) / c.observed.n)
    gap = abs(c.observed.point - c.promised.point)
    assert gap <= 1.96 * math.hypot(promise_se, observed_se)


@pytest.mark.parametrize("task", sorted(SPECS), ids=sorted(SPECS))
def test_kept_out_cost_is_no_higher_than_static(emitted: tuple, task: str) -> None:
    _, routing, checks = emitted
    assert checks[task].cost <= checks[task].static_cost * 1.000001
    entry = routing["task_types"][task]
    assert entry["expected_cost_per_request"] <= \
        entry["baselines"]["static"]["cost_per_request"]


def test_routing_file_round_trips(emitted: tuple) -> None:
    path, routing, _ = emitted
    assert json.loads(path.read_text()) == routing
    router = Router.load(path)
    for task, entry in routing["task_types"].items():
        decision = router.route(task, "Which gas do plants take in? A) O2 B) CO2")
        models = {(r["model"], r["prompt_variant"], r["tier"]) for r in entry["routes"]}
        assert (decision.model, decision.prompt_variant, decision.tier) in models
    assert set(routing) >= {"schema_version", "suite", "results_sha256",
                            "price_snapshot", "classifier", "task_types"}


def test_every_task_records_baselines_savings_and_decision(emitted: tuple) -> None:
    _, routing, _ = emitted
    for entry in routing["task_types"].values():
        assert set(entry["baselines"]) == {"most_capable", "static", "oracle"}
        assert entry["savings"]["vs_static_pct"] >= 0.0
        assert entry["decision"]["chosen"] == entry["policy"]
        assert entry["decision"]["alternatives"]
        assert sum(r["share"] for r in entry["routes"]) == pytest.approx(1.0)
        assert entry["expected_quality"]["n"] > 0


def test_tampered_classifier_is_refused(emitted: tuple, tmp_path: Path) -> None:
    path, routing, _ = emitted
    copy = tmp_path / "routing.json"
    shutil.copy(path, copy)
    clf = tmp_path / routing["classifier"]["file"]
    shutil.copy(path.parent / routing["classifier"]["file"], clf)
    clf.write_bytes(clf.read_bytes() + b"\0")
    with pytest.raises(IntegrityError, match="sha256"):
        Router.load(copy)


def test_fast_path_matches_the_pipelines(emitted: tuple) -> None:
    path, routing, _ = emitted
    router = Router.load(path)
    learned = [t for t, e in routing["task_types"].items() if e["policy"] == "learned"]
    assert learned, "expected at least one learned policy on routerbench"
    _, examples = routerbench()
    texts = examples["input"].head(40).tolist()
    clf = router._tasks[learned[0]].classifier
    batch = clf.predict(texts)
    for i, text in enumerate(texts):
        assert clf.predict_one(text) == pytest.approx(batch[i], abs=1e-9)


def test_litellm_export_names_each_tier(emitted: tuple) -> None:
    _, routing, _ = emitted
    config = litellm_config(routing)
    names = [m["model_name"] for m in config["model_list"]]
    expected = [f"{t}/{r['tier']}" for t, e in routing["task_types"].items()
                for r in e["routes"]]
    assert names == expected
    assert all(m["litellm_params"]["model"] for m in config["model_list"])


def test_each_request_meets_only_its_folds_cascade(emitted: tuple) -> None:
    path, routing, _ = emitted
    router = Router.load(path)
    _, _, _, out_e = split(*routerbench())
    for task, entry in routing["task_types"].items():
        if entry["policy"] != "learned":
            continue
        cascades = [[(s["model"], s["prompt_variant"]) for s in f["cascade"]]
                    for f in entry["folds"]]
        assert all(len(c) <= MAX_MEMBERS for c in cascades)
        for route in entry["routes"]:
            key = (route["model"], route["prompt_variant"])
            assert route["folds"] == [j for j, c in enumerate(cascades) if key in c]
        differ = len({tuple(c) for c in cascades}) > 1
        assert ("differs by fold" in entry["routing_note"]) == differ
        for text in out_e[out_e["task_type"] == task]["input"].head(60):
            fold = fold_of(text, routing["method"]["folds"], routing["method"]["seed"])
            decision = router.route(task, text)
            assert (decision.model, decision.prompt_variant) in cascades[fold]
