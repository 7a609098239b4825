"""The report opened in a real headless Chromium: its plots are drawn.

Skipped when Chromium is not installed (Debian: ``apt-get install -y chromium
chromium-driver``).  Runs scripts/render_report_chromium.py's check.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from mre_eval.report import write_report
from test_gate_builders import Config, RunSpec, build_run

SCRIPT = Path(__file__).parent.parent / "scripts" / "render_report_chromium.py"


def _script():
    spec = importlib.util.spec_from_file_location("render_report_chromium", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


check = _script()
CHROMIUM = check.find_chromium()


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed "
                    "(apt-get install -y chromium chromium-driver)")
def test_chromium_draws_every_plot(tmp_path):
    spec = RunSpec({"qa": [Config("big", 0.9, 0.001), Config("small", 0.7, 0.0001)],
                    "summary": [Config("big", 0.7, 0.002)]}, examples=60)
    run = build_run(tmp_path / "run", spec)
    html = write_report(run, tmp_path / "report.html")

    result = check.check_report(html, tmp_path / "report.png", CHROMIUM)

    assert result.problems == []
    assert result.plots == 4
    assert all(width > 300 and height > 100 for width, height in result.drawn)
    assert result.colours >= 16
    # each plot's own box on the screenshot holds a drawing
    assert len(result.plot_colours) == 4
    assert all(n >= check.MIN_PLOT_COLOURS for n in result.plot_colours)
    assert result.resources == 0


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_chromium_check_fails_on_a_blank_plot_and_a_remote_resource(tmp_path):
    run = build_run(tmp_path / "run", RunSpec(
        {"qa": [Config("big", 0.9, 0.001), Config("small", 0.7, 0.0001)]},
        examples=40))
    text = write_report(run, tmp_path / "report.html").read_text()
    start = text.index("<svg")
    opening = text[start:text.index(">", start) + 1]
    end = text.index("</svg>", start) + len("</svg>")
    broken = tmp_path / "broken.html"
    broken.write_text((text[:start] + opening + "</svg>" + text[end:]).replace(
        "<body>", "<body><img src=\"http://127.0.0.1:9/a.png\">", 1))

    result = check.check_report(broken, tmp_path / "broken.png", CHROMIUM)

    assert result.plot_colours[0] < check.MIN_PLOT_COLOURS
    assert result.resources == 1
    assert len(result.problems) == 2, result.problems
