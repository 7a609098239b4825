"""The python_tests grader, with real child processes."""

from __future__ import annotations

import asyncio
import functools
import re
import socket
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mre_eval.datasets import Example
from mre_eval.errors import DataError
from mre_eval.graders import make_grader
from mre_eval.graders.base import Grade, Sample
from mre_eval.graders.code import extract_code
from mre_eval.graders.sandbox import network_guard
from mre_eval.suite import GraderSpec

OUTCOMES = Path(__file__).parents[1] / "datasets" / "routerbench" / "outcomes.csv.gz"


def _grade(response: str, reference: Any, **options: Any) -> Grade:
    example = Example(id="fn-3", task_type="code", fields={}, input="Write f",
                      messages=None, reference=reference, line=4)
    grader = make_grader(GraderSpec(kind="python_tests", options=options))
    return asyncio.run(grader.grade(Sample(response, example)))


@functools.cache
def _outcomes() -> pd.DataFrame:
    return pd.read_csv(OUTCOMES, keep_default_na=False)


def _recorded(prompt_id: str, model: str) -> str:
    frame = _outcomes()
    row = frame[(frame.prompt_id == prompt_id) & (frame.model == model)]
    return str(row.response.iloc[0])


@pytest.mark.parametrize(("prompt_id", "model", "asserts"), [
    ("mbpp.dev.277", "claude-instant-v1",
     ["assert create_empty_dicts(3) == [{}, {}, {}]",
      "assert create_empty_dicts(0) == []"]),
    ("mbpp.dev.92", "meta/code-llama-instruct-34b-chat",
     ["assert remove_elements([1, 2, 3], [2]) == [1, 3]"]),
], ids=["fenced-python", "code-llama-tags"])
def test_real_mbpp_answers_pass(prompt_id: str, model: str, asserts: list[str]) -> None:
    grade = _grade(_recorded(prompt_id, model), asserts)
    assert grade.score == 1.0, grade.detail


def test_partial_pass_scores_the_fraction() -> None:
    response = "```python\ndef add(a, b):\n    return a + b + (a > 5)\n```"
    grade = _grade(response, ["assert add(1, 2) == 3", "assert add(6, 1) == 7",
                              "assert add(0, 0) == 0", "assert add(9, 9) == 18"])
    assert grade.score == 0.5
    assert grade.detail.startswith("2 of 4 asserts passed; assert 2: AssertionError")


def test_asserts_as_one_string() -> None:
    grade = _grade("def f():\n    return 1", "assert f() == 1\n\nassert f() != 2\n")
    assert (grade.score, grade.detail.split(" (")[0]) == (1.0, "2 of 2 asserts passed")


def test_setup_runs_before_the_code() -> None:
    grade = _grade("def root(x):\n    return math.sqrt(x)", ["assert root(9) == 3"],
                   setup="import math")
    assert grade.score == 1.0


@pytest.mark.parametrize(("response", "problem"), [
    ("def f(:\n    pass", "the code did not load: "),
    ("import sys\nsys.exit(3)", "the code did not load: SystemExit: 3"),
    ("def f():\n    return 1\nimport os\nos._exit(1)",
     "the test process exited with code 1"),
], ids=["syntax-error", "sys-exit", "hard-exit"])
def test_code_that_does_not_load_scores_zero(response: str, problem: str) -> None:
    grade = _grade(response, ["assert f() == 1"])
    assert grade.score == 0.0
    assert grade.detail.startswith(problem)


def test_an_endless_loop_is_killed_at_the_time_limit() -> None:
    response = "def f():\n    while True:\n        pass\n"
    grade = _grade(response, ["assert f() == 1"], timeout_s=1)
    assert grade.score == 0.0
    assert grade.detail.startswith("timed out after 1 s")


@pytest.mark.parametrize("code", [
    "import subprocess\nsubprocess.run(['true'])",
    "import os\nos.system('true')",
    "import os\nos.fork()",
    "import os\nos.kill(os.getppid(), 0)",
], ids=["subprocess", "system", "fork", "kill-parent"])
def test_processes_cannot_be_started_or_signalled(code: str) -> None:
    grade = _grade(code, ["assert True"])
    assert grade.score == 0.0
    assert re.search(r"PermissionError: (starting a process|signalling process)",
                     grade.detail)


@pytest.mark.parametrize("code", [
    "open({target!r}, 'w').write('x')",
    "import pathlib\npathlib.Path({target!r}).write_text('x')",
    "import os\nos.chdir(os.path.dirname({target!r}))\n"
    "open(os.path.basename({target!r}), 'w')",
    "import os\nos.symlink(os.path.dirname({target!r}), 'out')\n"
    "open(os.path.join('out', os.path.basename({target!r})), 'w')",
    "import os\nopen('here', 'w').close()\nos.rename('here', {target!r})",
], ids=["open", "pathlib", "chdir", "symlink", "rename"])
def test_files_outside_the_test_folder_cannot_be_written(tmp_path: Path,
                                                         code: str) -> None:
    target = tmp_path / "escaped.txt"
    grade = _grade(code.format(target=str(target)), ["assert True"])
    assert grade.score == 0.0
    assert "outside the test folder is not allowed while grading" in grade.detail
    assert not target.exists()


