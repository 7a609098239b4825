"""The one place litellm is imported.

Importing litellm costs about two seconds and, left to its defaults, fetches a
price map from the internet.  Every module that needs litellm calls
:func:`litellm_module` at the point of use, so ``mre-eval --help`` and the
commands that never price or call a model do not pay for it, and the price map
is always the one bundled with the pinned litellm version.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
from types import ModuleType


@functools.cache
def litellm_module() -> ModuleType:
    """Import litellm offline, quietly, and return the module."""
    os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import litellm

    litellm.suppress_debug_info = True
    litellm.telemetry = False
    return litellm


def litellm_version() -> str:
    """The installed litellm version: it names the price snapshot in use."""
    return importlib.metadata.version("litellm")
