"""The local executor: each task in its own process (at most ``workers`` at once), killed at its timeout."""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Callable
from typing import Any

from sourcebook.bench.worker import read_record, run_task

Done = Callable[[dict[str, Any], dict[str, Any] | None, str | None], None]


def _child(spec: dict[str, Any]) -> None:  # pragma: no cover - runs in the child process
    run_task(spec)


class LocalExecutor:
    """A process pool with per-task timeouts. Processes are started fresh (``spawn``) so no state leaks."""

    name = "local"

    def __init__(self, workers: int = 1, timeout: float | None = None, poll_s: float = 0.1) -> None:
        self.workers = max(1, int(workers))
        self.timeout = timeout
        self.poll_s = poll_s
        self._ctx = mp.get_context("spawn")

    def run(self, specs: list[dict[str, Any]], on_done: Done, on_start: Callable[[dict[str, Any]], None] | None = None) -> None:
        """Run every spec; ``on_done(spec, record, problem)`` is called in this process as each ends
        (``record`` is the task's ``bench.json`` or None; ``problem`` says why a worker ended abnormally)."""
        pending = list(specs)
        running: list[tuple[Any, dict[str, Any], float]] = []
        try:
            while pending or running:
                while pending and len(running) < self.workers:
                    spec = pending.pop(0)
                    proc = self._ctx.Process(target=_child, args=(spec,), name=f"bench-{spec['task']['task']}")
                    proc.start()
                    running.append((proc, spec, time.monotonic()))
                    if on_start:
                        on_start(spec)
                still: list[tuple[Any, dict[str, Any], float]] = []
                for proc, spec, t0 in running:
                    if not proc.is_alive():
                        proc.join()
                        problem = None if proc.exitcode == 0 else f"worker process exited with code {proc.exitcode}"
                        on_done(spec, read_record(spec["staging"]), problem)
                    elif self.timeout and time.monotonic() - t0 > self.timeout:
                        _stop(proc)
                        on_done(spec, None, f"timeout: no result after {self.timeout:g} s (worker stopped)")
                    else:
                        still.append((proc, spec, t0))
                running = still
                if running:
                    time.sleep(self.poll_s)
        finally:
            for proc, _spec, _t0 in running:  # interrupted: leave no orphan workers behind
                _stop(proc)


def _stop(proc: Any) -> None:
    proc.terminate()
    proc.join(5)
    if proc.is_alive():
        proc.kill()
        proc.join()
