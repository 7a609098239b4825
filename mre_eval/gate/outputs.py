"""The gate's verdicts in the forms CI systems show: JUnit XML, markdown, JSON.

JUnit: one ``testsuite`` per task type, one ``testcase`` per check, named
``<subject>: <check>`` with the task type as class name; a failed check
carries its measured figure and limit, a skipped one its reason.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

from mre_eval.gate.checks import Check
from mre_eval.gate.judge import GateResult
from mre_eval.results import atomic_write_text

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"
MARK = {"pass": "✅ pass", "fail": "❌ FAIL", "skip": "➖ skip"}


def junit_xml(result: GateResult) -> str:
    """The checks as a JUnit XML document."""
    root = ET.Element("testsuites", name="mre-eval gate",
                      tests=str(len(result.checks)),
                      failures=str(len(result.failed)))
    for task in dict.fromkeys(c.task_type for c in result.checks):
        cases = [c for c in result.checks if c.task_type == task]
        suite = ET.SubElement(
            root, "testsuite", name=task, tests=str(len(cases)),
            failures=str(sum(c.failed for c in cases)),
            skipped=str(sum(c.status == "skip" for c in cases)), errors="0")
        for check in cases:
            _testcase(suite, check)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _testcase(suite: ET.Element, check: Check) -> None:
    case = ET.SubElement(suite, "testcase", classname=check.task_type,
                         name=f"{check.subject}: {check.name}")
    text = f"{check.measured}; limit {check.limit}"
    if check.status == "fail":
        failure = ET.SubElement(
            case, "failure", type="GateFailure",
            message=f"{check.task_type} / {check.subject} / {check.name}: {text}")
        failure.text = text
    elif check.status == "skip":
        ET.SubElement(case, "skipped", message=check.measured)
    else:
        ET.SubElement(case, "system-out").text = text


def markdown(result: GateResult) -> str:
    """A markdown summary: verdict, what was judged, and the table of checks."""
    verdict = "passed" if result.passed else f"FAILED ({len(result.failed)} checks)"
    lines = [f"## mre-eval gate: {verdict}", "",
             f"- run: `{result.run}` (suite `{result.suite}`)",
             f"- baseline: `{result.baseline}`" if result.baseline
             else "- baseline: none (no regression checks)"]
    if result.routing:
        lines.append(f"- routing: `{result.routing}`")
    lines += [f"- {task}: judged {how}" for task, how in result.chosen_by.items()]
    lines += [f"- note: {note}" for note in result.notes]
    lines += ["", "| result | task type | subject | check | measured | limit |",
              "|---|---|---|---|---|---|"]
    ordered = sorted(result.checks, key=lambda c: c.status != "fail")
    for c in ordered:
        cells = [MARK[c.status], c.task_type, f"`{c.subject}`", c.name,
                 c.measured, c.limit]
        lines.append("| " + " | ".join(_cell(x) for x in cells) + " |")
    return "\n".join(lines) + "\n"


def json_text(result: GateResult) -> str:
    """The result as indented JSON."""
    return json.dumps(result.as_dict(), indent=2, allow_nan=False)


def write_outputs(result: GateResult, junit: Path | None,
                  summary_md: Path | None) -> list[Path]:
    """Write the requested files; append the markdown to GitHub's step summary.

    Returns:
        The files written or appended to.
    """
    written = []
    if junit is not None:
        atomic_write_text(junit, junit_xml(result))
        written.append(junit)
    if summary_md is not None:
        text = markdown(result)
        atomic_write_text(summary_md, text)
        written.append(summary_md)
        step_summary = os.environ.get(STEP_SUMMARY_ENV)
        if step_summary:
            with open(step_summary, "a", encoding="utf-8") as handle:
                handle.write(text + "\n")
            written.append(Path(step_summary))
    return written


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
