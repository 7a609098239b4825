"""Logged calls priced in SQL match price_call row by row, tiers included."""

from __future__ import annotations

import duckdb
import pytest

from mre_eval.observe.prices import create_priced_view
from mre_eval.observe.record import NO_PRICE
from mre_eval.pricing import price_call
from mre_eval.usage import Usage

BEDROCK_CLAUDE = "anthropic.claude-sonnet-4-5-20250929-v1:0"
# a Claude model with a cache-write rate and no one-hour write rate
NO_1H_RATE = "anthropic.claude-3-7-sonnet-20250219-v1:0"

ROWS = [
    # model, input, output, cached, written, of which one-hour, reasoning
    ("gemini-2.5-pro", 200_000, 1_000, 0, 0, 0, 0),
    ("gemini-2.5-pro", 200_001, 1_000, 50_000, 0, 0, 0),
    ("gpt-5.4", 300_000, 2_000, 100_000, 0, 0, 500),
    (BEDROCK_CLAUDE, 250_000, 500, 20_000, 100_000, 0, 0),
    (BEDROCK_CLAUDE, 150_000, 500, 20_000, 100_000, 0, 0),
    ("xai/grok-4.3", 200_000, 10, 0, 0, 0, 0),
    ("xai/grok-4.3", 199_999, 10, 0, 0, 0, 0),
    ("gpt-4o", None, 10, 0, 0, 0, 0),
    (BEDROCK_CLAUDE, 250_000, 500, 20_000, 100_000, 70_000, 0),
    (BEDROCK_CLAUDE, 150_000, 500, 20_000, 100_000, 70_000, 0),
    # a log from before one-hour writes were kept: not reported, five-minute
    (BEDROCK_CLAUDE, 150_000, 500, 20_000, 100_000, None, 0),
    # more one-hour writes than writes: capped by the writes, as price_call does
    (BEDROCK_CLAUDE, 150_000, 500, 20_000, 100_000, 120_000, 0),
    (NO_1H_RATE, 50_000, 500, 0, 10_000, 0, 0),
    (NO_1H_RATE, 50_000, 500, 0, 10_000, 4_000, 0),
]


def _priced_view(rows: list[tuple]) -> tuple[duckdb.DuckDBPyConnection, dict]:
    con = duckdb.connect()
    con.execute("CREATE TABLE raw_calls (id INTEGER, model VARCHAR, "
                "input_tokens BIGINT, output_tokens BIGINT, cached_tokens BIGINT, "
                "cache_write_tokens BIGINT, cache_write_1h_tokens BIGINT, "
                "reasoning_tokens BIGINT, cost_usd DOUBLE, cost_source VARCHAR)")
    con.executemany("INSERT INTO raw_calls VALUES "
                    "(?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                    [(i, *row) for i, row in enumerate(rows)])
    assert create_priced_view(con) == []
    got = {i: (usd, source) for i, usd, source in con.execute(
        "SELECT id, cost_usd, cost_source FROM priced_calls").fetchall()}
    return con, got


def test_the_view_charges_each_row_at_its_tier() -> None:
    _, got = _priced_view(ROWS)

    assert len(got) == len(ROWS)
    for i, (model, prompt, output, cached, written, one_hour,
            reasoning) in enumerate(ROWS):
        if prompt is None:
            assert got[i] == (None, None)
            continue
        cost = price_call(model, Usage(prompt, output, cached_tokens=cached,
                                       cache_write_tokens=written,
                                       cache_write_1h_tokens=one_hour,
                                       reasoning_tokens=reasoning))
        if cost.usd is None:
            assert got[i] == (None, NO_PRICE), (model, prompt, one_hour)
            continue
        assert got[i][0] == pytest.approx(cost.usd, rel=1e-9), (model, prompt)
        assert got[i][1] == "price_map"
    # the tiers do change these rows' figures
    assert got[1][0] > 1.5 * got[0][0]
    assert got[5][0] > 1.5 * got[6][0]


def test_the_view_charges_one_hour_writes_at_the_map_rate() -> None:
    from mre_eval.llm import litellm_module

    info = litellm_module().model_cost[BEDROCK_CLAUDE]
    _, got = _priced_view(ROWS)

    extra = 70_000 * (info["cache_creation_input_token_cost_above_1hr"]
                      - info["cache_creation_input_token_cost"])
    assert got[9][0] - got[4][0] == pytest.approx(extra, rel=1e-9)
    above = "_above_200k_tokens"
    extra_above = 70_000 * (
        info[f"cache_creation_input_token_cost_above_1hr{above}"]
        - info[f"cache_creation_input_token_cost{above}"])
    assert got[8][0] - got[3][0] == pytest.approx(extra_above, rel=1e-9)
    # not reported means five-minute; a model without a one-hour rate is
    # unpriced only when a row did write for one hour
    assert got[10][0] == pytest.approx(got[4][0], rel=1e-12)
    assert got[12][1] == "price_map" and got[13] == (None, NO_PRICE)
