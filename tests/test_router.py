"""The runtime router: loading, routing, batch routing and the lazy export."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from mre_eval import Router
from mre_eval.errors import ConfigError, DataError, IntegrityError
from mre_eval.optimize.candidates import Config, TaskSpec
from mre_eval.optimize.optimizer import optimize
from mre_eval.optimize.router import route_jsonl
from mre_eval.optimize.policy import Cascade
from mre_eval.optimize.routing_file import _routes, _routing_note, write_routing
from test_optimize_data import synthetic


@pytest.fixture(scope="module")
def routing_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    results, examples = synthetic(n=120)
    opt = optimize(results, examples, {"qa": TaskSpec("qa", 0.9)}, seed=0)
    path = tmp_path_factory.mktemp("router") / "routing.json"
    write_routing(opt, path)
    return path


def test_learned_router_sends_hard_requests_to_the_strong_model(
        routing_path: Path) -> None:
    router = Router.load(routing_path)
    easy = router.route("qa", "what is 5 plus two, quickly")
    hard = router.route("qa", "prove the theorem about primes number 7 rigorously")
    assert (easy.model, easy.tier) == ("cheap", "simple")
    assert (hard.model, hard.tier) == ("strong", "complex")
    assert 0.0 <= easy.predicted_quality <= 1.0


def test_unknown_task_type_is_refused(routing_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'nope' is not in this routing file"):
        Router.load(routing_path).route("nope", "hi")


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    results, examples = synthetic(n=120)
    files = []
    for name in ("a", "b"):
        opt = optimize(results, examples, {"qa": TaskSpec("qa", 0.9)}, seed=7)
        write_routing(opt, tmp_path / name / "routing.json")
        files.append([(tmp_path / name / f).read_bytes()
                      for f in ("routing.json", "routing.classifier.joblib")])
    assert files[0] == files[1]


def test_missing_or_other_version_routing_file_is_refused(
        routing_path: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read routing file"):
        Router.load(tmp_path / "absent.json")
    data = json.loads(routing_path.read_text())
    data["schema_version"] = 99
    other = tmp_path / "routing.json"
    other.write_text(json.dumps(data))
    (tmp_path / data["classifier"]["file"]).write_bytes(
        (routing_path.parent / data["classifier"]["file"]).read_bytes())
    with pytest.raises(ConfigError, match="schema version 99"):
        Router.load(other)


@pytest.mark.parametrize("edit, match", [
    (lambda d: d.pop("classifier"), "lacks classifier"),
    (lambda d: d.pop("task_types"), "lacks task_types"),
    (lambda d: d["classifier"].pop("sha256"), "lacks classifier.file"),
], ids=["no-classifier", "no-task-types", "no-sha256"])
def test_routing_file_cut_short_is_a_config_error(
        routing_path: Path, tmp_path: Path, edit, match: str) -> None:
    data = json.loads(routing_path.read_text())
    edit(data)
    cut = tmp_path / "routing.json"
    cut.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=match):
        Router.load(cut)


def test_routing_file_that_is_not_an_object_is_a_config_error(
        tmp_path: Path) -> None:
    listed = tmp_path / "routing.json"
    listed.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="JSON list, not a routing object"):
        Router.load(listed)


def test_missing_classifier_file_is_an_integrity_error(
        routing_path: Path, tmp_path: Path) -> None:
    copy = tmp_path / "routing.json"
    copy.write_text(routing_path.read_text())
    with pytest.raises(IntegrityError, match="missing"):
        Router.load(copy)


def test_route_jsonl_uses_each_line_task_type(routing_path: Path) -> None:
    router = Router.load(routing_path)
    lines = ['{"id": 1, "task_type": "qa", "text": "what is 1 plus two, quickly"}',
             "",
             '{"id": 2, "task_type": "qa", '
             '"input": "prove the theorem about primes number 9 rigorously"}']
    out = list(route_jsonl(router, lines, None))
    assert [(d["id"], d["line"], d["model"]) for d in out] == \
        [(1, 1, "cheap"), (2, 3, "strong")]


@pytest.mark.parametrize(("line", "message"),
                         [("not json", r"req.jsonl:1: not valid JSON"),
                          ("[1]", "a JSON object is needed"),
                          ('{"text": "hi"}', "task_type field")],
                         ids=["bad-json", "not-object", "no-task"])
def test_route_jsonl_names_the_bad_line(routing_path: Path, line: str,
                                        message: str) -> None:
    router = Router.load(routing_path)
    with pytest.raises(DataError, match=message):
        list(route_jsonl(router, [line], None, "req.jsonl"))


def test_importing_mre_eval_does_not_import_scikit_learn() -> None:
    code = ("import sys, mre_eval; from mre_eval import Router; "
            "print('sklearn' in sys.modules, 'pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_check_refuses_results_without_a_routed_configuration(
        routing_path: Path) -> None:
    from mre_eval.optimize.evaluate import check

    results, examples = synthetic(n=60)
    only_cheap = results[results["model"] == "cheap"]
    with pytest.raises(DataError, match="no priced answers of strong"):
        check(Router.load(routing_path), only_cheap, examples)


def test_check_measures_the_file_on_new_requests(routing_path: Path) -> None:
    from mre_eval.optimize.evaluate import check

    results, examples = synthetic(n=60)
    report = check(Router.load(routing_path), results, examples)["qa"]
    assert report.observed.point == pytest.approx(1.0)
    assert report.cost < report.static_cost
    assert report.as_dict()["saving_vs_static_pct"] > 0


def _task_with_folds(folds: tuple[Cascade, ...]) -> SimpleNamespace:
    configs = [Config(name, "v") for name in ("small", "mid", "big")]
    members = tuple(sorted({m for c in folds for m in c.members}))
    chosen = SimpleNamespace(folds=folds, cascade=Cascade(members, ()),
                             outcome=SimpleNamespace(shares=(0.1,) * len(members)))
    data = SimpleNamespace(configs=configs, litellm_models=[None] * 3)
    return SimpleNamespace(chosen=chosen, data=data)


def test_routes_name_their_folds_and_the_note_explains_mixed_cascades() -> None:
    task = _task_with_folds((Cascade((1, 2), (0.1,), True),
                             Cascade((2,), ()), Cascade((0, 2), (0.2,), True)))
    routes = _routes(task)
    assert [(r["tier"], r["model"], r["folds"]) for r in routes] == [
        ("simple", "small", [2]), ("moderate", "mid", [0]),
        ("complex", "big", [0, 1, 2])]
    note = _routing_note(task)
    assert "meets at most 2 configurations" in note
    assert "the 3 tiers are the configurations requests land on" in note
    assert "fold 0: mid / v -> big / v; fold 1: big / v; fold 2: small / v" in note


def test_the_note_says_so_when_every_fold_routes_alike() -> None:
    same = Cascade((0, 2), (0.1,), True)
    assert _routing_note(_task_with_folds((same, same))) == \
        "every fold routes by the same cascade: small / v -> big / v"
