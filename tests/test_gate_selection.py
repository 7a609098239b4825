"""Which configurations the gate judges: --config parsing and selection."""

from __future__ import annotations

from pathlib import Path

import pytest

from mre_eval.errors import ConfigError
from mre_eval.gate.inputs import load_run
from mre_eval.gate.selection import parse_config, select_subjects
from test_gate_builders import Config, RunSpec, build_run


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    spec = RunSpec({"qa": [Config("ollama/llama3:8b", 0.8, 0.0),
                           Config("big", 0.9, 0.001),
                           Config("big", 0.9, 0.001, variant="terse")],
                    "summary": [Config("big", 0.7, 0.001)]}, examples=20)
    return load_run(build_run(tmp_path_factory.mktemp("sel") / "run", spec))


@pytest.mark.parametrize(("text", "expected"), [
    ("big", (None, "big", None)),
    ("big:terse", (None, "big", "terse")),
    ("qa=big:plain", ("qa", "big", "plain")),
    ("ollama/llama3:8b", (None, "ollama/llama3:8b", None)),
    ("qa=ollama/llama3:8b:plain", ("qa", "ollama/llama3:8b", "plain")),
], ids=["model", "model-variant", "task-model-variant", "colon-in-model",
        "colon-in-model-with-variant"])
def test_parse_config(run, text, expected):
    spec = parse_config(text, run)
    assert (spec.task_type, spec.model, spec.variant) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("code=big", "unknown task type 'code'"),
    ("tiny", "no model 'tiny'"),
], ids=["unknown-task", "unknown-model"])
def test_parse_config_rejects(run, text, message):
    with pytest.raises(ConfigError, match=message):
        parse_config(text, run)


def test_a_model_with_several_variants_needs_one_named(run):
    with pytest.raises(ConfigError, match="name one as big:VARIANT"):
        select_subjects(run, [parse_config("qa=big", run)], None)


def test_config_for_one_task_type_leaves_the_others_to_every_configuration(run):
    subjects, chosen = select_subjects(run, [parse_config("qa=big:terse", run)],
                                       None)
    assert [(s.task_type, s.label) for s in subjects] == [
        ("qa", "big:terse"), ("summary", "big:plain")]
    assert chosen == {"qa": "--config qa=big:terse",
                      "summary": "every configuration in the run"}
    assert len(subjects[0].rows) == 20
