"""The cost breakdown on logs whose totals are known by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mre_eval.errors import ConfigError
from mre_eval.observe.costs import cost_report, report_csv
from mre_eval.pricing import price_call
from mre_eval.usage import Usage


def _call(ts: str, feature: str, model: str, cost: float | None, **extra) -> dict:
    return {"ts": ts, "feature": feature, "model": model, "cost_usd": cost,
            "status": "ok", "user_tier": "free", "input_tokens": 600,
            "output_tokens": 50, "latency_s": 0.5, **extra}


def known_calls() -> list[dict]:
    """9 calls: $0.60 priced (one from the price map), 2 unpriced, 1 error."""
    week1, week2 = "2026-11-03T10:00:00Z", "2026-11-10T10:00:00Z"
    return [
        _call(week1, "chat", "gpt-4o-mini", 0.03),
        _call(week2, "chat", "gpt-4o-mini", 0.03),
        _call(week2, "chat", "gpt-4o-mini", 0.03),
        _call(week2, "chat", "gpt-4o-mini", None, status="error",
              input_tokens=None, output_tokens=None),
        *[_call(week2, "summarize", "gpt-4o", 0.12, input_tokens=4100,
                output_tokens=300, user_tier="pro") for _ in range(3)],
        _call(week2, "extract", "my-self-hosted-llm", None),
        _call(week2, "extract", "gpt-4o-mini", None, input_tokens=1_000_000,
              output_tokens=0),  # priced from the map: $0.15
    ]


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "calls.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in known_calls()))
    return path


def test_totals_and_per_feature_figures(log: Path) -> None:
    report = cost_report([log], threads=1)
    totals = report.totals
    assert totals["calls"] == 9 and totals["unpriced_calls"] == 2
    assert totals["cost_usd"] == pytest.approx(0.60)
    features = {r["key"]: r for r in report.breakdowns["feature"]}
    assert features["summarize"]["cost_per_request"] == pytest.approx(0.12)
    assert features["chat"]["cost_per_request"] == pytest.approx(0.03)
    assert features["chat"]["error_rate"] == pytest.approx(0.25)
    assert features["extract"]["unpriced_calls"] == 1
    assert features["summarize"]["cost_share"] == pytest.approx(0.36 / 0.60)
    assert totals["days_with_calls"] == 2
    assert features["summarize"]["requests_per_day"] == pytest.approx(1.5)
    assert [r["key"] for r in report.breakdowns["feature"]] == [
        "summarize", "extract", "chat"]


def test_drivers_show_why_summarize_costs_more(log: Path) -> None:
    report = cost_report([log], explain=("summarize", "chat"), threads=1)
    drivers = {d["feature"]: d for d in report.drivers}
    assert drivers["summarize"]["input_tokens_per_request"] == 4100
    assert drivers["summarize"]["model_mix"] == [{"model": "gpt-4o", "share": 1.0}]
    explained = report.explain
    assert explained["ratios"]["cost_per_request"] == pytest.approx(4.0)
    assert explained["ratios"]["tokens_per_request"] == pytest.approx(4400 / 650)
    assert "4,100 in + 300 out" in explained["summary"]


def test_unknown_feature_to_explain(log: Path) -> None:
    with pytest.raises(ConfigError, match="no calls of feature 'search'"):
        cost_report([log], explain=("search", "chat"), threads=1)


def test_week_over_week_movers(log: Path) -> None:
    report = cost_report([log], by="week", threads=1)
    assert [p["calls"] for p in report.periods] == [1, 8]
    top = report.movers[0]
    assert (top["dimension"], top["key"]) in {("feature", "summarize"),
                                              ("model", "gpt-4o"),
                                              ("user_tier", "pro")}
    assert top["delta_usd"] == pytest.approx(0.36)
    chat = next(m for m in report.movers
                if (m["dimension"], m["key"]) == ("feature", "chat"))
    assert chat["volume_effect_usd"] == pytest.approx(0.03)
    assert chat["per_request_effect_usd"] == pytest.approx(0.0)


def test_map_pricing_in_sql_matches_price_call(tmp_path: Path) -> None:
    usage = Usage(1000, 200, cached_tokens=400, reasoning_tokens=50)
    path = tmp_path / "calls.jsonl"
    path.write_text(json.dumps(_call("2026-11-03T10:00:00Z", "chat", "gpt-4o-mini",
                                     None, input_tokens=1000, output_tokens=200,
                                     cached_tokens=400, reasoning_tokens=50)) + "\n")
    report = cost_report([path], threads=1)
    expected = price_call("gpt-4o-mini", usage).usd
    assert report.totals["cost_usd"] == pytest.approx(expected, rel=1e-12)
    assert report.totals["unpriced_calls"] == 0


def test_length_buckets_and_csv_out(log: Path) -> None:
    report = cost_report([log], threads=1)
    buckets = {r["key"]: r["calls"] for r in report.breakdowns["complexity"]}
    assert buckets == {"medium (500-2k tok)": 4, "long (2k-8k tok)": 3,
                       "very long (8k+ tok)": 1, "unknown length": 1}
    text = report_csv(report)
    assert text.splitlines()[0].startswith("section,")
    assert sum(1 for line in text.splitlines() if line.startswith("by_feature,")) == 3


def test_since_until_keep_one_week(log: Path) -> None:
    from datetime import datetime

    report = cost_report([log], since=datetime(2026, 11, 9),
                         until=datetime(2026, 11, 16), threads=1)
    assert report.totals["calls"] == 8


class _Decision:
    def __init__(self, tier: str) -> None:
        self.tier = tier


class _FakeRouter:
    """Stands in for mre_eval.Router: 'hard' when the text mentions a table."""

    @classmethod
    def load(cls, path: Path) -> _FakeRouter:
        return cls()

    def route(self, task_type: str, text: str) -> _Decision:
        return _Decision("hard" if "table" in text else "easy")


def test_complexity_from_a_routing_file(tmp_path: Path, monkeypatch) -> None:
    import mre_eval

    monkeypatch.setattr(mre_eval, "Router", _FakeRouter, raising=False)
    routing = tmp_path / "routing.json"
    routing.write_text("{}")
    calls = known_calls()
    calls[0]["request_text"] = "make a table of these"
    calls[1]["request_text"] = "hello"
    path = tmp_path / "calls.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in calls))
    report = cost_report([path], routing=routing, threads=1)
    tiers = {r["key"]: r["calls"] for r in report.breakdowns["complexity"]}
    assert tiers == {"hard": 1, "easy": 1, "no text kept": 7}
    assert report.complexity_source.startswith("router tiers")


def test_missing_routing_file_is_a_config_error(log: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no routing file at"):
        cost_report([log], routing=tmp_path / "nope.json", threads=1)


def test_routing_file_of_another_version_is_a_config_error(
        log: Path, tmp_path: Path, monkeypatch) -> None:
    import mre_eval

    class _OldFormat:
        @classmethod
        def load(cls, path: Path) -> None:
            raise KeyError("folds")

    monkeypatch.setattr(mre_eval, "Router", _OldFormat, raising=False)
    routing = tmp_path / "routing.json"
    routing.write_text("{}")
    with pytest.raises(ConfigError, match="could not be loaded as a routing file"):
        cost_report([log], routing=routing, threads=1)


def test_cache_writes_priced_in_sql_as_price_call_prices_them(tmp_path: Path) -> None:
    claude = "anthropic/claude-sonnet-4-5"
    usage = Usage(12_000, 300, cached_tokens=2_000, cache_write_tokens=9_000)
    path = tmp_path / "calls.jsonl"
    path.write_text(json.dumps(_call(
        "2026-11-03T10:00:00Z", "chat", claude, None, input_tokens=12_000,
        output_tokens=300, cached_tokens=2_000, cache_write_tokens=9_000)) + "\n")
    report = cost_report([path], threads=1)
    expected = price_call(claude, usage).usd
    assert expected > price_call(claude, Usage(12_000, 300, cached_tokens=2_000)).usd
    assert report.totals["cost_usd"] == pytest.approx(expected, rel=1e-12)
    assert report.totals["unpriced_calls"] == 0


def test_cache_writes_on_a_model_without_a_write_rate_stay_unpriced(
        tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    path.write_text(
        json.dumps(_call("2026-11-03T10:00:00Z", "chat", "gpt-4o", None,
                         input_tokens=1000, output_tokens=10,
                         cache_write_tokens=800)) + "\n"
        + json.dumps(_call("2026-11-03T10:00:00Z", "chat", "gpt-4o", None,
                           input_tokens=1000, output_tokens=10)) + "\n")
    report = cost_report([path], threads=1)
    assert report.totals["unpriced_calls"] == 1
    assert report.totals["cost_usd"] == pytest.approx(
        price_call("gpt-4o", Usage(1000, 10)).usd, rel=1e-12)
