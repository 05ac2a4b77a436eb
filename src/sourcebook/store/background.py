"""The dense index built in the background: after ingest a detached process embeds every passage without a
vector (documents first, then corpus articles), committing each batch, so a killed build resumes where it
stopped and searches use whatever is there. One builder per store (a file lock); progress is read from the
store itself.

    python -m sourcebook.store.background FOLDER STORE_DIR
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sourcebook.store.embedder import Embedder, get_embedder

if TYPE_CHECKING:
    from sourcebook.store.db import Store

LOCK_NAME = "dense.lock"
LOG_NAME = "dense.log"
# passages per model call: measured with benchmarks/bench_dense_index.py (e5-small, 320 characters: batch 8
# embeds ~20 % more characters per second than batch 1 and more than batch 32 on a loaded 2-core machine)
BATCH = 8


def _workers(store: Store) -> int:
    search = getattr(store.settings, "search", None)
    return max(1, int(getattr(search, "dense_workers", 2)))


def embed_pending(store: Store, embedder: Embedder | None = None, workers: int | None = None, batch: int = BATCH,
                  progress: Callable[[int, int], None] | None = None, limit: int | None = None) -> int:
    """Embed every passage of ``store`` without a vector (at most ``limit``), ``workers`` batches at a time,
    storing each batch as soon as it is done; returns how many texts were embedded."""
    emb = embedder or get_embedder(store.settings)
    pending = store.pending_embeddings(emb.model_id)[:limit]
    batches = [pending[i: i + batch] for i in range(0, len(pending), batch)]
    done = 0

    def run(part: list[tuple[str, str]]) -> np.ndarray:
        return emb.embed_passages([t for _, t in part])

    workers = workers or _workers(store)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # results arrive in order; each is written (and committed) by this thread only
        for part, vecs in zip(batches, pool.map(run, batches), strict=True):
            store.put_embeddings([(h, v.astype(np.float32).tobytes()) for (h, _), v in zip(part, vecs, strict=True)],
                                 emb.model_id)
            done += len(part)
            if progress:
                progress(done, len(pending))
    return done


@contextmanager
def builder_lock(store: Store) -> Iterator[bool]:
    """Hold the store's builder lock if free: yields True when this process is the builder."""
    path = Path(store.dir) / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        try:
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def is_building(store: Store) -> bool:
    """Whether a builder process is working on this store now."""
    with builder_lock(store) as mine:
        return not mine


def start(store: Store) -> subprocess.Popen | None:
    """Start the background builder for ``store`` unless one runs or nothing is pending; returns it."""
    emb = get_embedder(store.settings)
    done, total = store.dense_progress(emb.model_id)
    if done >= total or is_building(store):
        return None
    log = open(Path(store.dir) / LOG_NAME, "ab")  # noqa: SIM115 - handed to the child
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "sourcebook.store.background", str(store.folder), str(store.dir)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True)
    finally:
        log.close()


def status(store: Store) -> str:
    """``dense: 41 % of 57,117 passages`` (plus whether it is being built now)."""
    emb = get_embedder(store.settings)
    done, total = store.dense_progress(emb.model_id)
    pct = 100 * done // total if total else 100
    state = " (building in the background)" if done < total and is_building(store) else ""
    return f"dense: {pct} % of {total:,} passages{state}"


def build(store: Store) -> int:
    """Embed until nothing is pending (passages ingested meanwhile included); returns texts embedded,
    or -1 when another builder holds the store."""
    with builder_lock(store) as mine:
        if not mine:
            return -1
        total = 0
        while True:
            n = embed_pending(store)
            total += n
            if n == 0:
                return total


def main(argv: list[str]) -> int:
    from sourcebook.config import get_settings
    from sourcebook.store.db import Store

    folder, directory = Path(argv[0]), Path(argv[1])
    try:
        os.nice(10)  # searches and ingest in the foreground come first
    except OSError:
        pass
    store = Store(folder, directory, get_settings())
    n = build(store)
    print(f"{store.dir}: {'another builder is running' if n < 0 else f'{n} passages embedded'}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
