"""Dense vectors of queries and passages through the configured :mod:`~sourcebook.store.embedder`, and
vectors of store passages cached by text hash and model. ``embed_query`` / ``embed_passages`` are the
module-level entry points other packages call."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sourcebook.store.embedder import LOCAL_DIM as DIM
from sourcebook.store.embedder import LOCAL_MAX_CHARS as MAX_CHARS
from sourcebook.store.embedder import LOCAL_MODEL as MODEL_NAME
from sourcebook.store.embedder import Embedder, get_embedder
from sourcebook.store.hashing import text_hash

if TYPE_CHECKING:
    from sourcebook.models import Passage
    from sourcebook.store.db import Store

__all__ = ["DIM", "MAX_CHARS", "MODEL_NAME", "default_embedder", "embed_passages", "embed_queries", "embed_query",
           "passage_vectors", "prewarm"]


def default_embedder() -> Embedder:
    """The embedder of the current settings (an embeddings server when configured, else bundled e5)."""
    from sourcebook.config import get_settings

    return get_embedder(get_settings())


def embed_query(text: str) -> np.ndarray:
    """Unit vector of a search query."""
    return default_embedder().embed_queries([text])[0]


def embed_queries(texts: list[str]) -> np.ndarray:
    """Unit vectors of queries or claims (rows), in order."""
    return default_embedder().embed_queries(list(texts))


def embed_passages(texts: list[str], batch: int = 16) -> np.ndarray:
    """Unit vectors of passages (rows), in order."""
    emb = default_embedder()
    if not texts:
        return np.zeros((0, emb.dim or DIM), dtype=np.float32)
    return np.vstack([emb.embed_passages(list(texts[i: i + batch])) for i in range(0, len(texts), batch)])


def passage_vectors(store: Store, passages: list[Passage], embedder: Embedder | None = None) -> np.ndarray:
    """Vectors for ``passages``, embedding (and caching in the store) those not seen before."""
    emb = embedder or get_embedder(store.settings)
    hashes = [text_hash(p.text) for p in passages]
    cached = store.get_embeddings(list(set(hashes)), emb.model_id)
    todo = {h: p.text for h, p in zip(hashes, passages, strict=True) if h not in cached}
    if todo:
        vecs = emb.embed_passages(list(todo.values()))
        new = [(h, v.astype(np.float32).tobytes()) for h, v in zip(todo, vecs, strict=True)]
        store.put_embeddings(new, emb.model_id)
        cached.update(dict(new))
    if not hashes:
        return np.zeros((0, emb.dim or DIM), dtype=np.float32)
    return np.vstack([np.frombuffer(cached[h], dtype=np.float32) for h in hashes])


def prewarm(store: Store, progress=None) -> int:
    """Embed every passage not yet cached, in this process (``--dense-all``); returns how many."""
    from sourcebook.store.background import embed_pending

    return embed_pending(store, progress=progress)
