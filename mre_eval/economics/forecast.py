"""The monthly bill at today's traffic and at 10x and 100x, routed and cached.

A forecast is a set of traffic streams (price tiers from a scenario file, or
task types from a run and its routing file), each with a volume, a price per
request, a price with caching, and the price of sending it to the most capable
model instead.  :func:`project` prices a month at each growth multiple and says
where cost grows faster or slower than traffic, and why.

What is modelled, and nothing more: volume price breaks a scenario declares
(marginal prices above a monthly volume), a fixed monthly cost (such as the
cache's own hosting), and budgets crossed.  The cache hit rate is held at its
measured value at every multiple: more traffic usually repeats more, so this
overstates the bill at high volume rather than understating it.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

from mre_eval.economics.cacherates import StreamCache, from_tier
from mre_eval.economics.scenario import Scenario, Stream
from mre_eval.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_MULTIPLES = (1.0, 10.0, 100.0)
_IN_STEP = 0.005  # cost within 0.5% of traffic growth counts as growing with it


@dataclass(frozen=True)
class StreamMonth:
    """One stream's month at one multiple."""

    name: str
    requests: float
    routed_usd: float | None
    cached_usd: float | None
    baseline_usd: float | None


@dataclass(frozen=True)
class Projection:
    """The whole bill at one growth multiple."""

    multiple: float
    requests: float
    streams: list[StreamMonth]
    fixed_usd: float

    @property
    def routed_usd(self) -> float | None:
        return _total([s.routed_usd for s in self.streams], self.fixed_usd)

    @property
    def cached_usd(self) -> float | None:
        return _total([s.cached_usd for s in self.streams], self.fixed_usd)

    @property
    def baseline_usd(self) -> float | None:
        return _total([s.baseline_usd for s in self.streams], 0.0)

    @property
    def reduction(self) -> float | None:
        """Share of the all-most-capable bill the routed, cached bill saves."""
        if self.cached_usd is None or not self.baseline_usd:
            return None
        return 1 - self.cached_usd / self.baseline_usd


@dataclass
class Forecast:
    """Projections at every multiple, and what they rest on."""

    projections: list[Projection]
    days_per_month: float
    monthly_budget: float | None
    assumptions: list[str]
    findings: list[str] = field(default_factory=list)  # budgets crossed, per task
    caching: list[StreamCache] = field(default_factory=list)  # one per stream

    def growth_notes(self) -> list[str]:
        """Where cost grows faster or slower than traffic, with the numbers."""
        notes = []
        base = self.projections[0]
        for proj in self.projections[1:]:
            notes.append(_growth_note(base, proj))
            if self.monthly_budget is not None and proj.cached_usd is not None \
                    and proj.cached_usd > self.monthly_budget:
                notes.append(f"at {proj.multiple:g}x the bill {proj.cached_usd:,.0f}"
                             f" USD is over the {self.monthly_budget:,.0f} USD budget")
        return notes

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json`` and the decision log."""
        return {
            "days_per_month": self.days_per_month,
            "monthly_budget": self.monthly_budget,
            "assumptions": self.assumptions,
            "projections": [{
                "multiple": p.multiple, "requests_per_month": p.requests,
                "routed_usd": p.routed_usd, "routed_cached_usd": p.cached_usd,
                "most_capable_usd": p.baseline_usd, "reduction": p.reduction,
                "streams": [s.__dict__ for s in p.streams],
            } for p in self.projections],
            "caching": [c.__dict__ for c in self.caching],
            "growth": self.growth_notes(),
            "budgets": self.findings,
        }


def project(scenario: Scenario,
            caching: list[StreamCache] | None = None) -> Forecast:
    """Price a month of ``scenario`` at each of its growth multiples.

    Args:
        scenario: the streams, their volumes and prices.
        caching: where each stream's cache figure comes from; read from the
            scenario's tiers when omitted.
    """
    days = scenario.days_per_month
    projections = []
    for m in scenario.multiples:
        months = [_stream_month(s, m, days) for s in scenario.streams()]
        projections.append(Projection(m, sum(x.requests for x in months), months,
                                      scenario.fixed_monthly_usd))
    if caching is None:
        caching = [from_tier(t) for t in scenario.tiers]
    return Forecast(projections, days, scenario.monthly_budget,
                    scenario.assumptions(), caching=caching)


def months_to_budget(monthly_now: float | None, budget: float | None,
                     growth: float) -> int | None:
    """Whole months until a bill growing by ``growth`` a month exceeds ``budget``.

    0 when it already does; ``None`` when it never will or a figure is unknown.
    """
    if monthly_now is None or budget is None:
        return None
    if monthly_now > budget:
        return 0
    if growth <= 0 or monthly_now == 0:
        return None
    return math.floor(math.log(budget / monthly_now) / math.log(1 + growth)) + 1


def _stream_month(stream: Stream, multiple: float, days: float) -> StreamMonth:
    volume = stream.requests_per_day * multiple * days
    routed = stream.month_cost(volume, cached=False)
    cached = stream.month_cost(volume, cached=True)
    baseline = None if stream.baseline_price is None else \
        volume * stream.baseline_price
    return StreamMonth(stream.name, volume, routed, cached, baseline)


def _growth_note(base: Projection, proj: Projection) -> str:
    traffic = proj.requests / base.requests if base.requests else float("nan")
    if base.cached_usd is None or proj.cached_usd is None or not base.cached_usd:
        return f"at {proj.multiple:g}x traffic the bill cannot be compared: unpriced"
    ratio = proj.cached_usd / base.cached_usd
    if ratio > traffic * (1 + _IN_STEP):
        how = "faster than traffic"
    elif ratio < traffic * (1 - _IN_STEP):
        how = "slower than traffic"
    else:
        how = "in step with traffic"
    why = _why(base, proj)
    return (f"at {traffic:g}x traffic the bill is {ratio:.3g}x "
            f"({base.cached_usd:,.0f} -> {proj.cached_usd:,.0f} USD): "
            f"grows {how}{why}")


def _why(base: Projection, proj: Projection) -> str:
    reasons = []
    if base.fixed_usd:
        reasons.append("the fixed monthly cost is spread over more requests")
    for old, new in zip(base.streams, proj.streams):
        if old.cached_usd and new.cached_usd and old.requests:
            unit_old = old.cached_usd / old.requests
            unit_new = new.cached_usd / new.requests
            if abs(unit_new - unit_old) > 1e-12 * max(unit_old, 1e-12):
                reasons.append(f"{new.name} costs {unit_new:.4g} USD a request "
                               f"instead of {unit_old:.4g} (volume prices)")
    return f" because {'; '.join(reasons)}" if reasons else ""


def _total(values: list[float | None], fixed: float) -> float | None:
    if any(v is None for v in values):
        return None
    return float(sum(v for v in values if v is not None)) + fixed


def check_multiples(multiples: list[float]) -> list[float]:
    """Growth multiples must be positive; returned sorted, 1x first if given."""
    bad = [m for m in multiples if not m > 0]
    if bad or not multiples:
        raise ConfigError(
            f"growth multiples {bad or multiples} are not allowed: give positive "
            "numbers, e.g. 1,10,100")
    return sorted(multiples)
