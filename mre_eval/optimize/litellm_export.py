"""The routing file's tiers as a LiteLLM Router / proxy configuration.

LiteLLM routes by model name, not by request content, so the export cannot
carry the classifier.  What it carries: one ``model_list`` entry per task
type and tier, named ``<task type>/<tier>``, calling the tier's model, and
fallbacks from each tier to the next more capable one.  The service asks
:class:`~mre_eval.optimize.router.Router` for the tier and then calls
LiteLLM with that name.  Prompt variants are not part of a LiteLLM
configuration: the service applies the variant the decision names.  API
keys and bases are left for the deployer to add.
"""

from __future__ import annotations

from typing import Any


def litellm_config(routing: dict[str, Any]) -> dict[str, Any]:
    """A ``model_list`` and ``router_settings`` for LiteLLM from routing.json."""
    model_list, fallbacks = [], []
    for task, entry in routing["task_types"].items():
        names = [f"{task}/{route['tier']}" for route in entry["routes"]]
        for name, route in zip(names, entry["routes"]):
            model_list.append({
                "model_name": name,
                "litellm_params": {"model": route.get("litellm_model")
                                   or route["model"]},
                "model_info": {"mre_eval": {
                    "task_type": task, "tier": route["tier"],
                    "model": route["model"],
                    "prompt_variant": route["prompt_variant"],
                    "expected_share": route["share"],
                    "folds": route.get("folds"),
                    "policy": entry["policy"]}},
            })
        fallbacks += [{low: [high]} for low, high in zip(names, names[1:])]
    return {"model_list": model_list, "router_settings": {"fallbacks": fallbacks}}


def litellm_yaml(routing: dict[str, Any]) -> str:
    """:func:`litellm_config` as YAML text, with a header saying what it is."""
    import yaml

    header = ("# LiteLLM configuration exported by `mre-eval route --format litellm`.\n"
              "# Ask mre_eval.Router for each request's tier, then call the model\n"
              "# named '<task type>/<tier>'. Add api_key / api_base per deployment.\n")
    return header + yaml.safe_dump(litellm_config(routing), sort_keys=False)