def test_files_inside_the_test_folder_can_be_written() -> None:
    code = ("import os, tempfile\nfolder = tempfile.mkdtemp()\n"
            "open(os.path.join(folder, 'f'), 'w').write('x')\n"
            "open('here.txt', 'w').write('y')\nos.remove('here.txt')\n"
            "open(os.devnull, 'w').write('z')\n")
    assert _grade(code, ["assert os.listdir(folder) == ['f']"]).score == 1.0


def test_a_loopback_connect_fails_even_through_the_c_socket() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        address = f"('127.0.0.1', {port})"
        for code in (f"import socket\nsocket.create_connection({address})",
                     f"import _socket\n_socket.socket().connect({address})"):
            grade = _grade(code, ["assert True"])
            assert grade.score == 0.0
            assert "network access is disabled while grading" in grade.detail


@pytest.mark.parametrize("code", [
    "import socket\nsocket.create_connection(('127.0.0.1', 9), timeout=2)",
    "import socket\nsocket.socket(socket.AF_INET, socket.SOCK_STREAM)",
    "import socket\nsocket.getaddrinfo('localhost', 80)",
    "import urllib.request\nurllib.request.urlopen('http://127.0.0.1:9/', timeout=2)",
], ids=["create_connection", "socket", "getaddrinfo", "urllib"])
def test_network_is_blocked(code: str) -> None:
    response = f"def probe():\n    {code.replace(chr(10), chr(10) + '    ')}\n"
    grade = _grade(response, ["probe()"])
    assert grade.score == 0.0
    assert "network access is disabled while grading" in grade.detail


def test_local_sockets_and_asyncio_still_work() -> None:
    response = "import asyncio\nasync def three():\n    return 3\n"
    assert _grade(response, ["assert asyncio.run(three()) == 3"]).score == 1.0


def test_secrets_do_not_reach_the_child(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-real")
    grade = _grade("import os\n", ["assert 'OPENAI_API_KEY' not in os.environ"])
    assert grade.score == 1.0


def test_guard_is_named_in_the_detail() -> None:
    grade = _grade("x = 1", ["assert x == 1"])
    assert network_guard() in ("namespace+socket", "socket")
    assert grade.detail.endswith(f"(network guard: {network_guard()})")


@pytest.mark.skipif(network_guard() != "namespace+socket",
                    reason="this machine cannot make network namespaces")
def test_namespace_has_no_interfaces_but_loopback() -> None:
    # /proc/net/dev lists the interfaces of the reader's network namespace
    code = ("lines = open('/proc/net/dev').read().splitlines()[2:]\n"
            "interfaces = sorted(line.split(':')[0].strip() for line in lines)\n")
    grade = _grade(code, ["assert interfaces == ['lo'], interfaces"])
    assert grade.score == 1.0, grade.detail


@pytest.mark.parametrize(("response", "code"), [
    ("Sure:\n```python\ndef f():\n    return 1\n```\nThen:\n```py\nf()\n```",
     "def f():\n    return 1\n\nf()\n"),
    ("```\nx = 1\n```", "x = 1\n"),
    ("```js\nlet x\n```\n```python\ny = 2\n```", "y = 2\n"),
    ("[PYTHON]\nz = 3\n[/PYTHON]\n[TESTS]\nassert z\n[/TESTS]", "\nz = 3\n"),
    ("```python\nunterminated = True", "unterminated = True"),
    ("w = 4", "w = 4"),
], ids=["python-and-py", "unlabelled", "skips-other-languages", "code-llama",
        "unterminated-fence", "raw"])
def test_extract_code(response: str, code: str) -> None:
    assert extract_code(response) == code


@pytest.mark.parametrize(("reference", "error"), [
    (None, "example 'fn-3' \\(line 4\\) has no reference"),
    ([], "needs assert statements"),
    ("   \n", "example 'fn-3' \\(line 4\\) has no reference"),
], ids=["none", "empty-list", "blank-text"])
def test_missing_asserts(reference: Any, error: str) -> None:
    with pytest.raises(DataError, match=error):
        _grade("x = 1", reference)


def test_children_wait_for_a_free_slot(monkeypatch: pytest.MonkeyPatch) -> None:
    from mre_eval.graders import sandbox

    monkeypatch.setattr(sandbox, "MAX_PARALLEL", 1)
    running: list[int] = []
    seen: list[int] = []

    async def one_child(*args: Any) -> sandbox.TestRun:
        running.append(1)
        seen.append(len(running))
        await asyncio.sleep(0.01)
        running.pop()
        return sandbox.TestRun([None])

    monkeypatch.setattr(sandbox, "_run_in_folder", one_child)

    async def three() -> list[sandbox.TestRun]:
        return await asyncio.gather(*(sandbox.run_tests("", ["assert True"], 5, 256)
                                      for _ in range(3)))

    assert [run.passed for run in asyncio.run(three())] == [1, 1, 1]
    assert seen == [1, 1, 1]
