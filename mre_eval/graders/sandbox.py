"""Run untrusted candidate code against assert statements in a child process.

The child is ``python -I`` (isolated: no user site, no ``PYTHON*`` variables)
in a fresh temporary folder, with a scrubbed environment (no API keys or other
secrets pass through), its own process group, an address-space limit and a
wall-clock time limit after which the whole group is killed.

The network is shut off twice when possible.  Inside the child, the socket
module's socket class (for anything but local AF_UNIX sockets), its connect
helpers and its name lookups are replaced before the candidate code runs, and
an audit hook refuses every connect, bind and send on a non-AF_UNIX socket, so
code that uses the C-level ``_socket`` directly is stopped too.  When the
machine lets this process create a new network namespace (``unshare -n``,
usually as root), the child also runs in one with no interfaces.
:func:`network_guard` says which guard applies.

The same audit hook refuses, with ``PermissionError``: writing, creating,
removing, renaming or linking files outside the temporary folder (``/dev/null``
excepted), starting processes (``subprocess``, ``os.system``, ``fork``, ``exec``)
and signalling any process but the child itself.

This keeps mistakes and careless code from doing harm; it is not a security
boundary against code written to escape it: the child can still read files
the user can read, and ``ctypes`` can call the C library behind the hook's back.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path

# Children run at most this many at once per event loop: more would only
# share the cores and run into their time limits.
MAX_PARALLEL = max(1, os.cpu_count() or 1)
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary())

_HARNESS = r'''
import json, resource, socket, sys, traceback

def _blocked(*args, **kwargs):
    raise OSError("network access is disabled while grading")

def _guarded(base):
    class Guarded(base):
        # local (AF_UNIX) sockets stay allowed: asyncio's event loop needs them
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            if self.family != socket.AF_UNIX:
                self.close()
                _blocked()
    return Guarded

# the C-level _socket.socket class stays: socket.socket's own methods call it
import _socket
socket.socket = socket.SocketType = _guarded(socket.socket)
for _name in ("create_connection", "getaddrinfo", "create_server",
              "gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
    setattr(socket, _name, _blocked)
    if hasattr(_socket, _name):
        setattr(_socket, _name, _blocked)

job = json.load(open(sys.argv[1], encoding="utf-8"))
limit = job["memory_bytes"]
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

# An audit hook sees what the C level does, so code that goes round the
# socket module's classes (``_socket.socket``) is stopped too; once added it
# cannot be removed.
import os
_FOLDER = os.path.realpath(os.getcwd())
_RESULT = os.path.join(_FOLDER, sys.argv[2])  # the code may change directory
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_PATH_EVENTS = {"os.remove": 1, "os.rmdir": 1, "os.mkdir": 1, "os.rename": 2,
                "os.link": 2, "os.symlink": 2, "os.truncate": 1, "os.chmod": 1,
                "os.chown": 1, "os.utime": 1, "shutil.rmtree": 1,
                "os.setxattr": 1, "os.removexattr": 1, "os.chflags": 1}
_PROCESS_EVENTS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn",
                   "os.spawn", "os.fork", "os.forkpty", "os.startfile"}
_NETWORK_EVENTS = {"socket.connect", "socket.sendto", "socket.sendmsg",
                   "socket.bind"}

def _inside(path):
    if isinstance(path, int):
        return True  # an open file descriptor: its path was checked on opening
    target = os.path.realpath(os.fsdecode(path))
    return target == os.devnull or os.path.commonpath([_FOLDER, target]) == _FOLDER

def _refuse(what):
    raise PermissionError(f"{what} is not allowed while grading")

def _audit(event, args):
    if event == "open" and args[2] & _WRITE_FLAGS and not _inside(args[0]):
        _refuse(f"writing {args[0]!r} outside the test folder")
    elif event in _PATH_EVENTS:
        paths = args[:_PATH_EVENTS[event]]
        if event == "os.symlink":
            paths = args[1:2]
        if not all(_inside(p) for p in paths if isinstance(p, str | bytes | int)
                   or hasattr(p, "__fspath__")):
            _refuse(f"{event} outside the test folder")
    elif event in _NETWORK_EVENTS and args[0].family != socket.AF_UNIX:
        _blocked()
    elif event in _PROCESS_EVENTS:
        _refuse(f"starting a process ({event})")
    elif event in ("os.kill", "os.killpg") and args[0] not in (0, os.getpid()):
        _refuse(f"signalling process {args[0]}")

sys.addaudithook(_audit)
results = {"load_error": None, "asserts": []}
namespace = {"__name__": "__candidate__"}
try:
    exec(compile(job["code"], "<candidate>", "exec"), namespace)
except BaseException as exc:
    results["load_error"] = "".join(traceback.format_exception_only(exc)).strip()
if results["load_error"] is None:
    for index, test in enumerate(job["asserts"]):
        try:
            exec(compile(test, f"<assert {index + 1}>", "exec"), namespace)
            results["asserts"].append(None)
        except BaseException as exc:
            message = "".join(traceback.format_exception_only(exc)).strip()
            results["asserts"].append(message or type(exc).__name__)
with open(_RESULT, "w", encoding="utf-8") as out:
    json.dump(results, out)
'''


@dataclass(frozen=True)
class TestRun:
    """What happened to the candidate code.

    ``failures`` has one entry per assert: ``None`` when it passed, else the
    exception it raised.  ``problem`` is set when no assert could run (the
    code did not load, timed out or crashed the child).
    """

    __test__ = False  # not a pytest test class

    failures: list[str | None]
    problem: str | None = None

    @property
    def passed(self) -> int:
        return sum(1 for failure in self.failures if failure is None)


@functools.cache
def network_guard() -> str:
    """Which network guard applies: ``namespace+socket`` or ``socket``."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return "socket"
    try:
        done = subprocess.run([unshare, "-n", "true"], capture_output=True,
                              timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return "socket"
    return "namespace+socket" if done.returncode == 0 else "socket"


async def run_tests(code: str, asserts: list[str], timeout_s: float,
                    memory_mb: int) -> TestRun:
    """Run ``code`` then each assert in a guarded child; never raises for bad code.

    Args:
        code: the candidate's Python source.
        asserts: statements run one by one after the code, in its namespace.
        timeout_s: wall-clock limit for the whole child.
        memory_mb: address-space limit of the child.

    Returns:
        The outcome of each assert, or the reason none ran.
    """
    async with _slot():
        return await _run_in_folder(code, asserts, timeout_s, memory_mb)


def _slot() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    if loop not in _slots:
        _slots[loop] = asyncio.Semaphore(MAX_PARALLEL)
    return _slots[loop]


async def _run_in_folder(code: str, asserts: list[str], timeout_s: float,
                         memory_mb: int) -> TestRun:
    with tempfile.TemporaryDirectory(prefix="mre-eval-tests-") as folder:
        work = Path(folder)
        (work / "harness.py").write_text(_HARNESS, encoding="utf-8")
        job = {"code": code, "asserts": asserts, "memory_bytes": memory_mb << 20}
        (work / "job.json").write_text(json.dumps(job), encoding="utf-8")
        command = [sys.executable, "-I", "harness.py", "job.json", "result.json"]
        if network_guard() == "namespace+socket":
            command = [shutil.which("unshare") or "unshare", "-n", *command]
        problem = await _run_child(command, work, timeout_s)
        return _read_result(work / "result.json", len(asserts), problem)


async def _run_child(command: list[str], work: Path, timeout_s: float) -> str | None:
    process = await asyncio.create_subprocess_exec(
        *command, cwd=work, env=_clean_env(work), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        start_new_session=True)
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), timeout_s)
    except TimeoutError:
        _kill_group(process.pid)
        await process.wait()
        return f"timed out after {timeout_s:g} s"
    except asyncio.CancelledError:
        _kill_group(process.pid)
        raise
    finally:
        _kill_group(process.pid)  # children the candidate left behind
    if process.returncode != 0:
        tail = stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        return f"the test process exited with code {process.returncode}: {tail[0]}"
    return None


def _read_result(path: Path, count: int, problem: str | None) -> TestRun:
    if problem is not None or not path.exists():
        return TestRun([problem or "no result"] * count, problem or "no result")
    result = json.loads(path.read_text(encoding="utf-8"))
    if result["load_error"] is not None:
        problem = f"the code did not load: {result['load_error']}"
        return TestRun([problem] * count, problem)
    return TestRun(result["asserts"])


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _clean_env(work: Path) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": str(work), "TMPDIR": str(work),
            "LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
