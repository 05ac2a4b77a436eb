"""Cost of scoring every stored vector with one NumPy matrix product (what search does below
``search.ann_min_vectors``), at 10⁴ … 10⁶ passages of 384 dimensions: matrix-vector product plus top-k
selection. Random unit vectors; quality is irrelevant there, only time and memory.

``--ann`` measures the faiss IVF index used from ``ann_min_vectors`` on, through the search code's own
``DenseCache`` (candidates from the index, then exact re-scoring of them): first-time cost (k-means training
+ adding every vector), query latency, and recall@10 against the exact scan, on clustered unit vectors
(a shared direction plus one of n/250 topic directions plus noise, so cosines fall in e5's 0.7–1 band).

    python benchmarks/bench_vector_scan.py [--sizes 10000 100000 1000000] [--repeat 20] [--ann] [--nprobe 64]
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


def clustered(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors: shared direction + topic direction (n/250 topics) + noise, built in blocks."""
    common = rng.standard_normal(dim).astype(np.float32)
    common /= np.linalg.norm(common)
    topics = rng.standard_normal((max(1, n // 250), dim)).astype(np.float32)
    topics /= np.linalg.norm(topics, axis=1, keepdims=True)
    m = np.empty((n, dim), dtype=np.float32)
    for i in range(0, n, 100_000):
        k = min(100_000, n - i)
        noise = rng.standard_normal((k, dim)).astype(np.float32) / np.sqrt(dim)
        block = 2.0 * common + 0.9 * topics[rng.integers(0, len(topics), k)] + 0.6 * noise
        m[i:i + k] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return m


def bench_ann(sizes: list[int], dim: int, repeat: int, nprobe: int) -> None:
    """Build time, latency and recall@10 of the IVF path of ``DenseCache.scores``."""
    import resource

    from sourcebook.store.search import DenseCache

    class _Index:    # the keyword index as DenseCache sees it: passage rowids in position order
        def __init__(self, n: int) -> None:
            self.rowids = np.arange(n, dtype=np.int64)

    rng = np.random.default_rng(11)
    print(f"\nIVF index (faiss, 8-bit codes, exact re-scoring), nprobe {nprobe}")
    print(f"{'passages':>10} {'cells':>6} {'build s':>8} {'p50 ms':>8} {'p95 ms':>8} {'scan p50':>9} "
          f"{'recall@10':>10} {'RSS MB':>7}")
    for n in sizes:
        from sourcebook.store.ann import cells_for

        m = clustered(n, dim, rng)
        cache = DenseCache(_Index(n), dim, ann_min=1, nprobe=nprobe)
        cache.add(list(range(n)), m)
        del m
        t = time.perf_counter()
        from sourcebook.store.ann import AnnIndex

        cache.ann = AnnIndex.build(cache.matrix, cache.rowids)
        build = time.perf_counter() - t
        times, scans, recall = [], [], []
        for _ in range(repeat):
            q = cache.matrix[rng.integers(0, n)] + 0.05 * rng.standard_normal(dim).astype(np.float32)
            q /= np.linalg.norm(q)
            t = time.perf_counter()
            got = cache.scores(q, None, np.zeros(0, dtype=np.int64), 100)
            times.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            exact = scan(cache.matrix, q, 10)
            scans.append((time.perf_counter() - t) * 1000)
            top = sorted(got, key=lambda p: -got[p])[:10]
            recall.append(len(set(top) & set(exact.tolist())) / 10)
        times.sort()
        scans.sort()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{n:>10,} {cells_for(n):>6} {build:>8.1f} {statistics.median(times):>8.1f} "
              f"{times[int(0.95 * (len(times) - 1))]:>8.1f} {statistics.median(scans):>9.1f} "
              f"{statistics.fmean(recall):>10.3f} {rss:>7.0f}", flush=True)
        del cache


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--ann", action="store_true", help="measure the IVF index instead of the plain scan")
    ap.add_argument("--nprobe", type=int, default=64)
    args = ap.parse_args()
    if args.ann:
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        bench_ann(args.sizes, args.dim, args.repeat, args.nprobe)
        return 0
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
