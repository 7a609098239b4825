"""Budgets: is each task type within its monthly budget and per-request limit?

A suite's task types may declare a budget: ``monthly_usd``, ``per_request_usd``,
``requests_per_day`` and ``monthly_growth``.  :func:`check_budgets` projects
this month's bill from a run's measured cost per request (one line per model
and prompt variant), or from a routing file's expected cost per request, at the
declared volume, and lists the requests above the per-request limit.

Projections use 30-day months unless told otherwise.  The mean cost per request
is taken over priced calls only; unpriced calls are counted and shown, never
treated as free.  A task type without a declared volume has no monthly figure.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from mre_eval.economics.routing import ROUTED, RoutedCosts
from mre_eval.errors import ConfigError

log = logging.getLogger(__name__)

DAYS_PER_MONTH = 30.0


@dataclass(frozen=True)
class OverLimit:
    """One request whose cost is above its task type's per-request limit."""

    task_type: str
    example_id: str
    config: str
    cost_usd: float
    limit_usd: float


@dataclass
class BudgetLine:
    """One task type under one configuration (or under the routing)."""

    task_type: str
    config: str
    cost_per_request: float | None
    priced: int
    unpriced: int
    requests_per_day: float | None
    monthly_usd: float | None
    budget_usd: float | None
    limit_usd: float | None
    over_limit: list[OverLimit] = field(default_factory=list)
    monthly_growth: float = 0.0

    @property
    def months_to_over(self) -> int | None:
        """Whole months until declared growth takes the bill over the budget.

        0 when it is over already; ``None`` when it never gets there or a
        figure is unknown.
        """
        from mre_eval.economics.forecast import months_to_budget

        return months_to_budget(self.monthly_usd, self.budget_usd,
                                self.monthly_growth)

    @property
    def over_budget(self) -> bool | None:
        """True or False when both figures are known; None when one is not."""
        if self.monthly_usd is None or self.budget_usd is None:
            return None
        return self.monthly_usd > self.budget_usd


@dataclass
class BudgetReport:
    """Every line, and the assumptions they rest on."""

    lines: list[BudgetLine]
    days_per_month: float
    source: str  # "run" or "routing"

    @property
    def over_budget(self) -> list[BudgetLine]:
        return [line for line in self.lines if line.over_budget]

    @property
    def over_limit(self) -> list[OverLimit]:
        return [o for line in self.lines for o in line.over_limit]

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json`` and the decision log."""
        return {
            "source": self.source, "days_per_month": self.days_per_month,
            "lines": [_line_dict(line) for line in self.lines],
            "over_budget": [f"{x.task_type} ({x.config})" for x in self.over_budget],
            "over_limit_requests": len(self.over_limit),
        }


def check_budgets(suite: Any, costs: RoutedCosts,
                  days_per_month: float = DAYS_PER_MONTH,
                  task_types: list[str] | None = None) -> BudgetReport:
    """Project each task type's month and find requests over the limit.

    Args:
        suite: the suite whose task types hold the budgets.
        costs: per task type and configuration, the cost of each request.
        days_per_month: days in a billing month.
        task_types: only these task types; all with a budget when omitted.

    Raises:
        ConfigError: for an unknown task type or a non-positive month length.
    """
    if days_per_month <= 0:
        raise ConfigError(
            f"days per month {days_per_month!r} is not allowed: give a positive "
            "number, e.g. 30")
    names = check_task_types(suite, task_types or [t.name for t in suite.task_types])
    lines = []
    for name in names:
        budget = suite.task(name).budget
        if budget is None and not task_types:
            continue
        for config, per_request in costs.by_config(name).items():
            if costs.source == "routing" and config != ROUTED:
                continue
            lines.append(_line(name, config, per_request, budget, days_per_month))
    if not lines:
        log.info("no task type declares a budget; add `budget:` to a task type")
    return BudgetReport(lines, days_per_month, costs.source)


def check_task_types(suite: Any, names: list[str]) -> list[str]:
    """``names`` if every one is a task type of ``suite``, else a ConfigError."""
    known = [t.name for t in suite.task_types]
    for name in names:
        if name not in known:
            raise ConfigError(
                f"unknown task type {name!r}: the suite {suite.name!r} has "
                f"{', '.join(known)}; check the spelling")
    return names


def monthly(cost_per_request: float | None, requests_per_day: float | None,
            days_per_month: float = DAYS_PER_MONTH) -> float | None:
    """The month's bill, or ``None`` when the cost or the volume is unknown."""
    if cost_per_request is None or requests_per_day is None:
        return None
    return cost_per_request * requests_per_day * days_per_month


def _line(task_type: str, config: str,
          per_request: dict[str, float | None] | float | None,
          budget: Any, days: float) -> BudgetLine:
    if not isinstance(per_request, dict):
        # an expected cost only: nothing per request to check against the limit
        per_request_known: dict[str, float | None] = {}
        mean = per_request
    else:
        per_request_known = per_request
    priced = {k: v for k, v in per_request_known.items() if v is not None}
    if per_request_known:
        mean = sum(priced.values()) / len(priced) if priced else None
    volume = budget.requests_per_day if budget else None
    limit = budget.per_request_usd if budget else None
    over = [] if limit is None else [
        OverLimit(task_type, ex, config, cost, limit)
        for ex, cost in sorted(priced.items(), key=lambda kv: -kv[1])
        if cost > limit]
    return BudgetLine(task_type, config, mean, len(priced),
                      len(per_request_known) - len(priced), volume,
                      monthly(mean, volume, days),
                      budget.monthly_usd if budget else None, limit, over,
                      budget.monthly_growth if budget else 0.0)


def _line_dict(line: BudgetLine) -> dict[str, Any]:
    return {
        "task_type": line.task_type, "config": line.config,
        "cost_per_request": line.cost_per_request, "priced": line.priced,
        "unpriced": line.unpriced, "requests_per_day": line.requests_per_day,
        "monthly_usd": line.monthly_usd, "budget_usd": line.budget_usd,
        "over_budget": line.over_budget, "per_request_limit_usd": line.limit_usd,
        "monthly_growth": line.monthly_growth,
        "months_to_over_budget": line.months_to_over,
        "over_limit": len(line.over_limit),
    }
