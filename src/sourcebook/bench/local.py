"""The local executor: a pool of long-lived worker processes (imports and models loaded once per worker), each
running one task at a time; a task past its timeout has its worker stopped and replaced."""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any

from sourcebook.bench.worker import read_record, run_task

Done = Callable[[dict[str, Any], dict[str, Any] | None, str | None], None]


def _serve(conn: Any) -> None:  # pragma: no cover - runs in the worker process
    """Worker process: run specs received on ``conn`` until ``None`` arrives; answer each with its task id."""
    while True:
        try:
            spec = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if spec is None:
            return
        run_task(spec)
        conn.send(spec["task"]["task"])


@dataclass
class _Slot:
    proc: Any
    conn: Any
    spec: dict[str, Any] | None = None
    started: float = 0.0


class LocalExecutor:
    """A process pool with per-task timeouts. Workers are started fresh (``spawn``), so no state of the
    driver leaks into them; a worker that crashes or times out is replaced and the suite goes on."""

    name = "local"

    def __init__(self, workers: int = 1, timeout: float | None = None) -> None:
        self.workers = max(1, int(workers))
        self.timeout = timeout
        self._ctx = mp.get_context("spawn")

    def _start(self) -> _Slot:
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=_serve, args=(child,), name="sourcebook-bench-worker", daemon=True)
        proc.start()
        child.close()
        return _Slot(proc, parent)

    def run(self, specs: list[dict[str, Any]], on_done: Done,
            on_start: Callable[[dict[str, Any]], None] | None = None) -> None:
        """Run every spec; ``on_done(spec, record, problem)`` is called in this process as each ends
        (``record`` is the task's ``bench.json`` or None; ``problem`` says why a worker ended abnormally)."""
        pending = list(specs)
        slots = [self._start() for _ in range(min(self.workers, len(pending)))]
        try:
            while True:
                for slot in slots:
                    if slot.spec is None and pending:
                        slot.spec, slot.started = pending.pop(0), time.monotonic()
                        slot.conn.send(slot.spec)
                        if on_start:
                            on_start(slot.spec)
                busy = [s for s in slots if s.spec is not None]
                if not busy:
                    break
                wait([s.conn for s in busy] + [s.proc.sentinel for s in busy], timeout=0.2)
                for i, slot in enumerate(slots):
                    spec = slot.spec
                    if spec is None:
                        continue
                    answered = False
                    try:
                        answered = slot.conn.poll() and slot.conn.recv() is not None
                    except (EOFError, OSError):
                        answered = False
                    if answered:
                        slot.spec = None
                        on_done(spec, read_record(spec["staging"]), None)
                    elif not slot.proc.is_alive():
                        slot.proc.join()
                        on_done(spec, read_record(spec["staging"]),
                                f"worker process exited with code {slot.proc.exitcode}")
                        slots[i] = self._start()
                    elif self.timeout and time.monotonic() - slot.started > self.timeout:
                        _stop(slot.proc)
                        on_done(spec, None, f"timeout: no result after {self.timeout:g} s (worker stopped)")
                        slots[i] = self._start() if pending else _Slot(slots[i].proc, slots[i].conn)
        finally:
            for slot in slots:
                if slot.spec is None and slot.proc.is_alive():
                    try:
                        slot.conn.send(None)
                    except OSError:
                        pass
                    slot.proc.join(5)
                if slot.proc.is_alive():  # still busy (interrupted) or not stopping: leave no orphans
                    _stop(slot.proc)


def _stop(proc: Any) -> None:
    proc.terminate()
    proc.join(5)
    if proc.is_alive():
        proc.kill()
        proc.join()
