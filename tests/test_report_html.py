"""`mre-eval report`: one self-contained HTML file with its plots inline."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

import mre_eval
from mre_eval.cli import app
from mre_eval.report.data import Point, mark_pareto
from mre_eval.gate.measure import CostFigure
from mre_eval.stats import Estimate
from test_gate_builders import Config, RunSpec, build_run
from test_gate_routing import LengthRouter, routing_file

runner = CliRunner()


class _Loads(HTMLParser):
    """Collects every URL the document would load or link to."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "data", "action") and value:
                self.urls.append(value)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = RunSpec({"qa": [Config("big", 0.9, 0.001), Config("small", 0.8, 0.0001),
                           Config("local", 0.7, None, errors=3)],
                    "summary": [Config("big", 0.7, 0.002)]}, examples=120)
    return build_run(tmp_path_factory.mktemp("report") / "run", spec)


@pytest.fixture(scope="module")
def html(run: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("out") / "report.html"
    result = runner.invoke(app, ["report", str(run), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out.read_text()


def test_the_report_holds_its_plots_inline(html):
    # a cost-quality plot per task type, spend by model, latency
    assert html.count("<svg") == 4
    assert "<img" not in html and "<?xml" not in html


def test_the_report_loads_no_remote_resource(html):
    parser = _Loads()
    parser.feed(html)
    remote = [u for u in parser.urls if re.match(r"(?i)(https?:)?//", u)]
    assert remote == []
    assert "link" not in parser.tags
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", html)
    # the only URLs left are the SVG and XLink namespace names
    assert set(re.findall(r"https?://[^\"'<> ]+", html)) == {
        "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def test_unpriced_calls_show_as_unpriced_never_zero(html):
    point = re.search(r"<tr><td>local</td>.*?</tr>", html).group(0)
    spend = html[html.index("Cost by model and task type"):]
    spent = re.search(r"<tr><td>local</td>.*?</tr>", spend).group(0)
    assert "<td>unpriced</td>" in point
    assert "unpriced (120 calls)" in spent
    assert "$0.00" not in point + spent
    assert "Not on the plot (some calls unpriced): local<" in html


def test_failed_calls_are_listed_with_an_error(html):
    section = html[html.index("Unpriced and failed calls"):]
    assert "<td>local</td><td>qa</td><td>120</td><td>3 (2.5%)</td>" in section
    assert "timeout" in section


def test_the_routing_policy_is_marked_with_its_decision_record(
        run, tmp_path, monkeypatch):
    monkeypatch.setattr(mre_eval, "Router", LengthRouter, raising=False)
    out = tmp_path / "routed.html"
    result = runner.invoke(app, ["report", str(run), "-o", str(out), "--routing",
                                 str(routing_file(tmp_path))])
    text = out.read_text()

    assert result.exit_code == 0, result.output
    assert "<!-- routed policy -->" in text  # the legend entry of the star
    assert "<td>routed policy</td>" in text
    assert "Routing policy: decision record" in text
    # the route as routing.json recorded it, and the examples sent there now
    assert "<td>t</td><td>big:plain</td><td>86.0%</td><td>102</td>" in text
    assert "<td>promised by routing.json (learned)</td>" in text
    assert "<td>replayed on this run</td>" in text


def test_a_missing_run_exits_2(tmp_path):
    result = runner.invoke(app, ["report", str(tmp_path / "none"), "-o",
                                 str(tmp_path / "r.html")])
    assert result.exit_code == 2
    assert "no run" in result.output


def _point(label: str, quality: float, cost: float | None) -> Point:
    figure = CostFigure(cost, 10 if cost is not None else 0,
                        0 if cost is not None else 10)
    return Point(label, Estimate(quality, quality, quality, 10), figure, 10, 0,
                 0.1, 0.2)


def test_pareto_frontier_keeps_only_undominated_priced_points():
    points = [_point("cheap", 0.6, 0.001), _point("dominated", 0.5, 0.002),
              _point("best", 0.9, 0.01), _point("tie-pricier", 0.6, 0.003),
              _point("unpriced", 0.95, None)]
    mark_pareto(points)
    assert [p.label for p in points if p.pareto] == ["cheap", "best"]


@pytest.mark.parametrize(("mode", "says_replayed"), [
    ("recorded", True), ("live", False)], ids=["recorded", "live"])
def test_a_replayed_run_says_it_spent_nothing(tmp_path, mode, says_replayed):
    run = build_run(tmp_path / "run", RunSpec({"qa": [Config("big", 0.9, 0.001)]},
                                               examples=20))
    meta = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**meta, "mode": mode}))
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", str(run), "-o", str(out)])

    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert ("it made no calls and spent nothing" in text) is says_replayed
    assert ("<!-- USD spent in this run" in text) is not says_replayed
