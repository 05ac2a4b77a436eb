"""Running a suite: claim the results directory, skip finished tasks, build each folder's store once (under a
lock), dispatch the rest to an executor, move each finished run into place, write the scorecard."""

from __future__ import annotations

import fcntl
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sourcebook.bench.manifest import Identity, claim
from sourcebook.bench.scorecard import RUNS, build_scorecard, write_scorecard
from sourcebook.bench.suite import BenchTask
from sourcebook.bench.worker import make_spec, read_record, write_record

STAGING_PREFIX = ".staging-"


@dataclass
class SuiteResult:
    """What a suite run did."""

    results: Path
    scorecard: dict[str, Any]
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    wall_s: float = 0.0


@contextmanager
def folder_lock(lock_path: Path) -> Iterator[None]:
    """An exclusive inter-process lock (``flock``) on ``lock_path``, held for the ``with`` block."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def prepare_stores(folders: list[Path], settings: Any, on_folder: Callable[[Path], None] | None = None
                   ) -> dict[Path, str]:
    """Ingest each folder once, under its store's lock; returns ``{folder: error}`` for folders that failed."""
    from sourcebook.ingest.folder import ingest_folder

    failed: dict[Path, str] = {}
    for folder in folders:
        if on_folder:
            on_folder(folder)
        try:
            with folder_lock(Path(settings.store_dir(folder)).with_name(Path(settings.store_dir(folder)).name + ".lock")):
                ingest_folder(folder, settings).store.close()
        except Exception as e:  # that folder's tasks fail; the others run
            failed[folder] = f"ingest of {folder} failed: {type(e).__name__}: {e}"
    return failed


def finished(run_dir: Path) -> bool:
    """A run directory whose task finished (``bench.json`` with status ``ok``)."""
    rec = read_record(run_dir)
    return bool(rec and rec.get("status") == "ok")


def run_suite(tasks: list[BenchTask], results: Path, identity: Identity, executor: Any, settings: Any, *,
              resume: bool = False, suite: dict[str, Any] | None = None, base_url: str | None = None,
              on_event: Callable[[str, str, dict[str, Any] | None], None] | None = None) -> SuiteResult:
    """Run ``tasks`` into ``results`` with ``executor`` and write ``scorecard.json``/``scorecard.md``.

    With ``resume`` finished tasks keep their run directories untouched; unfinished or failed ones run again.
    ``on_event(kind, task, record)`` reports ``skip``/``ingest``/``start``/``done`` for progress displays."""
    t_start = time.perf_counter()
    results = Path(results)
    claim(results, identity, suite or {}, resume)
    runs = results / RUNS
    runs.mkdir(parents=True, exist_ok=True)
    for stale in runs.glob(STAGING_PREFIX + "*"):
        shutil.rmtree(stale, ignore_errors=True)
    emit = on_event or (lambda *_a: None)
    todo: list[BenchTask] = []
    skipped: list[str] = []
    for t in tasks:
        if finished(runs / t.task):
            skipped.append(t.task)
            emit("skip", t.task, read_record(runs / t.task))
        else:
            todo.append(t)
    folders = list(dict.fromkeys(t.folder for t in todo))
    bad = prepare_stores(folders, settings, lambda f: emit("ingest", f.name, None))

    def finish(spec: dict[str, Any], record: dict[str, Any] | None, problem: str | None) -> None:
        staging = Path(spec["staging"])
        staging.mkdir(parents=True, exist_ok=True)
        task = spec["task"]["task"]
        if record is None or problem:
            record = {**(record or {}), "task": task, "status": "timeout" if problem and problem.startswith("timeout") else "error",
                      "error": problem or "the worker left no result", "model": identity.model}
        if problem or read_record(staging) is None:
            write_record(staging, record)
        final = runs / task
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
        emit("done", task, record)

    specs = []
    for t in todo:
        staging = runs / f"{STAGING_PREFIX}{t.task}"
        spec = make_spec(t, staging, identity.to_dict(), getattr(settings, "cache_dir", None), base_url)
        if t.folder in bad:
            staging.mkdir(parents=True, exist_ok=True)
            finish(spec, {"task": t.task, "status": "error", "error": bad[t.folder], "model": identity.model}, None)
            continue
        specs.append(spec)
    executor.run(specs, finish, on_start=lambda s: emit("start", s["task"]["task"], None))
    wall = round(time.perf_counter() - t_start, 3)
    card = build_scorecard(results, order=[t.task for t in tasks],
                           extra={"executor": executor.name, "workers": executor.workers, "suite_wall_s": wall,
                                  "ran": [t.task for t in todo], "resumed_skipped": skipped})
    write_scorecard(results, card)
    return SuiteResult(results, card, [t.task for t in todo], skipped, wall)
