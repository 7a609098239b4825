"""Each configuration's measured quality and cost, and the cost-quality frontier.

A configuration is on the frontier when no other one is at least as good for
no more money (and strictly better in one of the two).  Learned policies
route only among frontier configurations: a dominated one is never the
cheaper way to a given quality on average.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mre_eval.optimize.candidates import TaskData
from mre_eval.optimize.policy import estimate
from mre_eval.stats import Estimate


@dataclass(frozen=True)
class ConfigStats:
    """One configuration measured on every example of its task type."""

    index: int
    model: str
    prompt_variant: str
    quality: Estimate
    cost: float
    input_tokens: float | None
    on_frontier: bool

    def as_dict(self) -> dict:
        return {"model": self.model, "prompt_variant": self.prompt_variant,
                "quality": self.quality.as_dict(), "cost_per_request": self.cost,
                "input_tokens": self.input_tokens, "on_frontier": self.on_frontier}


def config_stats(data: TaskData) -> list[ConfigStats]:
    """Quality (with 95% interval), mean cost and frontier flag per configuration."""
    means = data.quality.mean(axis=0)
    costs = data.cost.mean(axis=0)
    front = frontier_mask(means, costs)
    return [ConfigStats(i, c.model, c.prompt_variant,
                        estimate(data.quality[:, i], data.binary), float(costs[i]),
                        data.input_tokens[i] if data.input_tokens else None,
                        bool(front[i]))
            for i, c in enumerate(data.configs)]


def frontier_mask(quality: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Which points no other point dominates."""
    n = len(quality)
    mask = np.ones(n, dtype=bool)
    for i in range(n):
        better = (quality >= quality[i]) & (cost <= cost[i])
        strictly = (quality > quality[i]) | (cost < cost[i])
        mask[i] = not np.any(better & strictly)
    return mask


def most_capable(stats: list[ConfigStats]) -> ConfigStats:
    """The highest-quality configuration; the cheaper one on a tie."""
    return min(stats, key=lambda s: (-s.quality.point, s.cost, s.index))


def tier_names(count: int) -> list[str]:
    """Names for ``count`` tiers, from the simplest requests to the hardest."""
    named = {1: ["all"], 2: ["simple", "complex"],
             3: ["simple", "moderate", "complex"],
             4: ["simple", "moderate", "hard", "complex"]}
    return named.get(count, [f"tier-{i + 1}" for i in range(count)])
