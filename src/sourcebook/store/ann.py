"""Approximate nearest neighbours for large stores.

Scoring every vector is one matrix-vector product: 10⁵ vectors cost tens of milliseconds, 10⁶ cost
0.2–0.7 s and 1.5 GB (``benchmarks/bench_vector_scan.py``). From ``search.ann_min_vectors`` vectors on,
the dense cache keeps a faiss inverted-file index (IVF: k-means cells, vectors stored as 8-bit scalars) over
its rows; a query visits ``search.ann_nprobe`` cells and the rows found there are re-scored exactly from the
float vectors. The index is saved beside the store with the row order it covers, so another process loads
it instead of training again, and rows added later are appended to it without retraining.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

TRAIN_PER_CELL = 40      # training vectors per k-means cell (faiss warns below 39)
MAX_TRAIN = 100_000      # training sample cap


def cells_for(n: int) -> int:
    """Number of IVF cells for ``n`` vectors: about 4·√n, at least 16, with enough training points each
    (and at most what the training sample can train)."""
    return max(16, min(int(4 * math.sqrt(n)), n // TRAIN_PER_CELL, MAX_TRAIN // TRAIN_PER_CELL))


class AnnIndex:
    """A faiss IVF (8-bit scalar-quantised, inner product) index whose ids are passage rowids."""

    def __init__(self, index: object, rowids: np.ndarray) -> None:
        self.index = index
        self.rowids = np.sort(np.asarray(rowids, dtype=np.int64))   # the passages it holds

    @property
    def size(self) -> int:
        return len(self.rowids)

    @classmethod
    def build(cls, matrix: np.ndarray, rowids: np.ndarray, seed: int = 0) -> AnnIndex:
        """Train the cells on a sample of ``matrix`` and add every row."""
        import faiss

        n, dim = matrix.shape
        t0 = time.perf_counter()
        nlist = cells_for(n)
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit,
                                              faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(seed)
        take = min(n, max(nlist * TRAIN_PER_CELL, 1), MAX_TRAIN)
        sample = matrix[np.sort(rng.choice(n, take, replace=False))] if take < n else matrix
        index.train(np.ascontiguousarray(sample, dtype=np.float32))
        ann = cls(index, np.zeros(0, dtype=np.int64))
        ann.add(matrix, rowids)
        log.info("vector index: %d vectors in %d cells built in %.1f s", n, nlist, time.perf_counter() - t0)
        return ann

    def add(self, matrix: np.ndarray, rowids: np.ndarray) -> None:
        """Add vectors (rows of ``matrix``) of the passages ``rowids``; the cells stay as trained."""
        if len(rowids):
            ids = np.asarray(rowids, dtype=np.int64)
            self.index.add_with_ids(np.ascontiguousarray(matrix, dtype=np.float32), ids)
            self.rowids = np.union1d(self.rowids, ids)

    def candidates(self, q: np.ndarray, n: int, nprobe: int) -> np.ndarray:
        """Passage rowids of (about) the ``n`` vectors nearest to ``q``, visiting ``nprobe`` cells."""
        self.index.nprobe = max(1, min(nprobe, self.index.nlist))
        _, ids = self.index.search(np.ascontiguousarray(q[None, :], dtype=np.float32), max(1, n))
        ids = ids[0]
        return ids[ids >= 0]

    # -- persistence ------------------------------------------------------------------------------
    def save(self, directory: Path, generation: int) -> None:
        """Write the index and its row order (a new file pair, then the pointer, so readers never see a
        half-written index)."""
        import faiss

        directory.mkdir(parents=True, exist_ok=True)
        stem = f"ivf-g{generation}-{self.size}-{os.getpid()}"
        faiss.write_index(self.index, str(directory / f"{stem}.faiss"))
        np.save(directory / f"{stem}.rowids.npy", self.rowids)
        tmp = directory / f"current.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"stem": stem, "generation": generation, "size": self.size}))
        os.replace(tmp, directory / "current.json")
        for old in directory.glob("ivf-*"):
            if not old.name.startswith(stem + "."):
                old.unlink(missing_ok=True)

    @classmethod
    def load(cls, directory: Path, generation: int) -> AnnIndex | None:
        """The saved index of this store generation, or None (absent, stale or unreadable)."""
        try:
            meta = json.loads((directory / "current.json").read_text())
            if meta.get("generation") != generation:
                return None
            import faiss

            index = faiss.read_index(str(directory / f"{meta['stem']}.faiss"))
            rowids = np.load(directory / f"{meta['stem']}.rowids.npy")
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            if not isinstance(exc, FileNotFoundError):
                log.warning("vector index in %s not loaded: %s", directory, exc)
            return None
        if index.ntotal != len(rowids):
            return None
        return cls(index, rowids)
