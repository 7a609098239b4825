"""Reading logs: JSON lines, OpenTelemetry spans, CSV with a mapping, SQLite."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from mre_eval.errors import ConfigError, DataError
from mre_eval.observe import ingest
from mre_eval.observe.csv_map import read_mapping

GOOD = {"ts": "2026-11-02T10:00:00Z", "feature": "chat", "model": "gpt-4o-mini",
        "input_tokens": 100, "output_tokens": 10, "cost_usd": 0.5, "status": "ok"}


def _load(tmp_path: Path, *paths: Path,
          **options) -> tuple[list[dict], ingest.Problems]:
    con = duckdb.connect()
    ingest.create_table(con)
    problems = ingest.load(con, list(paths), tmp_path, **options)
    cursor = con.execute("SELECT * FROM calls ORDER BY ts")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()], problems


def test_malformed_lines_are_counted_with_line_numbers(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    lines = [json.dumps(GOOD), "{not json", json.dumps({**GOOD, "input_tokens": "x"}),
             "", json.dumps({**GOOD, "model": None}), "[1, 2]", json.dumps(GOOD)]
    log.write_text("\n".join(lines) + "\n")
    rows, problems = _load(tmp_path, log)
    assert len(rows) == 2
    assert problems.malformed == 4
    assert [(line, reason.split(" ")[0]) for _, line, reason in problems.listed] == [
        (2, "not"), (3, "input_tokens"), (5, "missing"), (6, "not")]


def test_clean_log_takes_the_fast_path(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    log.write_text("".join(json.dumps({**GOOD, "tags": {"ab": "v1"}}) + "\n"
                           for _ in range(3)))
    rows, problems = _load(tmp_path, log)
    assert problems.malformed == 0 and len(rows) == 3
    assert rows[0]["cost_usd"] == 0.5 and json.loads(rows[0]["tags"]) == {"ab": "v1"}


def _attr(key: str, value: object) -> dict:
    kind = "intValue" if isinstance(value, int) else "stringValue"
    return {"key": key, "value": {kind: str(value) if kind == "intValue" else value}}


OTLP = {"resourceSpans": [{
    "resource": {"attributes": [_attr("app.feature", "summarize")]},
    "scopeSpans": [{"spans": [
        {"name": "chat gpt-4o", "startTimeUnixNano": "1793613600000000000",
         "endTimeUnixNano": "1793613601500000000",
         "attributes": [_attr("gen_ai.request.model", "gpt-4o"),
                        _attr("gen_ai.usage.input_tokens", 4100),
                        _attr("gen_ai.usage.output_tokens", 300),
                        _attr("user_tier", "pro")]},
        {"name": "db query", "startTimeUnixNano": "1793613600000000000",
         "attributes": [_attr("db.system", "postgresql")]},
        {"name": "chat failed", "startTimeUnixNano": "1793613602000000000",
         "status": {"code": 2, "message": "rate limited"},
         "attributes": [_attr("gen_ai.request.model", "gpt-4o")]},
    ]}]}]}


def test_otlp_json_genai_spans_become_records(tmp_path: Path) -> None:
    export = tmp_path / "traces.json"
    export.write_text(json.dumps(OTLP))
    rows, problems = _load(tmp_path, export)
    assert problems.skipped_spans == 1 and problems.malformed == 0
    ok, failed = rows
    assert ok["model"] == "gpt-4o" and ok["feature"] == "summarize"
    assert (ok["input_tokens"], ok["output_tokens"]) == (4100, 300)
    assert ok["user_tier"] == "pro" and ok["latency_s"] == pytest.approx(1.5)
    assert ok["cost_usd"] is None  # priced later, from the map
    assert failed["status"] == "error" and failed["error"] == "rate limited"


def test_flat_span_lines_are_read_and_bad_lines_located(tmp_path: Path) -> None:
    span = {"name": "chat", "context": {"trace_id": "0xab"},
            "start_time": "2026-11-02T10:00:00Z", "end_time": "2026-11-02T10:00:02Z",
            "attributes": {"gen_ai.request.model": "gpt-4o-mini", "feature": "chat",
                           "gen_ai.usage.input_tokens": 12,
                           "gen_ai.usage.output_tokens": 3}}
    export = tmp_path / "spans.jsonl"
    export.write_text(json.dumps(span) + "\n{oops\n" + json.dumps(span) + "\n")
    rows, problems = _load(tmp_path, export, fmt="otel")
    assert len(rows) == 2 and rows[0]["latency_s"] == pytest.approx(2.0)
    assert problems.malformed == 1 and problems.listed[0][1] == 2


CSV = """created_at,llm,endpoint,plan,prompt_tokens,completion_tokens,cost,duration_ms
2026-11-02T10:00:00Z,gpt-4o,summarize,pro,4100,300,0.12,1500
1793613600,gpt-4o-mini,chat,free,600,50,,200
2026-11-02T11:00:00Z,gpt-4o-mini,chat,free,lots,50,,200
"""


def test_csv_with_a_mapping(tmp_path: Path) -> None:
    export = tmp_path / "calls.csv"
    export.write_text(CSV)
    mapping = read_mapping(pairs=[
        "ts=created_at", "model=llm", "feature=endpoint", "user_tier=plan",
        "input_tokens=prompt_tokens", "output_tokens=completion_tokens",
        "cost_usd=cost", "latency_ms=duration_ms"])
    rows, problems = _load(tmp_path, export, mapping=mapping)
    chat, summarize = sorted(rows, key=lambda r: r["feature"])
    assert str(chat["ts"]) == "2026-11-02 10:00:00"  # from Unix seconds
    assert summarize["cost_usd"] == 0.12 and summarize["latency_s"] == 1.5
    assert chat["cost_usd"] is None and chat["input_tokens"] == 600
    assert problems.malformed == 1 and problems.listed[0][1] == 4


@pytest.mark.parametrize("pairs, match", [
    (["tokens_in=prompt_tokens"], "unknown field 'tokens_in'"),
    (["model"], "is not FIELD=COLUMN"),
], ids=["unknown-field", "no-equals"])
def test_bad_mapping_is_a_clear_error(pairs: list[str], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        read_mapping(pairs=pairs)


def test_mapped_column_missing_from_the_file(tmp_path: Path) -> None:
    export = tmp_path / "calls.csv"
    export.write_text(CSV)
    with pytest.raises(DataError,
                       match="mapped columns not in the file: model -> 'mdl'"):
        _load(tmp_path, export, mapping={"ts": "created_at", "model": "mdl"})


def test_sqlite_log_is_read(tmp_path: Path) -> None:
    from mre_eval.observe.writer import SqliteSink

    SqliteSink(tmp_path / "calls.db").append([{**GOOD, "tags": {"a": "b"}}] * 2)
    rows, _ = _load(tmp_path, tmp_path / "calls.db")
    assert len(rows) == 2 and rows[0]["feature"] == "chat"


def test_missing_log_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no log at"):
        _load(tmp_path, tmp_path / "nope.jsonl")


def test_fractional_token_count_is_malformed_not_rounded(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    log.write_text(json.dumps(GOOD) + "\n" + json.dumps({**GOOD, "input_tokens": 1.5})
                   + "\n")
    rows, problems = _load(tmp_path, log)
    assert [r["input_tokens"] for r in rows] == [100]
    assert problems.listed[0][1:] == (2, "input_tokens 1.5 is not a whole number")


def test_negative_token_count_is_malformed(tmp_path: Path) -> None:
    # a negative count would otherwise be priced by some rules and not others
    log = tmp_path / "calls.jsonl"
    log.write_text(json.dumps(GOOD) + "\n"
                   + json.dumps({**GOOD, "cache_write_tokens": -5}) + "\n")
    rows, problems = _load(tmp_path, log)
    assert len(rows) == 1
    assert problems.listed[0][1:] == (2, "cache_write_tokens -5 is negative")


def test_pretty_printed_spans_one_after_another(tmp_path: Path) -> None:
    span = {"name": "chat", "start_time": "2026-11-02T10:00:00Z",
            "attributes": {"gen_ai.request.model": "gpt-4o-mini",
                           "gen_ai.usage.input_tokens": 12,
                           "gen_ai.usage.output_tokens": 3}}
    export = tmp_path / "console.json"
    export.write_text(json.dumps(span, indent=4) + "\n" + json.dumps(span, indent=4))
    rows, problems = _load(tmp_path, export, fmt="otel")
    assert len(rows) == 2 and problems.malformed == 0


DATA = Path(__file__).parent / "observe_data"


@pytest.mark.parametrize("name", [
    "otel_console.json", "otlp_json_lines.jsonl", "otlp_proto_names.json",
], ids=["console-exporter", "otlp-json-lines", "otlp-proto-field-names"])
def test_recorded_sdk_exports_become_records(tmp_path: Path, name: str) -> None:
    rows, problems = _load(tmp_path, DATA / name)
    assert problems.skipped_spans == 1 and problems.malformed == 0
    ok, failed = rows
    assert (ok["model"], ok["feature"], ok["user_tier"]) == ("gpt-4o", "summarize",
                                                             "pro")
    assert (ok["input_tokens"], ok["output_tokens"]) == (4100, 300)
    assert str(ok["ts"]) == "2026-11-02 10:00:00"
    assert ok["latency_s"] == pytest.approx(1.5) and ok["status"] == "ok"
    assert (failed["model"], failed["status"]) == ("gpt-4o-mini", "error")
    assert failed["error"] == "rate limited" and failed["input_tokens"] is None
    assert failed["latency_s"] == pytest.approx(0.25)


def test_a_bad_line_among_otlp_export_lines_is_located(tmp_path: Path) -> None:
    request = (DATA / "otlp_json_lines.jsonl").read_text().strip()
    export = tmp_path / "export.jsonl"
    export.write_text(f"{request}\n{{truncated\n\n{request}\n")
    rows, problems = _load(tmp_path, export)
    assert len(rows) == 4 and problems.skipped_spans == 2
    assert [(line, reason[:8]) for _, line, reason in problems.listed] == [
        (2, "not JSON")]


@pytest.mark.parametrize("broken", [False, True], ids=["fast-path", "line-check"])
def test_timestamps_with_an_offset_are_read_as_utc(tmp_path: Path,
                                                   broken: bool) -> None:
    log = tmp_path / "calls.jsonl"
    stamps = ["2026-11-02T10:00:00+02:00", "2026-11-02T23:30:00-05:00",
              "2026-11-02T10:00:00"]
    lines = [json.dumps({**GOOD, "ts": ts}) for ts in stamps]
    log.write_text("\n".join(lines + (["{broken"] if broken else [])) + "\n")
    rows, problems = _load(tmp_path, log)
    assert sorted(str(r["ts"]) for r in rows) == [
        "2026-11-02 08:00:00", "2026-11-02 10:00:00", "2026-11-03 04:30:00"]
    assert problems.malformed == int(broken)


def test_iso_forms_duckdb_refuses_are_still_read(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    lines = [json.dumps({**GOOD, "ts": ts}) for ts in ("20261102T100000Z",
                                                       "2026-W45-1")]
    log.write_text("\n".join(lines) + "\n")
    rows, problems = _load(tmp_path, log)
    assert sorted(str(r["ts"]) for r in rows) == ["2026-11-02 00:00:00",
                                                  "2026-11-02 10:00:00"]
    assert problems.malformed == 0


def test_csv_rows_with_too_many_or_too_few_fields(tmp_path: Path) -> None:
    export = tmp_path / "calls.csv"
    export.write_text("ts,model,input_tokens,output_tokens\n"
                      "2026-11-02T10:00:00Z,gpt-4o,100,10\n"
                      "2026-11-02T10:00:01Z,gpt-4o,1,000,10\n"
                      "2026-11-02T10:00:02Z,gpt-4o,100\n")
    rows, problems = _load(tmp_path, export)
    assert [r["input_tokens"] for r in rows] == [100]
    assert [(line, reason) for _, line, reason in problems.listed] == [
        (3, "5 fields where the header has 4"),
        (4, "3 fields where the header has 4")]


def test_otel_cache_reads_and_writes_are_read(tmp_path: Path) -> None:
    span = {"resourceSpans": [{"scopeSpans": [{"spans": [
        {"name": "chat claude", "startTimeUnixNano": "1793613600000000000",
         "attributes": [
             _attr("gen_ai.request.model", "anthropic/claude-sonnet-4-5"),
             _attr("gen_ai.usage.input_tokens", 12000),
             _attr("gen_ai.usage.output_tokens", 300),
             _attr("gen_ai.usage.cache_read.input_tokens", 2000),
             _attr("gen_ai.usage.cache_creation.input_tokens", 9000)]}]}]}]}
    export = tmp_path / "traces.json"
    export.write_text(json.dumps(span))
    (row,), _ = _load(tmp_path, export)
    assert (row["cached_tokens"], row["cache_write_tokens"]) == (2000, 9000)


def test_csv_cache_write_column_is_mapped(tmp_path: Path) -> None:
    export = tmp_path / "calls.csv"
    export.write_text("created_at,llm,prompt,completion,writes\n"
                      "2026-11-02T10:00:00Z,gpt-4o,100,10,40\n")
    mapping = read_mapping(pairs=["ts=created_at", "model=llm",
                                  "input_tokens=prompt", "output_tokens=completion",
                                  "cache_write_tokens=writes"])
    (row,), problems = _load(tmp_path, export, mapping=mapping)
    assert problems.malformed == 0 and row["cache_write_tokens"] == 40


def test_sqlite_log_of_an_older_version_gains_the_new_column(tmp_path: Path) -> None:
    import sqlite3

    from mre_eval.observe.writer import SqliteSink

    path = tmp_path / "calls.db"
    old = [c for c in ingest.RECORD_COLUMNS if c != "cache_write_tokens"]
    con = sqlite3.connect(path)
    con.execute(f"CREATE TABLE calls ({', '.join(old)})")
    con.execute(f"INSERT INTO calls (ts, model, input_tokens, output_tokens) "
                f"VALUES ('2026-11-01T10:00:00Z', 'gpt-4o', 5, 1)")
    con.commit()
    con.close()
    SqliteSink(path).append([{**GOOD, "cache_write_tokens": 7}])
    rows, _ = _load(tmp_path, path)
    assert [r["cache_write_tokens"] for r in rows] == [None, 7]


def test_sqlite_log_without_one_hour_writes_gains_the_column(tmp_path: Path) -> None:
    import sqlite3

    from mre_eval.observe.writer import SqliteSink

    path = tmp_path / "calls.db"
    old = [c for c in ingest.RECORD_COLUMNS if c != "cache_write_1h_tokens"]
    con = sqlite3.connect(path)
    con.execute(f"CREATE TABLE calls ({', '.join(old)})")
    con.execute("INSERT INTO calls (ts, model, input_tokens, output_tokens, "
                "cache_write_tokens) VALUES ('2026-11-01T10:00:00Z', "
                "'claude-sonnet-4-5', 500, 1, 300)")
    con.commit()
    con.close()
    SqliteSink(path).append([{**GOOD, "cache_write_tokens": 7,
                              "cache_write_1h_tokens": 5}])
    rows, _ = _load(tmp_path, path)
    assert [(r["cache_write_tokens"], r["cache_write_1h_tokens"])
            for r in rows] == [(300, None), (7, 5)]


def test_json_lines_and_csv_carry_one_hour_writes(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    log.write_text(json.dumps({**GOOD, "cache_write_tokens": 9,
                               "cache_write_1h_tokens": 6}) + "\n"
                   + json.dumps({**GOOD, "ts": "2026-11-02T11:00:00Z"}) + "\n")
    rows, problems = _load(tmp_path, log)
    assert problems.malformed == 0
    assert [r["cache_write_1h_tokens"] for r in rows] == [6, None]

    export = tmp_path / "calls.csv"
    export.write_text("created_at,llm,prompt,completion,writes,writes_1h\n"
                      "2026-11-02T10:00:00Z,gpt-4o,100,10,40,30\n")
    mapping = read_mapping(pairs=["ts=created_at", "model=llm",
                                  "input_tokens=prompt", "output_tokens=completion",
                                  "cache_write_tokens=writes",
                                  "cache_write_1h_tokens=writes_1h"])
    (row,), problems = _load(tmp_path, export, mapping=mapping)
    assert problems.malformed == 0 and row["cache_write_1h_tokens"] == 30
