"""Tokens one model call used: read from a provider's usage block, or counted.

Conventions follow litellm's usage block: ``input_tokens`` includes the
``cached_tokens`` read from a provider's prompt cache and the
``cache_write_tokens`` written to it (of which ``cache_write_1h_tokens`` were
written for one hour), and ``output_tokens`` includes the
``reasoning_tokens`` a reasoning model spent.  Counting uses the tokenizer
litellm picks for a model; :mod:`mre_eval.pricing` turns either into dollars.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from mre_eval.llm import litellm_module

# prompt token counts, keyed by (tokenizer, messages): one count serves every
# model that shares a tokenizer
_message_counts: dict[tuple[str, str], int] = {}
_MEMO_LIMIT = 200_000


@dataclass(frozen=True)
class Usage:
    """Tokens one call consumed; ``None`` where a count is not known."""

    input_tokens: int | None
    output_tokens: int | None
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    cache_write_tokens: int = 0
    # the part of cache_write_tokens written for one hour; None: not recorded
    cache_write_1h_tokens: int | None = 0


def usage_of(response: Any) -> Usage:
    """Token usage from a completion's ``usage`` block; ``None`` counts if absent.

    Reads litellm's usage object (or the same block as a dict): cached reads
    from ``prompt_tokens_details.cached_tokens``, cache writes from
    ``prompt_tokens_details.cache_write_tokens`` (litellm's name), else
    ``cache_creation_tokens`` or Anthropic's ``cache_creation_input_tokens``,
    and their one-hour part from
    ``prompt_tokens_details.cache_creation_token_details`` (litellm's name)
    or Anthropic's ``cache_creation``, key ``ephemeral_1h_input_tokens``.
    """
    usage = _field(response, "usage")
    if usage is None:
        return Usage(None, None)
    prompt = _field(usage, "prompt_tokens_details")
    completion = _field(usage, "completion_tokens_details")
    written = next((n for n in (_int(_field(prompt, "cache_write_tokens")),
                                _int(_field(prompt, "cache_creation_tokens")),
                                _int(_field(usage, "cache_creation_input_tokens")))
                    if n), 0)
    one_hour = _one_hour_writes(prompt, usage)
    return Usage(
        input_tokens=_int(_field(usage, "prompt_tokens")),
        output_tokens=_int(_field(usage, "completion_tokens")),
        cached_tokens=_int(_field(prompt, "cached_tokens")) or 0,
        reasoning_tokens=_int(_field(completion, "reasoning_tokens")) or 0,
        # the one-hour writes are part of the writes, whatever a block says
        cache_write_tokens=max(written, one_hour),
        cache_write_1h_tokens=one_hour,
    )


def _one_hour_writes(prompt: Any, usage: Any) -> int:
    for details in (_field(prompt, "cache_creation_token_details"),
                    _field(usage, "cache_creation")):
        count = _int(_field(details, "ephemeral_1h_input_tokens"))
        if count:
            return count
    return 0


def count_tokens(model: str, text: str | None = None,
                 messages: list[dict[str, Any]] | None = None) -> int:
    """Count tokens with the tokenizer litellm picks for ``model``.

    Chat messages are counted with litellm's per-message overhead.  Counts
    are memoised per tokenizer, so the same prompt sent to many models that
    share a tokenizer is counted once.  For models litellm has no tokenizer
    for it uses cl100k, so their counts are estimates.
    """
    name, tokenizer = _tokenizer(model)
    if messages is not None:
        key = (name, json.dumps(messages, sort_keys=True))
        if key not in _message_counts:
            if len(_message_counts) > _MEMO_LIMIT:
                _message_counts.clear()
            litellm = litellm_module()
            _message_counts[key] = int(litellm.token_counter(model=model,
                                                             messages=messages))
        return _message_counts[key]
    return _count_text(tokenizer, text or "")


def tokenizer_name(model: str) -> str:
    """The name of the tokenizer litellm counts ``model``'s tokens with."""
    return _tokenizer(model)[0]


@functools.cache
def _tokenizer(model: str) -> tuple[str, Any]:
    litellm_module()
    from litellm.utils import _select_tokenizer

    selected = _select_tokenizer(model)
    tokenizer = selected["tokenizer"]
    name = getattr(tokenizer, "name", None) or f"{selected['type']}:{model}"
    return name, tokenizer


def _count_text(tokenizer: Any, text: str) -> int:
    if hasattr(tokenizer, "encode_ordinary"):  # tiktoken
        return len(tokenizer.encode_ordinary(text))
    return len(tokenizer.encode(text).ids)  # huggingface tokenizers


def _field(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    return int(value) if isinstance(value, int | float) else None
