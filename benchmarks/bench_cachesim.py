"""Time a cache simulation over 50,000 requests (run by hand, never as a test).

    python benchmarks/bench_cachesim.py                 # TF-IDF, 50,000 requests
    python benchmarks/bench_cachesim.py --minilm 2000   # also MiniLM throughput

The traffic is built from the support-desk dataset's hand-written phrasings
(datasets/support_cache/make_dataset.py), with greetings, sign-offs and, on
half the requests, an order number, so most texts are distinct as in real
traffic.  Prints the wall time of each stage and the embedding throughput.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import time
from pathlib import Path

from mre_eval.economics.cachesim import simulate
from mre_eval.economics.similarity import TfidfEmbedder, make_embedder
from mre_eval.economics.traffic import Request

ROOT = Path(__file__).resolve().parents[1]
MAKER = ROOT / "datasets" / "support_cache" / "make_dataset.py"


def traffic(n: int, seed: int = 7) -> list[Request]:
    """``n`` requests sampled from the hand-written support catalogue."""
    spec = importlib.util.spec_from_file_location("make_dataset", MAKER)
    maker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(maker)
    rng = random.Random(seed)
    groups = maker.catalogue()
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(groups))]
    out = []
    for i in range(n):
        _, key, answer, phrasings = rng.choices(groups, weights)[0]
        text = rng.choice(maker.OPENERS) + rng.choice(phrasings)
        if rng.random() < 0.5:
            text += f" (order #{rng.randint(10_000, 99_999)})"
        text += rng.choice(maker.CLOSERS)
        out.append(Request(f"r{i}", text, "support", key, answer, 0.01))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--minilm", type=int, default=0,
                        help="also embed this many texts with MiniLM")
    args = parser.parse_args()

    started = time.perf_counter()
    requests = traffic(args.requests)
    built = time.perf_counter()
    embedder = TfidfEmbedder()
    result = simulate(requests, embedder)
    done = time.perf_counter()

    distinct = result.embedded_texts
    print(f"requests: {len(requests):,}, distinct texts: {distinct:,}")
    print(f"build traffic: {built - started:.2f} s")
    print(f"cache-sim (TF-IDF, {len(result.levels)} thresholds): "
          f"{done - built:.2f} s")
    print(f"TF-IDF embedding: {result.embed_seconds:.2f} s, "
          f"{distinct / result.embed_seconds:,.0f} texts/s")
    rec = result.recommended
    print("recommended:", None if rec is None else
          f"{rec.threshold:.2f} (hit rate {rec.hit_rate:.1%}, "
          f"{len(rec.false_hits)} false of {len(rec.hits):,})")
    print(f"full-scan fallbacks: {result.truncated_lookups:,}")
    if args.minilm:
        _minilm(requests, args.minilm)


def _minilm(requests: list[Request], n: int) -> None:
    texts = list(dict.fromkeys(r.text for r in requests))[:n]
    loading = time.perf_counter()
    embedder = make_embedder("minilm")
    loaded = time.perf_counter()
    embedder.embed(texts)
    done = time.perf_counter()
    print(f"MiniLM load: {loaded - loading:.2f} s; embedding {len(texts):,} "
          f"texts: {done - loaded:.2f} s, {len(texts) / (done - loaded):,.0f} "
          "texts/s")


if __name__ == "__main__":
    main()
