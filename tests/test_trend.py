"""Trend alerts over dated runs and production series."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from economics_helpers import make_run
from mre_eval.cli import app
from mre_eval.economics.trend import Point, alerts, from_csv, series_alerts
from mre_eval.errors import DataError


def point(label: str, requests: int, cost: float, quality: float | None = None,
          low: float | None = None, high: float | None = None) -> Point:
    return Point(label, label, requests, cost, 0, quality, low, high)


def test_cost_per_request_outgrowing_volume_is_flagged_with_numbers() -> None:
    flags = alerts([point("2026-01", 1000, 10.0), point("2026-02", 1100, 16.5)])

    assert [a.kind for a in flags] == ["cost_outgrows_volume"]
    assert "+50.0%" in flags[0].message and "+10.0%" in flags[0].message
    assert "$0.01 -> $0.015" in flags[0].message


def test_cost_growing_with_volume_is_not_flagged() -> None:
    # twice the traffic, same cost per request
    assert alerts([point("a", 1000, 10.0), point("b", 2000, 20.0)]) == []


def test_quality_down_while_cost_up_is_flagged_and_judged_for_noise() -> None:
    clear = alerts([point("a", 100, 1.0, 0.90, 0.85, 0.95),
                    point("b", 300, 3.3, 0.70, 0.60, 0.80)])
    noisy = alerts([point("a", 100, 1.0, 0.90, 0.80, 0.97),
                    point("b", 300, 3.3, 0.88, 0.78, 0.95)])

    down = [a for a in clear if a.kind == "quality_down_cost_up"]
    assert down and down[0].significant
    assert "0.900 -> 0.700" in down[0].message
    noisy_down = [a for a in noisy if a.kind == "quality_down_cost_up"]
    assert noisy_down and not noisy_down[0].significant
    assert "may be noise" in noisy_down[0].message


def test_points_are_compared_in_date_order() -> None:
    flags = alerts([point("2026-03", 1000, 20.0), point("2026-01", 1000, 10.0)])

    assert [(a.before, a.after) for a in flags] == [("2026-01", "2026-03")]


def test_runs_become_points_with_quality_intervals(tmp_path: Path) -> None:
    make_run(tmp_path, "r1", "2026-11-01T00:00:00+00:00", small_cost=0.01,
             small_score=1.0)
    make_run(tmp_path, "r2", "2026-11-08T00:00:00+00:00", small_cost=0.02,
             small_score=0.0)
    points, flags = series_alerts([tmp_path / "r1", tmp_path / "r2"], None,
                                  model="small")

    assert [p.label for p in points] == ["r1", "r2"]
    assert points[0].quality == 1.0 and points[1].quality == 0.0
    assert points[0].quality_high == 1.0 and points[1].quality_low == 0.0
    assert {a.kind for a in flags} == {"cost_outgrows_volume",
                                       "quality_down_cost_up"}


def test_csv_series(tmp_path: Path) -> None:
    path = tmp_path / "series.csv"
    path.write_text("date,requests,cost_usd,quality\n"
                    "2026-01-01,1000,10,0.9\n2026-02-01,1000,12,0.8\n")
    points, flags = series_alerts(None, path)

    assert points[1].cost_per_request == pytest.approx(0.012)
    assert {a.kind for a in flags} == {"cost_outgrows_volume",
                                       "quality_down_cost_up"}


def test_dates_are_ordered_as_moments_not_as_text(tmp_path: Path) -> None:
    path = tmp_path / "series.csv"
    # as text "2026-01-01T09:00:00+05:00" sorts after the 06:00 UTC point
    path.write_text("date,requests,cost_usd\n"
                    "2026-01-01T06:00:00+00:00,100,2\n"
                    "2026-01-01T09:00:00+05:00,100,1\n")
    points, flags = series_alerts(None, path)

    assert [p.cost_usd for p in points] == [1.0, 2.0]
    assert [a.kind for a in flags] == ["cost_outgrows_volume"]


@pytest.mark.parametrize("text,match", [
    ("date,cost_usd\n2026-01-01,1\n", r"columns \['requests'\] are missing"),
    ("date,requests,cost_usd\n2026-01-01,-3,1\n", r"series.csv:2: requests -3"),
    ("date,requests,cost_usd\n2026-01-01,3,1\n01/02/2026,3,1\n",
     r"series.csv:3: date '01/02/2026' is not an ISO date"),
    ("date,requests,cost_usd\n2026-01-01,3,-1\n", r"series.csv:2: cost_usd -1"),
], ids=["missing-column", "negative-volume", "not-a-date", "negative-cost"])
def test_bad_series_files_are_refused(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "series.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=match):
        from_csv(path)


def test_one_point_is_not_a_trend(tmp_path: Path) -> None:
    path = tmp_path / "series.csv"
    path.write_text("date,requests,cost_usd\n2026-01-01,10,1\n")
    with pytest.raises(DataError, match="at least two dated points, found 1"):
        series_alerts(None, path)


def test_cli_trend_json(tmp_path: Path) -> None:
    path = tmp_path / "series.csv"
    path.write_text("date,requests,cost_usd\n2026-01-01,100,1\n2026-02-01,100,2\n")
    result = CliRunner().invoke(app, ["trend", "--series", str(path), "--json"])

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [a["kind"] for a in data["alerts"]] == ["cost_outgrows_volume"]
    assert data["points"][1]["cost_per_request"] == pytest.approx(0.02)


def test_cli_trend_table_prints_the_alert(tmp_path: Path) -> None:
    path = tmp_path / "series.csv"
    path.write_text("date,requests,cost_usd\n2026-01-01,100,1\n2026-02-01,100,2\n")
    result = CliRunner().invoke(app, ["trend", "--series", str(path)])

    assert result.exit_code == 0, result.output
    assert "ALERT cost_outgrows_volume" in result.output
