"""Shared test helpers: small suites written into a temporary folder."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")

REPO = Path(__file__).resolve().parents[1]
ROUTERBENCH_SUITE = REPO / "suites" / "routerbench.yaml"

# The stub server echoes the question, so even rows (whose answer is in the
# question) pass the contains grader and odd rows fail: pass rate 0.5.
TINY_ROWS = [
    {"id": f"q{i}", "kind": "faq", "question": f"What is {i} plus zero?",
     "answer": str(i) if i % 2 == 0 else str(2 * i + 1)}
    for i in range(1, 7)
]


def tiny_suite_data(api_base: str, models: list[dict[str, Any]] | None = None,
                    **run: Any) -> dict[str, Any]:
    """A live suite of six arithmetic questions against ``api_base``."""
    return {
        "name": "tiny",
        "dataset": {"path": "data.jsonl", "id": "id", "input": "question",
                    "reference": "answer", "task_type_column": "kind"},
        "task_types": [{"name": "faq", "grader": {"kind": "contains"},
                        "threshold": 0.5}],
        "models": models or [{
            "name": "mini", "model": "openai/gpt-4o-mini", "api_base": api_base,
            "api_key_env": "TINY_TEST_KEY", "params": {"max_tokens": 50}}],
        "prompts": [{"id": "plain", "system": "Answer with a number.",
                     "template": "{question}"}],
        "run": {"concurrency": 4, "retries": 1, "timeout_s": 5, **run},
    }


def write_suite(folder: Path, data: dict[str, Any],
                rows: list[dict[str, Any]] | None = None) -> Path:
    """Write ``data`` as suite.yaml and its dataset as data.jsonl in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(row) for row in (TINY_ROWS if rows is None else rows)]
    (folder / "data.jsonl").write_text("\n".join(lines) + "\n")
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def tiny_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """A fake API key in the environment variable the tiny suite names."""
    secret = "sk-test-DO-NOT-LEAK-1234567890"
    monkeypatch.setenv("TINY_TEST_KEY", secret)
    return secret


@pytest.fixture
def registered():
    """Register models in litellm's price map; they are removed afterwards."""
    from mre_eval.llm import litellm_module

    litellm = litellm_module()
    added: list[str] = []

    def register(name: str, entry: dict) -> None:
        added.append(name)
        litellm.register_model({name: entry})

    yield register
    for name in added:
        litellm.model_cost.pop(name, None)
