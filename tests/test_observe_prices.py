"""Logged calls priced in SQL match price_call row by row, tiers included."""

from __future__ import annotations

import duckdb
import pytest

from mre_eval.observe.prices import create_priced_view
from mre_eval.pricing import Usage, price_call

ROWS = [
    # model, input, output, cached, written, reasoning
    ("gemini-2.5-pro", 200_000, 1_000, 0, 0, 0),
    ("gemini-2.5-pro", 200_001, 1_000, 50_000, 0, 0),
    ("gpt-5.4", 300_000, 2_000, 100_000, 0, 500),
    ("anthropic.claude-sonnet-4-5-20250929-v1:0", 250_000, 500, 20_000, 100_000, 0),
    ("anthropic.claude-sonnet-4-5-20250929-v1:0", 150_000, 500, 20_000, 100_000, 0),
    ("xai/grok-4.3", 200_000, 10, 0, 0, 0),
    ("xai/grok-4.3", 199_999, 10, 0, 0, 0),
    ("gpt-4o", None, 10, 0, 0, 0),
]


def test_the_view_charges_each_row_at_its_tier() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE raw_calls (id INTEGER, model VARCHAR, "
                "input_tokens BIGINT, output_tokens BIGINT, cached_tokens BIGINT, "
                "cache_write_tokens BIGINT, reasoning_tokens BIGINT, "
                "cost_usd DOUBLE, cost_source VARCHAR)")
    con.executemany("INSERT INTO raw_calls VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                    [(i, *row) for i, row in enumerate(ROWS)])

    assert create_priced_view(con) == []
    got = dict(con.execute("SELECT id, cost_usd FROM priced_calls").fetchall())

    assert len(got) == len(ROWS)
    for i, (model, prompt, output, cached, written, reasoning) in enumerate(ROWS):
        if prompt is None:
            assert got[i] is None
            continue
        expected = price_call(model, Usage(prompt, output, cached_tokens=cached,
                                           cache_write_tokens=written,
                                           reasoning_tokens=reasoning)).usd
        assert got[i] == pytest.approx(expected, rel=1e-9), (model, prompt)
    # the tiers do change these rows' figures
    assert got[1] > 1.5 * got[0]
    assert got[5] > 1.5 * got[6]
