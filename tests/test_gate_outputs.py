"""JUnit XML, markdown and JSON renderings of a gate result."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from mre_eval.gate import GateOptions, GateResult
from mre_eval.gate.checks import Check
from mre_eval.gate.outputs import json_text, junit_xml, markdown


def _result() -> GateResult:
    checks = [
        Check("qa", "big:plain", "quality", "pass", "pass_rate 0.9", ">= 0.8", {}),
        Check("qa", "big:plain", "cost vs baseline", "skip",
              "cost unknown (unpriced) in a run", "-", {}),
        Check("chat|bot", "a|b:plain", "quality", "fail", "mean_score 0.4",
              ">= 0.5", {"point": float("nan")}),
    ]
    return GateResult("run-1", "demo", "run-0", None,
                      {"qa": "--config big", "chat|bot": "every configuration"},
                      checks, GateOptions(), ["the suite changed"])


def test_junit_has_a_suite_per_task_type_and_marks_skips_and_failures():
    root = ET.fromstring(junit_xml(_result()).split("\n", 1)[1])
    suites = {s.get("name"): s for s in root.iter("testsuite")}

    assert (root.get("tests"), root.get("failures")) == ("3", "1")
    assert suites["qa"].get("skipped") == "1"
    failure = suites["chat|bot"].find("testcase/failure")
    assert failure.get("message") == ("chat|bot / a|b:plain / quality: "
                                      "mean_score 0.4; limit >= 0.5")


def test_markdown_lists_failures_first_and_escapes_pipes():
    text = markdown(_result())
    rows = [line for line in text.splitlines() if line.startswith("| ")][1:]
    assert text.startswith("## mre-eval gate: FAILED (1 checks)")
    assert rows[0].startswith("| ❌ FAIL | chat\\|bot | `a\\|b:plain` |")
    assert "- note: the suite changed" in text


def test_json_is_strict_and_counts_statuses():
    data = json.loads(json_text(_result()))
    assert data["counts"] == {"pass": 1, "fail": 1, "skip": 1}
    assert data["checks"][2]["numbers"] == {"point": None}
    assert data["passed"] is False
