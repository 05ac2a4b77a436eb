"""A saved copy of the dense cache: every vector of one model and store generation with its passage rowid
and the last embeddings row it includes, as ``.npy`` files beside the store. A new process reads it in
milliseconds instead of decoding every vector from SQLite, then reads only the rows stored after it."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

SAVE_AFTER_ROWS = 20_000   # a refresh that read this many vectors from SQLite saves a new copy


def save_vectors(directory: Path, generation: int, last_row: int, rowids: np.ndarray, matrix: np.ndarray) -> None:
    """Write the copy (new files, then the pointer, so a reader never sees a half-written copy)."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"vec-g{generation}-r{last_row}-{os.getpid()}"
    np.save(directory / f"{stem}.rowids.npy", np.asarray(rowids, dtype=np.int64))
    np.save(directory / f"{stem}.matrix.npy", np.ascontiguousarray(matrix, dtype=np.float32))
    tmp = directory / f"vectors.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"stem": stem, "generation": generation, "last_row": last_row,
                               "rows": int(len(rowids))}))
    os.replace(tmp, directory / "vectors.json")
    for old in directory.glob("vec-*"):
        if not old.name.startswith(stem + "."):
            old.unlink(missing_ok=True)


def load_vectors(directory: Path, generation: int) -> tuple[int, np.ndarray, np.ndarray] | None:
    """(last embeddings row, rowids, matrix) of the saved copy of this generation, or None."""
    try:
        meta = json.loads((directory / "vectors.json").read_text())
        if meta.get("generation") != generation:
            return None
        rowids = np.load(directory / f"{meta['stem']}.rowids.npy")
        matrix = np.load(directory / f"{meta['stem']}.matrix.npy")
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError) as exc:
        log.warning("saved vectors in %s not read: %s", directory, exc)
        return None
    if matrix.ndim != 2 or len(matrix) != len(rowids) or len(rowids) != meta.get("rows"):
        log.warning("saved vectors in %s not read: sizes disagree", directory)
        return None
    return int(meta["last_row"]), rowids, matrix
