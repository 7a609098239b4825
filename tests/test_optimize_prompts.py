"""Prompt economics: per tier, the cheapest prompt variant that keeps the bar."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from mre_eval.cli import app
from mre_eval.optimize.candidates import TaskSpec
from mre_eval.optimize.optimizer import optimize
from mre_eval.optimize.routing_file import to_routing
from mre_eval.results import EXAMPLE_COLUMNS, results_frame, write_results, write_table
from test_optimize_data import result_row

SPEC = {"qa": TaskSpec("qa", 0.9)}


def two_variants(n: int = 150) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One model with a short and a long prompt, and a costly strong model.

    Easy requests pass with either prompt; hard ones (they mention "theorem")
    pass only with the long prompt, which costs twice as much, or on "big".
    """
    rows, texts = [], []
    for i in range(n):
        hard = (i * 7919) % 100 < 30
        text = (f"prove the theorem about primes number {i} rigorously" if hard
                else f"what is {i} plus two, quickly")
        eid = f"e{i:03d}"
        texts.append({"example_id": eid, "task_type": "qa", "input": text,
                      "reference": None})
        for repeat in (0, 1):
            rows += [result_row(eid, "qa", "m", 0.0 if hard else 1.0, 0.001,
                                "short", repeat, 20),
                     result_row(eid, "qa", "m", 1.0, 0.002, "long", repeat, 60),
                     result_row(eid, "qa", "big", 1.0, 0.01, "long", repeat, 60)]
    return results_frame(rows), pd.DataFrame(texts)


@pytest.fixture(scope="module")
def routing() -> dict:
    return to_routing(optimize(*two_variants(), SPEC, seed=0), None, None)


def test_each_tier_names_the_cheapest_variant_that_keeps_the_threshold(
        routing: dict) -> None:
    entry = routing["task_types"]["qa"]
    assert entry["policy"] == "learned"
    tiers = {t["tier"]: t for t in entry["prompt_economics"]}
    assert [(t["model"], t["prompt_variant"]) for t in tiers.values()] == \
        [("m", "short"), ("m", "long")]
    # easy requests keep the bar with the short prompt; hard ones need the long
    assert tiers["simple"]["cheapest_meeting_bar"] == "short"
    assert tiers["complex"]["cheapest_meeting_bar"] == "long"
    hard = {v["prompt_variant"]: v for v in tiers["complex"]["variants"]}
    assert hard["short"]["keeps_threshold"] is False
    assert hard["short"]["quality_on_tier"]["point"] == pytest.approx(0.0)
    assert hard["long"]["quality_on_tier"]["point"] == pytest.approx(1.0)


def test_variants_show_prompt_tokens_and_cost_on_the_tier(routing: dict) -> None:
    tiers = routing["task_types"]["qa"]["prompt_economics"]
    assert sum(t["requests"] for t in tiers) == 150
    for tier in tiers:
        got = [(v["prompt_variant"], v["input_tokens"], v["cost_per_request"])
               for v in tier["variants"]]
        assert got == [("short", 20.0, pytest.approx(0.001)),
                       ("long", 60.0, pytest.approx(0.002))]


def test_a_fallback_has_one_tier_and_no_variant_keeps_the_bar() -> None:
    # 150 passes of 150 have a lower bound of about 0.975: 0.99 is unmet
    results, examples = two_variants()
    unmet = {"qa": TaskSpec("qa", 0.99)}
    entry = to_routing(optimize(results, examples, unmet, seed=0),
                       None, None)["task_types"]["qa"]
    assert entry["policy"] == "fallback"
    (tier,) = entry["prompt_economics"]
    assert (tier["tier"], tier["model"], tier["prompt_variant"]) == \
        ("all", "m", "long")
    assert tier["requests"] == 150
    assert tier["cheapest_meeting_bar"] is None
    assert [v["keeps_threshold"] for v in tier["variants"]] == [False, False]


def test_optimize_prints_the_prompt_variants_of_each_tier(tmp_path: Path) -> None:
    results, examples = two_variants()
    run = tmp_path / "run"
    run.mkdir()
    write_results(results, run / "results.parquet")
    write_table(examples, run / "examples.parquet", EXAMPLE_COLUMNS)
    result = CliRunner().invoke(app, ["optimize", str(run), "--threshold", "qa=0.9"])
    assert result.exit_code == 0, result.output
    assert "qa: prompt variants per tier" in result.output
    simple = next(line for line in result.output.splitlines()
                  if "simple: m" in line)
    assert "short" in simple and "routed, cheapest" in simple
