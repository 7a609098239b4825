"""Inference economics: what caching saves, what a month costs, what to decide.

- :mod:`traffic`: the requests a cache simulation replays, from a file,
  a suite or a run;
- :mod:`similarity`: request texts as unit vectors (TF-IDF or MiniLM) and
  their nearest neighbours;
- :mod:`replay` and :mod:`cachesim`: replaying traffic through exact and
  semantic caches, and recommending a threshold;
- :mod:`judging`: whether a cached answer is right for a new request;
- :mod:`routing`: what each request costs under a configuration or a routing;
- :mod:`budget`: checking a run or a routing file against the suite's budgets;
- :mod:`scenario` and :mod:`forecast`: the monthly bill now and at 10x, 100x;
- :mod:`trend`: cost and quality across dated runs;
- :mod:`decisions`: the append-only log of recommendations a team keeps in git;
- :mod:`service`: what each CLI command does, from inputs to a report.
"""
