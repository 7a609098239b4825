"""The Claude call with prompt-cache reads and writes of the observe tests."""

from __future__ import annotations

from mre_eval.llm import litellm_module

CLAUDE = "anthropic/claude-sonnet-4-5"


def claude_cache_call_usd(one_hour_writes: int = 0) -> float:
    """The bill, from the map's rates, of the call the cache-write tests log.

    It sends 12,000 prompt tokens (1,000 plain, 2,000 read from the cache and
    9,000 written to it, ``one_hour_writes`` of those for one hour) and gets
    300 output tokens back.
    """
    info = litellm_module().model_cost["claude-sonnet-4-5"]
    return (1_000 * info["input_cost_per_token"]
            + 2_000 * info["cache_read_input_token_cost"]
            + (9_000 - one_hour_writes) * info["cache_creation_input_token_cost"]
            + one_hour_writes * info["cache_creation_input_token_cost_above_1hr"]
            + 300 * info["output_cost_per_token"])
