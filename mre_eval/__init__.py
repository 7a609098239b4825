"""mre-eval: benchmark models and prompts, then route to the cheapest that holds up.

``from mre_eval import Router`` loads the runtime router lazily, so importing
the package stays light.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Router"]


def __getattr__(name: str) -> Any:
    if name == "Router":
        from mre_eval.optimize.router import Router

        return Router
    raise AttributeError(f"module 'mre_eval' has no attribute {name!r}")
