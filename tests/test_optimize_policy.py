"""Cascades: cut-offs on bare predictions or on the gap to the last member."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mre_eval.optimize.candidates import TaskSpec
from mre_eval.optimize.optimizer import optimize
from mre_eval.optimize.policy import Cascade
from mre_eval.optimize.router import Router
from mre_eval.optimize.routing_file import write_routing
from test_optimize_data import synthetic

# columns: cheap, strong.  Request 0 is easy for both, request 1 is hard for
# both, request 2 is one only the strong configuration gets right.
PREDICTED = np.array([[0.9, 0.95], [0.3, 0.35], [0.3, 0.9]])


@pytest.mark.parametrize(("on_gap", "cut", "expected"), [
    (False, 0.5, [0, 1, 1]),
    (True, -0.1, [0, 0, 1]),
    (True, 0.0, [1, 1, 1]),
], ids=["bare-prediction", "gap-sends-hard-for-all-to-cheap", "gap-zero"])
def test_cascade_reads_the_score_its_cutoffs_are_on(
        on_gap: bool, cut: float, expected: list[int]) -> None:
    cascade = Cascade((0, 1), (cut,), on_gap)
    assert cascade.configs(PREDICTED).tolist() == expected


@pytest.fixture(scope="module")
def routing_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    results, examples = synthetic(n=120)
    opt = optimize(results, examples, {"qa": TaskSpec("qa", 0.9)}, seed=0)
    path = tmp_path_factory.mktemp("policy") / "routing.json"
    write_routing(opt, path)
    return path


@pytest.mark.parametrize("cutoff_on", ["gap_to_last", "quality", None],
                         ids=["gap", "bare", "older-file-without-the-key"])
def test_router_replays_the_cascade_on_the_score_the_file_names(
        routing_path: Path, tmp_path: Path, cutoff_on: str | None) -> None:
    routing = json.loads(routing_path.read_text())
    for fold in routing["task_types"]["qa"]["folds"]:
        fold.pop("cutoff_on")
        if cutoff_on is not None:
            fold["cutoff_on"] = cutoff_on
        fold["cascade"][0]["cutoff"] = -0.2 if cutoff_on == "gap_to_last" else 0.5
    edited = tmp_path / "routing.json"
    edited.write_text(json.dumps(routing))
    (tmp_path / routing["classifier"]["file"]).write_bytes(
        (routing_path.parent / routing["classifier"]["file"]).read_bytes())
    router = Router.load(edited)
    texts = [f"what is {i} plus two, quickly" for i in range(5)] + [
        f"prove the theorem about primes number {i} rigorously" for i in range(5)]
    predicted = router._tasks["qa"].classifier.predict(texts)
    on_gap = cutoff_on == "gap_to_last"
    cut = -0.2 if on_gap else 0.5
    expected = Cascade((0, 1), (cut,), on_gap).configs(predicted)
    models = ["cheap" if e == 0 else "strong" for e in expected]
    assert [router.route("qa", t).model for t in texts] == models
    assert "cheap" in models and "strong" in models
