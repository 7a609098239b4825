"""Inference economics: what caching saves, what a month costs, what to decide.

- :mod:`similarity`: turning request texts into unit vectors (TF-IDF or MiniLM);
- :mod:`cachesim`: replaying traffic through exact and semantic caches;
- :mod:`budget`: checking a run or a routing file against the suite's budgets;
- :mod:`forecast`: the monthly bill now and at 10x and 100x traffic;
- :mod:`trend`: cost and quality across dated runs;
- :mod:`decisions`: the append-only log of recommendations a team keeps in git.
"""
