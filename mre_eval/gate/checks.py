"""The gate's checks on one served subject of one task type.

A subject is what the product serves for a task type: one configuration
(model x prompt variant) or a routed policy replayed on the run.  Each check
compares one measured figure with one limit and keeps both, so every output
(table, JUnit, markdown, JSON) can show the numbers behind a verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from mre_eval.console import pct, usd
from mre_eval.gate import measure
from mre_eval.gate.compare import cost_change, promise_shortfall_p

if TYPE_CHECKING:
    import pandas as pd

    from mre_eval.gate.compare import Comparison
    from mre_eval.suite import TaskType

Status = Literal["pass", "fail", "skip"]


@dataclass
class Subject:
    """What is served for one task type, and the results rows it served."""

    task_type: str
    label: str  # "model:variant", or the routing file's name
    kind: Literal["configuration", "routing"]
    rows: pd.DataFrame
    promise: dict[str, Any] | None = None
    choices: dict[str, int] = field(default_factory=dict)
    model: str | None = None  # set for a configuration
    variant: str | None = None


@dataclass(frozen=True)
class Check:
    """One verdict: a measured figure against a limit."""

    task_type: str
    subject: str
    name: str
    status: Status
    measured: str
    limit: str
    numbers: dict[str, Any]

    @property
    def failed(self) -> bool:
        return self.status == "fail"

    def as_dict(self) -> dict[str, Any]:
        return {"task_type": self.task_type, "subject": self.subject,
                "check": self.name, "status": self.status,
                "measured": self.measured, "limit": self.limit,
                "numbers": _plain(self.numbers)}


def quality_check(subject: Subject, task: TaskType) -> Check:
    """Quality (its 95% lower bound, or point, as the suite says) >= threshold."""
    est = measure.quality(subject.rows, task.threshold_on)
    judged = measure.gated_value(est, task.gate_on)
    ok = est.n > 0 and judged >= task.threshold
    which = "lower bound" if task.gate_on == "lower_bound" else "point"
    measured = (f"{task.threshold_on} {est.point:.3f} [{est.low:.3f}, "
                f"{est.high:.3f}] n={est.n}, judged on {which} {judged:.3f}")
    return _check(subject, "quality", ok, measured, f">= {task.threshold:.3f}",
                  {**est.as_dict(), "judged": judged, "gate_on": task.gate_on,
                   "threshold": task.threshold})


def failure_check(subject: Subject, max_share: float) -> Check:
    """The share of calls that failed after every retry stays within limits.

    Failed calls are not scored (quality rests on the calls that returned),
    so this check is what keeps a failing model from passing on its few
    answers.
    """
    failed = measure.failed_calls(subject.rows)
    share = measure.failed_share(subject.rows)
    return _check(subject, "failed calls", share <= max_share,
                  f"{failed} of {len(subject.rows)} calls failed ({pct(share)})",
                  f"<= {pct(max_share)}",
                  {"failed": failed, "calls": len(subject.rows), "share": share})


def budget_checks(subject: Subject, task: TaskType) -> list[Check]:
    """Cost per request and monthly cost against the task type's budget."""
    budget = task.budget
    if budget is None:
        return []
    cost = measure.cost_figure(subject.rows)
    checks = []
    if budget.per_request_usd is not None:
        checks.append(_cost_check(subject, "cost per request", cost,
                                  cost.per_request, budget.per_request_usd))
    if budget.monthly_usd is not None:
        checks.append(_monthly_check(subject, cost, budget.monthly_usd,
                                     budget.requests_per_day))
    return checks


def promise_checks(subject: Subject, task: TaskType, max_drop: float,
                   alpha: float, max_cost_increase: float) -> list[Check]:
    """A routed policy still keeps the quality and cost routing.json promised."""
    promise = subject.promise or {}
    checks = [_promise_quality_check(subject, task, promise, max_drop, alpha)]
    expected = promise.get("expected_cost_per_request")
    cost = measure.cost_figure(subject.rows)
    if expected is None:
        checks.append(_skip(subject, "routing cost promise",
                            "routing.json promised no cost (unpriced)"))
    else:
        limit = float(expected) * (1 + max_cost_increase)
        checks.append(_cost_check(subject, "routing cost promise", cost,
                                  cost.per_request, limit,
                                  f"<= {usd(limit)} (promised {usd(expected)}"
                                  f" + {pct(max_cost_increase, 0)})"))
    return checks


