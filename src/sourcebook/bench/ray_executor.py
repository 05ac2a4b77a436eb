"""The Ray executor: each task a Ray task with resource hints (CPUs, memory, GPUs for a local LLM), on an
existing cluster (``ray://host:10001`` or a GCS address) or a local one started here.

A task runs in a temporary directory on whatever node Ray picks and returns its run directory's files; the
driver writes them into the results directory, so results land where the driver reads them whether or not
the nodes share a filesystem. The datasets (and ideally the cache directory with the prebuilt stores) must be
readable at the same paths on the nodes; a node without the store builds it itself."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sourcebook.bench import BenchError
from sourcebook.bench.worker import run_task, write_record

Done = Callable[[dict[str, Any], dict[str, Any] | None, str | None], None]
_ENV_PREFIXES = ("SOURCEBOOK_", "OPENAI_", "ANTHROPIC_", "HF_HUB_OFFLINE")


def run_packed(spec: dict[str, Any]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Run one task into a private temporary directory; return its record and files (relative path → bytes)."""
    tmp = Path(tempfile.mkdtemp(prefix="sourcebook-bench-"))
    try:
        record = run_task({**spec, "staging": str(tmp / "run")})
        root = tmp / "run"
        files = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
        return record, files
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def unpack(files: dict[str, bytes], dest: Path) -> None:
    """Write files returned by :func:`run_packed` under ``dest`` (``bench.json`` last: it marks completion)."""
    dest = Path(dest)
    marker = files.get("bench.json")
    for rel, data in files.items():
        if rel == "bench.json":
            continue
        target = (dest / rel).resolve()
        if not str(target).startswith(str(dest.resolve())):
            continue  # never write outside the run directory
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    if marker is not None:
        import json

        write_record(dest, json.loads(marker))


class RayExecutor:
    """Ray tasks with ``num_cpus``/``memory``/``num_gpus`` hints; at most ``workers`` in flight."""

    name = "ray"

    def __init__(self, workers: int = 1, timeout: float | None = None, address: str | None = None,
                 num_cpus: float = 1, memory_mb: int | None = None, num_gpus: float = 0) -> None:
        self.workers = max(1, int(workers))
        self.timeout = timeout
        self.address = address
        self.options: dict[str, Any] = {"num_cpus": num_cpus, "max_retries": 0}
        if memory_mb:
            self.options["memory"] = int(memory_mb) * 1024 * 1024
        if num_gpus:
            self.options["num_gpus"] = num_gpus
        self.started_here = False

    def _init(self) -> Any:
        try:
            import ray
        except ImportError as e:
            raise BenchError("the ray executor needs Ray: pip install 'sourcebook[ray]'") from e
        if not ray.is_initialized():
            env = {k: v for k, v in os.environ.items() if k.startswith(_ENV_PREFIXES)}
            kwargs: dict[str, Any] = {"ignore_reinit_error": True, "log_to_driver": False,
                                      "runtime_env": {"env_vars": env} if env else None}
            if self.address:
                kwargs["address"] = self.address
            else:
                kwargs.update(num_cpus=max(self.workers, int(self.options["num_cpus"])), include_dashboard=False)
            for attempt in (1, 2):  # a loaded machine can miss Ray's fixed 30 s node start-up window once
                try:
                    ray.init(**{k: v for k, v in kwargs.items() if v is not None})
                    break
                except Exception as e:  # connection refused, bad address, node start-up timeout, …
                    ray.shutdown()
                    if attempt == 1 and not self.address and "timed out during startup" in str(e):
                        continue
                    where = self.address or "a local cluster"
                    raise BenchError(f"cannot start or reach Ray at {where}: {type(e).__name__}: {e}") from e
            self.started_here = True
        return ray

    def run(self, specs: list[dict[str, Any]], on_done: Done, on_start: Callable[[dict[str, Any]], None] | None = None) -> None:
        """Run every spec as a Ray task; files come back to the driver and are written into each staging dir."""
        ray = self._init()
        remote = ray.remote(run_packed).options(**self.options)
        pending = list(specs)
        running: dict[Any, tuple[dict[str, Any], float]] = {}
        try:
            while pending or running:
                while pending and len(running) < self.workers:
                    spec = pending.pop(0)
                    running[remote.remote(spec)] = (spec, time.monotonic())
                    if on_start:
                        on_start(spec)
                ready, _ = ray.wait(list(running), num_returns=1, timeout=0.2)
                for ref in ready:
                    spec, _t0 = running.pop(ref)
                    try:
                        record, files = ray.get(ref)
                    except Exception as e:  # the worker died or the task raised out of run_task
                        on_done(spec, None, f"ray task failed: {type(e).__name__}: {str(e)[:300]}")
                        continue
                    unpack(files, Path(spec["staging"]))
                    on_done(spec, record, None)
                now = time.monotonic()
                for ref, (spec, t0) in list(running.items()):
                    if self.timeout and now - t0 > self.timeout:
                        ray.cancel(ref, force=True)
                        running.pop(ref)
                        on_done(spec, None, f"timeout: no result after {self.timeout:g} s (ray task cancelled)")
        finally:
            for ref in running:
                ray.cancel(ref, force=True)
            if self.started_here:
                ray.shutdown()
