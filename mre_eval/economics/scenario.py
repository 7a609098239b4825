"""A forecast scenario: traffic, price tiers and what caching does to them.

A scenario file (YAML) looks like::

    requests_per_day: 10000
    days_per_month: 30            # the default; months are 30 days
    most_capable_price: 0.15      # per request, everything on the best model
    multiples: [1, 10, 100]
    tiers:
      - {name: simple, share: 0.60, price: 0.01, cached_price: 0.008}
      - {name: moderate, share: 0.30, price: 0.05}
      - {name: complex, share: 0.10, price: 0.15}

A tier's price with caching is ``cached_price``, or ``price`` times one minus
``cache_hit_rate``; with neither, caching does not change it.  A tier may list
``volume_prices``: the price per request above a monthly volume, charged on
the requests beyond it.  Tiers may give their own ``requests_per_day`` instead
of a ``share`` of the total.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import (BaseModel, ConfigDict, Field, ValidationError,
                      field_validator, model_validator)

from mre_eval.economics.cacherates import CacheRates, StreamCache
from mre_eval.errors import ConfigError

_SHARE_SLACK = 1e-6


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VolumePrice(_Strict):
    """The price per request charged above a monthly volume."""

    above_requests_per_month: float = Field(ge=0)
    price: float = Field(ge=0)


class Tier(_Strict):
    """One price tier (or one task type) of the traffic."""

    name: str = Field(min_length=1)
    share: float | None = Field(None, ge=0, le=1)
    requests_per_day: float | None = Field(None, ge=0)
    price: float | None = Field(ge=0, description="per request; null = unpriced")
    cached_price: float | None = Field(None, ge=0)
    cache_hit_rate: float | None = Field(None, ge=0, lt=1)
    most_capable_price: float | None = Field(None, ge=0)
    volume_prices: list[VolumePrice] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_cache_figure(self) -> Tier:
        if self.cached_price is not None and self.cache_hit_rate is not None:
            raise ValueError(f"tier {self.name!r}: give cached_price or "
                             "cache_hit_rate, not both")
        return self


class Stream:
    """A tier resolved to a volume, with its month priced on demand."""

    def __init__(self, tier: Tier, requests_per_day: float,
                 baseline_price: float | None) -> None:
        self.name = tier.name
        self.requests_per_day = requests_per_day
        self.baseline_price = baseline_price
        self.tier = tier

    def month_cost(self, volume: float, cached: bool) -> float | None:
        """Cost of ``volume`` requests in a month, marginal volume prices applied."""
        tier = self.tier
        if tier.price is None:
            return None
        factor = self._cache_factor() if cached else 1.0
        breaks = sorted(tier.volume_prices, key=lambda v: v.above_requests_per_month)
        total, done, price = 0.0, 0.0, tier.price
        for vp in breaks:
            upto = min(volume, vp.above_requests_per_month)
            total += max(0.0, upto - done) * price
            done, price = max(done, upto), vp.price
        total += max(0.0, volume - done) * price
        return total * factor

    def _cache_factor(self) -> float:
        tier = self.tier
        if tier.cached_price is not None:
            return tier.cached_price / tier.price if tier.price else 1.0
        if tier.cache_hit_rate is not None:
            return 1 - tier.cache_hit_rate
        return 1.0


class Scenario(_Strict):
    """Traffic, tiers, and the growth multiples to project."""

    requests_per_day: float | None = Field(None, ge=0)
    days_per_month: float = Field(30.0, gt=0, le=31)
    most_capable_price: float | None = Field(None, ge=0)
    multiples: list[float] = Field(default_factory=lambda: [1.0, 10.0, 100.0],
                                   min_length=1)
    fixed_monthly_usd: float = Field(0.0, ge=0)
    monthly_budget: float | None = Field(None, ge=0)
    tiers: list[Tier] = Field(min_length=1)
    notes: list[str] = Field(default_factory=list)

    @field_validator("multiples")
    @classmethod
    def _ascending(cls, multiples: list[float]) -> list[float]:
        # growth is read against the smallest multiple, so it comes first
        if any(m <= 0 for m in multiples):
            raise ValueError(f"multiples {multiples} must all be positive")
        return sorted(multiples)

    @model_validator(mode="after")
    def _volumes(self) -> Scenario:
        shared = [t for t in self.tiers if t.requests_per_day is None]
        if shared and self.requests_per_day is None:
            raise ValueError("give requests_per_day, or a requests_per_day on "
                             "every tier")
        if shared:
            total = sum(t.share or 0.0 for t in shared)
            if abs(total - 1.0) > _SHARE_SLACK:
                raise ValueError(f"tier shares add up to {total:g}, not 1: "
                                 "fix the shares so they sum to 1")
        return self

    def streams(self) -> list[Stream]:
        """Each tier with its daily volume and its most-capable price."""
        out = []
        for tier in self.tiers:
            volume = tier.requests_per_day
            if volume is None:
                volume = (self.requests_per_day or 0.0) * (tier.share or 0.0)
            baseline = tier.most_capable_price
            if baseline is None:
                baseline = self.most_capable_price
            out.append(Stream(tier, volume, baseline))
        return out

    def assumptions(self) -> list[str]:
        """What the figures rest on, in words, for the report."""
        said = [f"months are {self.days_per_month:g} days",
                "cache hit rates are held at their measured value at every "
                "multiple (not extrapolated)"]
        if self.fixed_monthly_usd:
            said.append(f"a fixed {self.fixed_monthly_usd:,.2f} USD a month is "
                        "added to the routed bills")
        return said + list(self.notes)


def load_scenario(path: Path | str) -> Scenario:
    """Read and validate a scenario YAML file.

    Raises:
        ConfigError: naming the file and the field for any invalid value.
    """
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read scenario file {path}: {exc}") from exc
    return parse_scenario(data, str(path))


def parse_scenario(data: Any, where: str = "scenario") -> Scenario:
    """Validate scenario data, turning pydantic's errors into one ConfigError."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        at = ".".join(str(p) for p in first["loc"]) or "(top level)"
        value = first.get("input")
        raise ConfigError(
            f"{where}: {at}: {first['msg']} (got {value!r}); see "
            "docs/economics.md for the scenario format") from None


