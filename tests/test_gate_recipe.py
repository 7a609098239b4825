"""The CI recipe of docs/ci.md works as written.

The set-up block, the plain shell step and the offline GitHub Actions job are
read out of docs/ci.md and run with bash, in that order, in a scratch folder
holding the offline routerbench suite.  Lines that install the package
(``pip install``) or commit (``git``) are left out: the package is already
installed in this environment and the scratch folder is no repository.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parent.parent
DOC = ROOT / "docs" / "ci.md"
SKIPPED = re.compile(r"^\s*(pip install|git )")


def recipe(name: str) -> str:
    """The code block that follows ``<!-- recipe: NAME -->`` in docs/ci.md."""
    found = re.search(rf"<!-- recipe: {name} -->\n```\w*\n(.*?)```",
                      DOC.read_text(), re.DOTALL)
    assert found, f"docs/ci.md has no recipe block {name!r}"
    return found.group(1)


def runnable(script: str) -> str:
    return "\n".join(line for line in script.splitlines()
                     if not SKIPPED.match(line)) + "\n"


def bash(script: str, folder: Path, **env: str) -> subprocess.CompletedProcess:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    environ = {**os.environ, "PATH": path, "COLUMNS": "200"}
    environ.pop("GITHUB_STEP_SUMMARY", None)
    environ.update(env)
    return subprocess.run(["bash", "-c", "set -eu\n" + runnable(script)],
                          cwd=folder, env=environ, capture_output=True,
                          text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("project")
    (folder / "suites").mkdir()
    shutil.copy(ROOT / "suites" / "routerbench.yaml", folder / "suites")
    (folder / "datasets").symlink_to(ROOT / "datasets")
    done = bash(recipe("setup"), folder)
    assert done.returncode == 0, done.stderr[-3000:]
    shutil.rmtree(folder / "reports")  # CI starts from a clean checkout
    return folder


def test_the_set_up_writes_the_policy_and_the_baseline(project):
    for name in ("routing/routerbench.json",
                 "routing/routerbench.classifier.joblib",
                 "baselines/routerbench/results.parquet",
                 "baselines/routerbench/suite.resolved.yaml",
                 "baselines/routerbench/run.json"):
        assert (project / name).is_file(), name


def test_the_shell_step_passes_and_writes_every_output(project):
    summary = project / "step-summary.md"
    done = bash(recipe("shell-step"), project, GITHUB_STEP_SUMMARY=str(summary))

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    suites = ET.parse(project / "gate.xml").getroot()
    assert int(suites.get("tests")) > 10 and suites.get("failures") == "0"
    assert "mre-eval gate: passed" in summary.read_text()
    assert "<svg" in (project / "report.html").read_text()


def test_the_offline_github_job_runs_as_written(project):
    workflow = yaml.safe_load(recipe("github-actions"))
    steps = workflow["jobs"]["gate-offline"]["steps"]
    commands = [step["run"] for step in steps if "run" in step]
    assert any(c.lstrip().startswith("mre-eval gate") for c in commands)
    for command in commands:
        done = bash(command, project)
        assert done.returncode == 0, (command, done.stderr[-3000:])


def test_the_shell_step_exits_with_the_gate_code_and_still_reports(project):
    # a policy that promises more than it delivers fails the gate (exit 1)
    policy = project / "routing" / "routerbench.json"
    kept = policy.read_text()
    broken = re.sub(r'"expected_cost_per_request": [0-9.e-]+',
                    '"expected_cost_per_request": 1e-07', kept)
    assert broken != kept
    (project / "report.html").unlink(missing_ok=True)
    policy.write_text(broken)
    try:
        done = bash(recipe("shell-step"), project)
    finally:
        policy.write_text(kept)

    assert done.returncode == 1, done.stderr[-3000:]
    assert "routing cost promise" in (project / "gate.md").read_text()
    assert (project / "report.html").is_file()
