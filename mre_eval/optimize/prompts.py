"""Prompt economics: per tier, the cheapest prompt variant that keeps the bar.

A tier is one configuration: a model answering with one prompt variant.  For
every prompt variant of the tier's model, this module measures on the
requests the tier received (out of fold) the variant's quality, prompt tokens
and cost per request, and whether the task type would still meet its
threshold (judged the suite's way) had the tier used that variant, every
other request routed as before.  That is the bar; the cheapest variant that
keeps it is named.

A swap is measured on the same requests that shaped the tiers and is not
validated out of fold again: a cheaper variant named here is worth a new
optimize run that includes it, not a promise of its own.  A static or
fallback policy has one tier, ``all``, that receives every request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mre_eval.optimize.frontier import tier_names
from mre_eval.optimize.policy import estimate, meets

if TYPE_CHECKING:
    from mre_eval.optimize.search import TaskResult


def prompt_economics(task: TaskResult) -> list[dict[str, Any]]:
    """One entry per tier of the chosen policy, cheapest tier first."""
    chosen, data = task.chosen, task.data
    routed = chosen.routed
    if routed is None:
        routed = np.full(len(data.example_ids), chosen.cascade.members[0])
    received = data.quality[np.arange(len(routed)), routed]
    names = tier_names(len(chosen.cascade.members))
    return [_tier(task, names[pos], member, routed == member, received)
            for pos, member in enumerate(chosen.cascade.members)]


def _tier(task: TaskResult, name: str, member: int, mask: np.ndarray,
          received: np.ndarray) -> dict[str, Any]:
    data = task.data
    model = data.configs[member].model
    same_model = [i for i, c in enumerate(data.configs) if c.model == model]
    variants = sorted((_variant(task, i, mask, received) for i in same_model),
                      key=lambda v: (v["cost_per_request"] is None,
                                     v["cost_per_request"] or 0.0,
                                     v["prompt_variant"]))
    keeping = [v["prompt_variant"] for v in variants if v["keeps_threshold"]]
    return {"tier": name, "model": model,
            "prompt_variant": data.configs[member].prompt_variant,
            "requests": int(mask.sum()),
            "cheapest_meeting_bar": keeping[0] if keeping else None,
            "variants": variants}


def _variant(task: TaskResult, index: int, mask: np.ndarray,
             received: np.ndarray) -> dict[str, Any]:
    data, spec = task.data, task.data.spec
    config = data.configs[index]
    tokens = data.input_tokens[index] if data.input_tokens else None
    entry: dict[str, Any] = {"prompt_variant": config.prompt_variant,
                             "input_tokens": tokens, "quality_on_tier": None,
                             "cost_per_request": None, "keeps_threshold": None}
    if not mask.any():
        return entry  # no fit request landed on this tier: nothing to measure
    swapped = received.copy()
    swapped[mask] = data.quality[mask, index]
    entry["quality_on_tier"] = estimate(data.quality[mask, index],
                                        data.binary).as_dict()
    entry["cost_per_request"] = float(data.cost[mask, index].mean())
    entry["keeps_threshold"] = meets(estimate(swapped, data.binary),
                                     spec.threshold, spec.gate_on)
    return entry
