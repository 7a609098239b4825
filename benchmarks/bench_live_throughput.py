"""Throughput of live calls: raw litellm vs LiveProvider vs the whole runner.

Run by hand, never as a test::

    python benchmarks/bench_live_throughput.py [--calls 2000] [--concurrency 64]

The OpenAI-compatible stub from ``tests/openai_stub.py`` serves in a separate
process, so it does not share the client's interpreter lock.  Each round makes
``--calls`` calls in each mode, modes interleaved so that load from elsewhere
on the machine falls on all of them alike; the median of the rounds is
reported, with each mode's ratio to raw ``litellm.acompletion``: calls per
second of wall time, and the client's CPU time per call, which other work on a
busy machine disturbs far less.

Modes:
    raw       ``litellm.acompletion`` under an ``asyncio.Semaphore``.
    provider  ``LiveProvider.complete`` (retry layer, pricing), no cache.
    cached    ``LiveProvider`` writing every call to a fresh response cache.
    runner    ``runner.run_suite`` on a generated suite pointed at the stub:
              planning, grading, checkpoints and the run folder included.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = "openai/bench-model"


def start_stub() -> tuple[subprocess.Popen[str], str]:
    """Serve the stub in a child process; return it and its ``api_base``."""
    child = subprocess.Popen([sys.executable, str(ROOT / "tests" / "openai_stub.py")],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    return child, child.stdout.readline().strip()


def messages(i: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"question number {i}"}]


async def gather_bounded(calls: int, concurrency: int,
                         one: Callable[[int], Awaitable[object]]) -> None:
    slots = asyncio.Semaphore(concurrency)

    async def bounded(i: int) -> None:
        async with slots:
            await one(i)

    await asyncio.gather(*(bounded(i) for i in range(calls)))


Rate = tuple[float, float]  # calls per wall second, client CPU ms per call


def raw_mode(api_base: str, calls: int, concurrency: int, offset: int) -> Rate:
    from mre_eval.llm import litellm_module

    litellm = litellm_module()

    async def one(i: int) -> object:
        return await litellm.acompletion(
            model=MODEL, messages=messages(offset + i), api_base=api_base,
            api_key="bench", timeout=30, max_retries=0)

    return _timed(lambda: gather_bounded(calls, concurrency, one), calls)


def provider_mode(api_base: str, calls: int, concurrency: int, offset: int,
                  cache_path: Path | None = None) -> Rate:
    from mre_eval.cache import ResponseCache
    from mre_eval.providers.base import CallRequest
    from mre_eval.providers.live import LiveProvider
    from mre_eval.retry import RetryPolicy
    from mre_eval.suite import ModelSpec

    cache = ResponseCache(cache_path) if cache_path else None
    live = LiveProvider(30, RetryPolicy(retries=0), cache)
    spec = ModelSpec(model=MODEL, api_base=api_base)

    async def one(i: int) -> object:
        outcome = await live.complete(CallRequest(spec, messages(offset + i), {},
                                                  f"e{i}", "plain", 0))
        if outcome.error:
            raise RuntimeError(outcome.error)
        return outcome

    try:
        return _timed(lambda: gather_bounded(calls, concurrency, one), calls)
    finally:
        if cache:
            cache.close()


def runner_mode(api_base: str, calls: int, concurrency: int, offset: int,
                work: Path) -> Rate:
    from mre_eval.runner import RunSettings, run_suite

    suite = write_suite(work / f"suite-{offset}", api_base, calls, concurrency,
                        offset)
    settings = RunSettings(reports=work / "reports", cache_path=None)
    start, cpu = time.perf_counter(), time.process_time()
    report = run_suite(suite, settings)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    if report.tally.errors or report.tally.calls != calls:
        raise RuntimeError(f"runner made {report.tally.calls} calls with "
                           f"{report.tally.errors} errors")
    return calls / elapsed, cpu * 1000 / calls


def write_suite(folder: Path, api_base: str, calls: int, concurrency: int,
                offset: int) -> Path:
    """A one-model, one-prompt suite whose dataset has ``calls`` rows."""
    folder.mkdir(parents=True)
    rows = [{"id": f"q{offset + i}", "input": messages(offset + i)[0]["content"],
             "reference": "echo"} for i in range(calls)]
    (folder / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    suite = {
        "name": "bench",
        "dataset": {"path": "data.jsonl", "reference": "reference",
                    "task_type": "echo"},
        "task_types": [{"name": "echo", "grader": "contains", "threshold": 0.5}],
        "models": [{"model": MODEL, "api_base": api_base}],
        "prompts": [{"id": "plain"}],
        "run": {"concurrency": concurrency, "per_model_concurrency": concurrency,
                "timeout_s": 30, "retries": 0},
    }
    (folder / "suite.yaml").write_text(json.dumps(suite, indent=1))
    return folder / "suite.yaml"


def _timed(make: Callable[[], Awaitable[None]], calls: int) -> Rate:
    start, cpu = time.perf_counter(), time.process_time()
    asyncio.run(make())
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return calls / elapsed, cpu * 1000 / calls


def runner_available() -> bool:
    try:
        from mre_eval.runner import run_suite  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    child, api_base = start_stub()
    rates: dict[str, list[Rate]] = {"raw": [], "provider": [], "cached": []}
    if runner_available():
        rates["runner"] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            raw_mode(api_base, 100, args.concurrency, 10**9)  # warm up
            for r in range(args.rounds):
                offset = r * 10 * args.calls
                n, c = args.calls, args.concurrency
                rates["raw"].append(raw_mode(api_base, n, c, offset))
                rates["provider"].append(provider_mode(api_base, n, c, offset + n))
                rates["cached"].append(provider_mode(
                    api_base, n, c, offset + 2 * n, work / f"cache-{r}.sqlite"))
                if "runner" in rates:
                    rates["runner"].append(
                        runner_mode(api_base, n, c, offset + 3 * n, work))
                print(f"round {r + 1}: " + ", ".join(
                    f"{mode} {v[-1][0]:.0f}/s {v[-1][1]:.1f} cpu-ms"
                    for mode, v in rates.items()), flush=True)
    finally:
        child.terminate()
        child.wait(timeout=10)
    report(rates, args)


def report(rates: dict[str, list[Rate]], args: argparse.Namespace) -> None:
    raw_rate = statistics.median(r for r, _ in rates["raw"])
    raw_cpu = statistics.median(c for _, c in rates["raw"])
    print(f"\n{args.calls} calls x {args.rounds} rounds at concurrency "
          f"{args.concurrency}, medians (ratio to raw):")
    for mode, values in rates.items():
        rate = statistics.median(r for r, _ in values)
        cpu = statistics.median(c for _, c in values)
        print(f"  {mode:<9} {rate:7.1f} calls/s ({rate / raw_rate:.3f})   "
              f"{cpu:6.2f} client CPU ms/call ({cpu / raw_cpu:.3f})")


if __name__ == "__main__":
    main()
