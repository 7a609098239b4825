"""The command line as a user meets it."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from conftest import ROUTERBENCH_SUITE
from mre_eval.cli import app


def test_help_does_not_import_heavy_libraries() -> None:
    code = ("import sys; from mre_eval.cli import app\n"
            "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('litellm', 'pandas', 'sklearn', 'duckdb',"
            " 'matplotlib') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True).stdout
    assert "HEAVY []" in out
    for command in ("run", "validate", "runs", "show", "optimize", "route", "gate",
                    "report", "cache-sim", "budget", "forecast", "costs", "logs"):
        assert command in out


def test_run_show_and_runs(tmp_path) -> None:
    reports = str(tmp_path / "reports")
    runner = CliRunner()
    result = runner.invoke(app, ["run", str(ROUTERBENCH_SUITE), "--limit", "5",
                                 "--reports", reports])
    assert result.exit_code == 0, result.output
    assert "arc-challenge: threshold 0.90 on pass rate, 5 examples" in result.output
    assert "replayed recorded outcomes: no calls made, $0.00 spent" in result.output

    shown = runner.invoke(app, ["show", "--reports", reports, "--json"])
    assert shown.exit_code == 0
    summary = json.loads(shown.output)
    assert summary["totals"]["rows"] == 5 * 3 * 11
    assert len(summary["rows"]) == 33

    listed = runner.invoke(app, ["runs", "--reports", reports, "--json"])
    (run,) = json.loads(listed.output)
    assert run["status"] == "complete" and run["mode"] == "recorded"


def test_show_without_runs_is_bad_input(tmp_path) -> None:
    result = CliRunner().invoke(app, ["show", "--reports", str(tmp_path)])
    assert result.exit_code == 2
    assert "no runs under" in result.output


def test_run_needs_a_suite() -> None:
    result = CliRunner().invoke(app, ["run"])
    assert result.exit_code == 2
    assert "give a SUITE file" in result.output
