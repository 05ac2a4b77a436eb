"""The keyword index: a bm25s index over every passage's tokens, saved per store generation."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sourcebook.store.db import Store

log = logging.getLogger(__name__)


@dataclass
class KeywordIndex:
    """BM25 over all passages plus, per indexed document, its passage rowid, source and document key."""

    generation: int
    bm25: object | None          # bm25s.BM25, None when the store has no passages
    rowids: np.ndarray           # int64, index position → passages.rowid
    source_idx: np.ndarray       # int32, index position → position in ``source_paths``
    doc_keys: np.ndarray         # int64, index position → document number (article for corpora)
    source_paths: list[str]
    source_kinds: list[str]

    def scores(self, tokens: list[str], mask: np.ndarray | None = None) -> np.ndarray:
        if self.bm25 is None or not len(self.rowids):
            return np.zeros(0, dtype=np.float32)
        s = self.bm25.get_scores(tokens)
        if mask is not None:
            s = s * mask
        return s

    def mask(self, kinds: list[str] | None, sources: list[str] | None) -> np.ndarray | None:
        """A 0/1 weight per document admitting only the given kinds and/or source paths."""
        if not kinds and not sources:
            return None
        ok = np.ones(len(self.source_paths), dtype=bool)
        if kinds:
            ks = set(kinds)
            ok &= np.array([k in ks for k in self.source_kinds], dtype=bool)
        if sources:
            ss = set(sources)
            ok &= np.array(
                [p in ss or p.rsplit("/", 1)[-1] in ss for p in self.source_paths], dtype=bool
            )
        return ok[self.source_idx].astype(np.float32)


def _index_dir(store: Store) -> Path:
    return store.dir / "bm25"


def build_index(store: Store) -> KeywordIndex:
    """Build and save the keyword index for the store's current generation."""
    import bm25s

    gen = store.generation
    rows = store.keyword_rows()
    n = store.passage_count()
    paths: list[str] = []
    kinds: list[str] = []
    pos: dict[str, int] = {}
    rowids = np.empty(n, dtype=np.int64)
    src = np.empty(n, dtype=np.int32)
    docs = np.empty(n, dtype=np.int64)
    corpus: list[list[str]] = []
    interned: dict[str, str] = {}  # one string object per distinct token keeps a 12k-article index small
    for i, (rowid, tokens, loc, path, kind, source_id) in enumerate(rows):
        if path not in pos:
            pos[path] = len(paths)
            paths.append(path)
            kinds.append(kind)
        rowids[i] = rowid
        src[i] = pos[path]
        article = -1
        if kind == "corpus" and '"article"' in loc:
            article = int(json.loads(loc).get("article", -1))
        docs[i] = (int(source_id) << 24) + (article + 1)
        corpus.append([interned.setdefault(t, t) for t in (tokens or "").split()] or [""])
    rowids, src, docs = rowids[: len(corpus)], src[: len(corpus)], docs[: len(corpus)]
    bm25 = None
    if corpus:
        bm25 = bm25s.BM25()
        bm25.index(corpus, show_progress=False)
    idx = KeywordIndex(gen, bm25, rowids, src, docs, paths, kinds)
    _save(store, idx)
    return idx


def _save(store: Store, idx: KeywordIndex) -> None:
    d = _index_dir(store)
    tmp = d.with_name("bm25.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if idx.bm25 is not None:
        idx.bm25.save(str(tmp / "bm25s"))
    np.savez(tmp / "arrays.npz", rowids=idx.rowids, source_idx=idx.source_idx, doc_keys=idx.doc_keys)
    (tmp / "meta.json").write_text(
        json.dumps({"generation": idx.generation, "paths": idx.source_paths, "kinds": idx.source_kinds},
                   ensure_ascii=False),
        encoding="utf-8",
    )
    shutil.rmtree(d, ignore_errors=True)
    tmp.rename(d)


def load_index(store: Store) -> KeywordIndex:
    """Load the saved index if it matches the store's generation, else build it."""
    d = _index_dir(store)
    gen = store.generation
    try:
        meta = json.loads((d / "meta.json").read_text(encoding="utf-8"))
        if meta["generation"] != gen:
            raise ValueError("stale")
        arrays = np.load(d / "arrays.npz")
        bm25 = None
        if (d / "bm25s").exists():
            import bm25s

            bm25 = bm25s.BM25.load(str(d / "bm25s"), mmap=False)
        return KeywordIndex(gen, bm25, arrays["rowids"], arrays["source_idx"], arrays["doc_keys"],
                            meta["paths"], meta["kinds"])
    except (OSError, ValueError, KeyError):
        return build_index(store)
