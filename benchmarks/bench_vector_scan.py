"""Cost of scoring every stored vector with one NumPy matrix product (what search does once the dense index
is complete), at 10⁴ … 10⁶ passages of 384 dimensions: matrix-vector product plus top-k selection, one
thread and the default thread count. Random unit vectors; quality is irrelevant here, only time and memory.

    python benchmarks/bench_vector_scan.py [--sizes 10000 100000 1000000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np


def scan(matrix: np.ndarray, q: np.ndarray, k: int = 100) -> np.ndarray:
    sims = matrix @ q
    part = np.argpartition(-sims, k - 1)[:k]
    return part[np.argsort(-sims[part])]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--dim", type=int, default=384)
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'passages':>10} {'matrix MB':>10} {'p50 ms':>8} {'p95 ms':>8}")
    for n in args.sizes:
        m = np.empty((n, args.dim), dtype=np.float32)
        for i in range(0, n, 100_000):
            block = rng.standard_normal((min(100_000, n - i), args.dim), dtype=np.float32)
            m[i:i + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
        times = []
        for _ in range(args.repeat):
            q = rng.standard_normal(args.dim).astype(np.float32)
            q /= np.linalg.norm(q)
            t = time.perf_counter()
            scan(m, q)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        print(f"{n:>10,} {m.nbytes / 1e6:>10.0f} {statistics.median(times):>8.1f} "
              f"{times[int(0.95 * (len(times) - 1))]:>8.1f}", flush=True)
        del m
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
