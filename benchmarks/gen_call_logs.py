"""Generate synthetic call logs in the observe record format, fast.

DuckDB writes the rows straight from SQL over ``range(n)``, so ten million
JSON lines take seconds, not the minutes a Python loop would.  The traffic is
a deterministic mix of five features over four weeks, with real model names
(so calls written without a cost are priced from litellm's map), a share of
calls logged without a cost, and a share of failed calls.

    python benchmarks/gen_call_logs.py 10000000 /tmp/calls.jsonl
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

# feature, share of calls (cumulative upper bound), base input tokens, output
FEATURES = (("chat", 0.50, 600, 150), ("summarize", 0.70, 4_100, 350),
            ("extract", 0.85, 1_500, 120), ("classify", 0.95, 300, 5),
            ("search", 1.00, 2_500, 200))

GENERATE_SQL = """
WITH base AS (
    SELECT i, hash(i) AS h, (hash(i * 7 + 1) % 1000000) / 1e6 AS u,
           (hash(i * 13 + 5) % 1000000) / 1e6 AS v
    FROM range({n}) t(i)
), shaped AS (
    SELECT *, {feature_case} AS feature, {input_case} AS base_in,
           {output_case} AS base_out FROM base
)
SELECT
    TIMESTAMP '2026-11-02 00:00:00' + to_microseconds(
        CAST(i * (2419200000000 // {n}) AS BIGINT)) AS ts,
    feature,
    CASE h % 10 WHEN 0 THEN 'enterprise' WHEN 1 THEN 'pro' WHEN 2 THEN 'pro'
         ELSE 'free' END AS user_tier,
    json_object('region', CASE h % 3 WHEN 0 THEN 'eu' ELSE 'us' END) AS tags,
    CASE WHEN feature = 'summarize' AND h % 5 < 4 THEN 'gpt-4o'
         WHEN feature = 'search' AND h % 2 = 0 THEN 'claude-sonnet-4-5'
         WHEN feature = 'extract' AND h % 10 = 0 THEN 'my-self-hosted-llm'
         ELSE 'gpt-4o-mini' END AS model,
    CAST(base_in * (0.5 + v) AS BIGINT) AS input_tokens,
    CAST(base_out * (0.5 + v) AS BIGINT) AS output_tokens,
    CASE WHEN feature = 'chat' THEN CAST(base_in * (0.5 + v) * 0.3 AS BIGINT)
         ELSE 0 END AS cached_tokens,
    0 AS reasoning_tokens,
    CAST(NULL AS DOUBLE) AS cost_usd,
    CAST(NULL AS VARCHAR) AS cost_source,
    round(0.2 + v * 2.5, 4) AS latency_s,
    CASE WHEN h % 100 = 0 THEN 'error' ELSE 'ok' END AS status,
    CASE WHEN h % 100 = 0 THEN 'RateLimitError: slow down' END AS error,
    md5(CAST(i AS VARCHAR)) || md5(CAST(h AS VARCHAR)) AS request_hash,
    CAST(base_in * (0.5 + v) * 4 AS BIGINT) AS request_chars,
    CAST(NULL AS VARCHAR) AS request_text
FROM shaped
"""


def generate_sql(n: int) -> str:
    """The query that produces ``n`` call records."""
    def case(index: int) -> str:
        arms = " ".join(f"WHEN u < {share} THEN {_lit(row[index])}"
                        for row in FEATURES for share in [row[1]])
        return f"CASE {arms} END"

    return GENERATE_SQL.format(n=n, feature_case=case(0), input_case=case(2),
                               output_case=case(3))


def generate(n: int, out: Path) -> float:
    """Write ``n`` records to ``out`` (``.jsonl`` or ``.parquet``); seconds taken."""
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect()
    kind = "parquet" if out.suffix == ".parquet" else "json"
    con.execute(f"COPY ({generate_sql(n)}) TO '{out}' (FORMAT {kind})")
    return time.perf_counter() - started


def _lit(value: object) -> str:
    return f"'{value}'" if isinstance(value, str) else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    seconds = generate(args.n, args.out)
    print(f"wrote {args.n:,} records to {args.out} in {seconds:.1f} s")


if __name__ == "__main__":
    main()
