"""The optimizer: from a run's results to the cheapest policy per task type.

Modules, in the order data flows through them:

- ``candidates``: every (model, prompt variant) per task type, as matrices;
- ``frontier``: each configuration's quality, cost and the frontier;
- ``features`` and ``classifier``: the cross-fitted complexity classifier;
- ``policy`` and ``search``: cascades, their measurement and the search;
- ``optimizer``: reads a run and searches every task type;
- ``prompts``: per tier, the cheapest prompt variant that keeps the bar;
- ``routing_file``: routing.json and the classifier file beside it;
- ``router``: the runtime :class:`~mre_eval.optimize.router.Router`;
- ``evaluate``: a routing file measured on results it was not made from;
- ``litellm_export``: the tiers as a LiteLLM router configuration.

Nothing is imported here, so ``from mre_eval import Router`` stays light.
"""
