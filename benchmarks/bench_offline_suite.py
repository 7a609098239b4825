"""Time the full offline suite (24,255 recorded outcomes) and its peak memory.

Run by hand: ``python benchmarks/bench_offline_suite.py``.  Each repetition is
a fresh process running ``mre-eval run suites/routerbench.yaml``, timed from
process start (imports included), as a user would meet it.  Goal: under 10 s
on 2 cores.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOAL_S = 10.0


def one_run(reports: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one full run in a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mre_eval", "run",
                    str(REPO / "suites/routerbench.yaml"), "--reports", str(reports),
                    "--json"], check=True, stdout=subprocess.DEVNULL, cwd=REPO)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        times = []
        for _ in range(args.repeat):
            wall, peak_mib = one_run(Path(tmp))
            times.append(wall)
            print(f"run: {wall:.2f} s, peak RSS {peak_mib:.0f} MiB")
    best = min(times)
    print(f"best {best:.2f} s of {args.repeat}; goal {GOAL_S:.0f} s; "
          f"ratio to goal {best / GOAL_S:.2f}")


if __name__ == "__main__":
    main()
