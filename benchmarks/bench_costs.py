"""Time ``mre-eval costs`` over millions of logged calls, JSONL and parquet.

Generates N records (default ten million) with ``gen_call_logs.py``, compacts
them with ``mre-eval logs compact``, then runs ``mre-eval costs --by week``
on the JSONL and on the parquet folder, each in a fresh process, and reports
wall time and peak resident memory against the goal: under 60 s on 2 cores.

    python benchmarks/bench_costs.py --n 10000000 --threads 2 --dir /tmp/bench

Run by hand; it is not a test.  On a shared machine the figures move with the
load of other processes, so read them as ratios to the goal from one run.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from gen_call_logs import generate  # noqa: E402

GOAL_S = 60.0

# Runs one command and prints its wall time and its children's peak RSS.
_MEASURE = """
import resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
wall = time.perf_counter() - started
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"{wall} {peak_kib} {code}")
"""


def measure(command: list[str]) -> dict[str, float]:
    """Wall seconds, peak RSS in MiB and exit code of ``command``."""
    out = subprocess.run([sys.executable, "-c", _MEASURE, *command],
                         capture_output=True, text=True, check=True).stdout
    wall, peak_kib, code = out.split()
    return {"seconds": float(wall), "peak_rss_mib": int(peak_kib) / 1024,
            "exit_code": int(code)}


def costs_command(target: Path, threads: int, memory_limit: str) -> list[str]:
    """The timed command: the costs report of ``target``, JSON to /dev/null."""
    return ["mre-eval", "costs", str(target), "--by", "week", "--json",
            "--threads", str(threads), "--memory-limit", memory_limit]


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        chunks = iter(lambda: handle.read(1 << 24), b"")
        return sum(chunk.count(b"\n") for chunk in chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="1GB")
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="bench-costs-"))
    workdir.mkdir(parents=True, exist_ok=True)

    jsonl = workdir / "calls.jsonl"
    parquet = workdir / "compacted"
    figures: dict[str, object] = {"threads": args.threads}
    if not jsonl.exists():
        figures["generate_s"] = generate(args.n, jsonl)
    # a log kept from an earlier run may hold another --n: count what is timed
    figures["n"] = _count_lines(jsonl)
    figures["jsonl_mib"] = jsonl.stat().st_size / 2**20
    if not parquet.exists():
        started = time.perf_counter()
        subprocess.run(["mre-eval", "logs", "compact", str(jsonl), "--out",
                        str(parquet)], check=True, capture_output=True)
        figures["compact_s"] = time.perf_counter() - started
    figures["parquet_mib"] = sum(p.stat().st_size
                                 for p in parquet.rglob("*.parquet")) / 2**20

    for name, target in (("jsonl", jsonl), ("parquet", parquet)):
        result = measure(costs_command(target, args.threads, args.memory_limit))
        result["ratio_to_goal"] = result["seconds"] / GOAL_S
        figures[f"costs_{name}"] = result
    figures["own_peak_rss_mib"] = (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(figures, indent=2))
    failed = [name for name in ("jsonl", "parquet")
              if figures[f"costs_{name}"]["exit_code"]]
    if failed:
        # a time is only a result when the report was made
        raise SystemExit(f"mre-eval costs failed on {', '.join(failed)}: its "
                         "times above are not results")


if __name__ == "__main__":
    main()