def from_costs(suite: Any, costs: Any, config: str, rates: CacheRates,
               days_per_month: float = 30.0,
               multiples: list[float] | None = None,
               ) -> tuple[Scenario, list[StreamCache]]:
    """A scenario of the suite's task types at their declared volumes.

    Args:
        suite: its task types' budgets give each one's requests per day.
        costs: a :class:`mre_eval.economics.routing.RoutedCosts`.
        config: the configuration being forecast, usually ``"routed"``.
        rates: the cache hit rate of each task type, and where it comes from.
        days_per_month: days in a billing month.
        multiples: growth multiples; 1, 10 and 100 when omitted.

    Returns:
        The scenario, and the cache figure each of its task types uses.

    Raises:
        ConfigError: when no task type declares a volume.
    """
    tiers, notes, caching = [], [], []
    for task in suite.task_types:
        volume = task.budget.requests_per_day if task.budget else None
        if volume is None:
            notes.append(f"{task.name} is left out: it declares no requests_per_day")
            continue
        best = costs.most_capable(task.name)
        cache = rates.for_task(task.name)
        caching.append(cache)
        tiers.append(Tier(
            name=task.name, requests_per_day=volume,
            price=costs.mean_cost(task.name, config), cache_hit_rate=cache.hit_rate,
            most_capable_price=None if best is None else
            costs.mean_cost(task.name, best)))
        if best is not None:
            notes.append(f"{task.name}: most capable is {best} (best mean score)")
    if not tiers:
        raise ConfigError(
            "no task type declares requests_per_day: add `budget: "
            "{requests_per_day: N}` to the suite's task types, or forecast a "
            "scenario file with --scenario")
    unused = rates.unused(t.name for t in suite.task_types)
    if unused:
        notes.append(f"the cache-sim report's figures for {', '.join(unused)} "
                     "are unused: the suite has no such task type")
    data = {"days_per_month": days_per_month, "tiers": [t.model_dump() for t in tiers],
            "notes": notes}
    if multiples:
        data["multiples"] = multiples
    return parse_scenario(data, "forecast"), caching
