"""Suite wall time of ``sourcebook bench`` on the anchor tasks (no-LLM mode): 1 and 2 workers, local process
pool and a local Ray cluster.

A first (untimed) run builds the evidence stores and their cached embeddings in the cache directory, so the
timed runs measure the suite itself — dispatch, worker start, report pipeline — not ingest. Each timed run
writes into a fresh results directory; every run's scorecard must agree with the first one's (compared with
``bench compare``'s machinery), else the script stops.

    python benchmarks/bench_suite.py [--tasks 001,002,...] [--cache DIR] [--skip-ray]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ANCHORS = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "anchor-tasks"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", default=None, help="comma-separated task ids (default: all)")
    ap.add_argument("--cache", type=Path, default=None, help="cache directory (default: a temporary one)")
    ap.add_argument("--skip-ray", action="store_true")
    args = ap.parse_args()
    if not (ANCHORS / "query.jsonl").exists():
        sys.exit(f"{ANCHORS}: not present; this benchmark needs ../shared/fixtures/anchor-tasks")

    from sourcebook.bench.local import LocalExecutor
    from sourcebook.bench.manifest import Identity
    from sourcebook.bench.runner import run_suite
    from sourcebook.bench.scorecard import compare
    from sourcebook.bench.suite import load_suite, parse_task_list
    from sourcebook.config import get_settings

    work = Path(tempfile.mkdtemp(prefix="bench-suite-"))
    cache = args.cache or work / "cache"
    os.environ["SOURCEBOOK_CACHE_DIR"] = str(cache)
    settings = get_settings(cache_dir=cache)
    suite = load_suite(ANCHORS / "query.jsonl", ANCHORS, parse_task_list(args.tasks))
    print(f"{len(suite)} tasks, cache {cache}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}",
          flush=True)

    t0 = time.perf_counter()
    ref = run_suite(suite, work / "warm", Identity(), LocalExecutor(workers=2), settings)
    print(f"warm-up (stores + embeddings built): {time.perf_counter() - t0:.1f} s", flush=True)

    configs = [("local", 1), ("local", 2)] + ([] if args.skip_ray else [("ray", 1), ("ray", 2)])
    rows = []
    for name, workers in configs:
        if name == "ray":
            from sourcebook.bench.ray_executor import RayExecutor

            executor = RayExecutor(workers=workers)
        else:
            executor = LocalExecutor(workers=workers)
        t0 = time.perf_counter()
        res = run_suite(suite, work / f"{name}-{workers}", Identity(), executor, settings)
        wall = time.perf_counter() - t0
        diff = compare(ref.scorecard, res.scorecard)
        if diff["tasks"]:
            sys.exit(f"{name} with {workers} workers scored differently: {diff['tasks']}")
        t = res.scorecard["totals"]
        rows.append((name, workers, wall, t["wall_s"], t["ok"], t["tasks"]))
        print(f"{name:<6} {workers} worker(s): {wall:6.1f} s (load average {os.getloadavg()[0]:.1f})", flush=True)

    print()
    print("| executor | workers | suite wall time (s) | sum of task times (s) | tasks ok |")
    print("|---|---|---|---|---|")
    for name, workers, wall, task_sum, ok, n in rows:
        print(f"| {name} | {workers} | {wall:.1f} | {task_sum:.1f} | {ok}/{n} |")
    print(f"\nresults under {work}")


if __name__ == "__main__":
    main()
