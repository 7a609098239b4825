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
