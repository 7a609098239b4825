"""Production cost observability: log every model call, then break the bill down.

Two lines instrument a service that calls models through litellm::

    from mre_eval import observe
    observe.install("calls.jsonl")

Code that does not use litellm wraps each call in :class:`track`.  The logs are
read back by ``mre-eval costs`` (:mod:`mre_eval.observe.costs`), compacted to
parquet by ``mre-eval logs compact`` and sampled into an evaluation dataset by
``mre-eval logs sample``.
"""

from __future__ import annotations

from typing import Any

from mre_eval.observe.context import configure, default_writer, track
from mre_eval.observe.record import CallRecord
from mre_eval.observe.writer import RecordWriter

__all__ = ["CallRecord", "RecordWriter", "configure", "default_writer",
           "install", "track", "uninstall"]


def install(path: str, *, keep_text: bool = False, **options: Any) -> Any:
    """Log every litellm call of this process to ``path`` (see callback.install)."""
    from mre_eval.observe.callback import install as _install

    return _install(path, keep_text=keep_text, **options)


def uninstall(logger: Any) -> None:
    """Remove a logger :func:`install` returned (see callback.uninstall)."""
    from mre_eval.observe.callback import uninstall as _uninstall

    _uninstall(logger)
