"""The CI quality gate: thresholds, budgets, regressions and routing promises.

``run_gate`` judges a run and returns a :class:`GateResult`; ``outputs``
renders it as JUnit XML, markdown and JSON.
"""

from mre_eval.gate.judge import GateOptions, GateResult, run_gate

__all__ = ["GateOptions", "GateResult", "run_gate"]