def _promise_quality_check(subject: Subject, task: TaskType,
                           promise: dict[str, Any], max_drop: float,
                           alpha: float) -> Check:
    # the policy must still meet its threshold, and must not fall short of
    # the quality it promised by more than the tolerance beyond noise
    on = promise.get("threshold_on", task.threshold_on)
    values = measure.example_quality(subject.rows, on)
    est = measure.quality(subject.rows, on)
    judged = measure.gated_value(est, promise.get("gate_on", task.gate_on))
    threshold = float(promise.get("threshold", task.threshold))
    expected = promise.get("expected_quality") or {}
    point = expected.get("point")
    numbers = {**est.as_dict(), "judged": judged, "threshold": threshold,
               "expected_quality": expected or None}
    measured = (f"{on} {est.point:.3f} [{est.low:.3f}, {est.high:.3f}] "
                f"n={est.n}; promised {_promised_quality(promise)}")
    limit = f">= {threshold:.3f}"
    shortfall_ok = True
    if point is not None:
        p_value = promise_shortfall_p(
            float(point), float(expected.get("low", point)),
            float(expected.get("high", point)),
            values.to_numpy(dtype=float), max_drop)
        shortfall = float(point) - est.point
        shortfall_ok = not (shortfall > max_drop and p_value < alpha)
        measured += f" (shortfall {shortfall:+.3f}, p={p_value:.4f})"
        limit += (f"; shortfall <= {max_drop:.3f}, or p >= {alpha:g} "
                  "that it exceeds it")
        numbers.update({"shortfall": shortfall, "p_value": p_value})
    ok = est.n > 0 and judged >= threshold and shortfall_ok
    return _check(subject, "routing quality promise", ok, measured, limit,
                  numbers)


def quality_regression_check(subject: Subject, comparison: Comparison | None,
                             max_drop: float, alpha: float) -> Check:
    """Quality against the baseline's same subject: no significant excess drop."""
    if comparison is None:
        return _skip(subject, "quality vs baseline",
                     "the baseline did not serve this subject")
    c = comparison
    # fails only when the drop exceeds the tolerance beyond noise
    ok = not (c.drop > max_drop and c.p_value < alpha)
    measured = (f"{c.baseline:.3f} -> {c.current:.3f} (drop {c.drop:+.3f}), "
                f"{c.test} p={c.p_value:.4f}, {c.paired} paired examples")
    return _check(subject, "quality vs baseline", ok, measured,
                  f"drop <= {max_drop:.3f}, or p >= {alpha:g} that it exceeds it",
                  {"baseline": c.baseline, "current": c.current,
                   "drop": c.drop, "p_value": c.p_value, "test": c.test,
                   "paired": c.paired, "n_baseline": c.n_baseline,
                   "n_current": c.n_current})


def cost_regression_check(subject: Subject, before: float | None,
                          now: float | None, max_increase: float) -> Check:
    """Cost per request against the baseline's, on the same examples.

    ``None`` is a cost with unpriced calls.  A cost that became unknown fails:
    nobody can tell whether it rose.
    """
    name, limit = "cost vs baseline", f"increase <= {pct(max_increase, 0)}"
    numbers = {"baseline_usd": before, "current_usd": now}
    if before is None:
        return _skip(subject, name, "the baseline's cost is unknown (unpriced)")
    if now is None:
        return _check(subject, name, False,
                      f"{usd(before)} -> unpriced: some calls now have no price",
                      limit, numbers)
    change = cost_change(before, now)
    return _check(subject, name, change <= max_increase,
                  f"{usd(before)} -> {usd(now)} per request ({change:+.1%})",
                  limit, {**numbers, "change": change})


def _cost_check(subject: Subject, name: str, cost: measure.CostFigure,
                value: float | None, limit: float,
                limit_text: str | None = None) -> Check:
    numbers = {"usd": value, "limit_usd": limit,
               "per_request_usd": cost.per_request,
               "priced_calls": cost.priced, "unpriced_calls": cost.unpriced}
    limit_text = limit_text or f"<= {usd(limit)}"
    if not cost.complete:
        # A budget cannot be shown to hold on calls whose price is unknown.
        return _check(subject, name, False,
                      f"{usd(value)} over {cost.priced} priced calls; "
                      f"{cost.unpriced} calls unpriced: add a price override",
                      limit_text, numbers)
    return _check(subject, name, value <= limit, f"{usd(value)} per request",
                  limit_text, numbers)


def _monthly_check(subject: Subject, cost: measure.CostFigure, limit: float,
                   per_day: float | None) -> Check:
    if per_day is None:
        return _skip(subject, "monthly cost",
                     "the budget declares no requests_per_day")
    monthly = measure.monthly_cost(cost.per_request, per_day)
    check = _cost_check(subject, "monthly cost", cost, monthly, limit)
    measured = (f"{usd(monthly)} a month at {per_day:g} requests/day"
                if cost.complete else check.measured)
    return Check(check.task_type, check.subject, check.name, check.status,
                 measured, check.limit,
                 {**check.numbers, "requests_per_day": per_day})


def _promised_quality(promise: dict[str, Any]) -> str:
    expected = promise.get("expected_quality") or {}
    if expected.get("point") is None:
        return "no estimate"
    return (f"{expected['point']:.3f} [{expected.get('low', math.nan):.3f}, "
            f"{expected.get('high', math.nan):.3f}]")


def _check(subject: Subject, name: str, ok: bool, measured: str, limit: str,
           numbers: dict[str, Any]) -> Check:
    return Check(subject.task_type, subject.label, name,
                 "pass" if ok else "fail", measured, limit, numbers)


def _skip(subject: Subject, name: str, why: str) -> Check:
    return Check(subject.task_type, subject.label, name, "skip", why, "-", {})


def _plain(numbers: dict[str, Any]) -> dict[str, Any]:
    # NaN and infinity are not JSON; print them as null
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in numbers.items()}
