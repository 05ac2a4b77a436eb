"""Hybrid search: BM25 over every passage, dense (e5) scores for BM25 candidates and cached vectors,
fused by reciprocal rank (or weights), with an optional "diverse" selection across documents."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

from sourcebook.models import Hit
from sourcebook.store import dense
from sourcebook.store.index import KeywordIndex, load_index
from sourcebook.store.tokenize import tokenize

if TYPE_CHECKING:
    from sourcebook.store.db import Store

MODES = ("hybrid", "bm25", "dense")
_lock = threading.Lock()


class _DenseCache:
    """In-memory copy of the vectors cached in the store, with each vector's position in the keyword index
    (-1 when its passage is not indexed); grown as queries embed more passages. Reset with the index."""

    def __init__(self, store: Store, idx: KeywordIndex) -> None:
        self.idx = idx
        rowids, self.matrix = dense.cached_matrix(store)
        self.positions = self._positions(rowids)
        self.known = set(rowids.tolist())

    def _positions(self, rowids: np.ndarray) -> np.ndarray:
        indexed = self.idx.rowids
        if not len(indexed):
            return np.full(len(rowids), -1, dtype=np.int64)
        pos = np.searchsorted(indexed, rowids)
        hit = (pos < len(indexed)) & (indexed[np.minimum(pos, len(indexed) - 1)] == rowids)
        return np.where(hit, pos, -1)

    def add(self, rowids: list[int], vecs: np.ndarray) -> None:
        new = [(r, v) for r, v in zip(rowids, vecs, strict=True) if r not in self.known]
        if not new:
            return
        self.positions = np.concatenate([self.positions, self._positions(np.array([r for r, _ in new]))])
        self.matrix = np.vstack([self.matrix, np.vstack([v for _, v in new])])
        self.known.update(r for r, _ in new)

    def scores(self, q: np.ndarray, mask: np.ndarray | None, keep: np.ndarray, limit: int) -> dict[int, float]:
        """Cosine per index position: the ``limit`` best cached vectors plus those at positions ``keep``."""
        if not len(self.positions):
            return {}
        sims = self.matrix @ q
        ok = self.positions >= 0
        if mask is not None:
            ok &= mask[np.maximum(self.positions, 0)] > 0
        cand = np.flatnonzero(ok)
        if len(cand) > limit:
            best = cand[np.argpartition(-sims[cand], limit - 1)[:limit]]
            cand = np.union1d(best, cand[np.isin(self.positions[cand], keep)])
        return dict(zip(self.positions[cand].tolist(), sims[cand].tolist(), strict=True))


def keyword_index(store: Store) -> KeywordIndex:
    """The store's keyword index, loaded once per generation."""
    with _lock:
        idx = store._index
        if idx is None or idx.generation != store.generation:
            idx = load_index(store)
            store._index = idx
            store._dense = None
        return idx


def _settings(store: Store):
    from sourcebook.config import SearchSettings

    s = getattr(store.settings, "search", None)
    return s if s is not None else SearchSettings()


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` best positive scores, best first."""
    if scores.size == 0:
        return np.zeros(0, dtype=np.int64)
    n = min(n, scores.size)
    part = np.argpartition(-scores, n - 1)[:n]
    part = part[scores[part] > 0]
    return part[np.argsort(-scores[part], kind="stable")]


def _dense_scores(store: Store, idx: KeywordIndex, query: str, bm25_pos: np.ndarray, n_embed: int,
                  mask: np.ndarray | None, limit: int) -> dict[int, float]:
    """Cosine score per index position for BM25 candidates (embedded lazily) and the best cached vectors."""
    cache = getattr(store, "_dense", None)
    if cache is None:
        cache = _DenseCache(store, idx)
        store._dense = cache
    need = [r for r in (int(idx.rowids[p]) for p in bm25_pos[:n_embed]) if r not in cache.known]
    if need:
        by_row = store.passages_by_rowid(need)
        ordered = [r for r in need if r in by_row]
        cache.add(ordered, dense.passage_vectors(store, [by_row[r] for r in ordered]))
    if not len(cache.positions):
        return {}
    return cache.scores(dense.embed_query(query), mask, bm25_pos, limit)


def _fuse(bm25_rank: list[int], bm25_scores: np.ndarray, dense_scores: dict[int, float], how: str,
          rrf_k: int, weight: float) -> list[tuple[int, float]]:
    """Combine the keyword ranking and the dense scores; ``weight`` is the dense share (0 … 1)."""
    dense_rank = sorted(dense_scores, key=lambda p: -dense_scores[p])
    fused: dict[int, float] = {}
    if how == "weighted":
        bmax = max((float(bm25_scores[p]) for p in bm25_rank), default=0.0)
        for p in set(bm25_rank) | set(dense_rank):
            bs = float(bm25_scores[p]) / bmax if bmax > 0 else 0.0
            ds = max(0.0, (dense_scores.get(p, 0.0) - 0.7) / 0.3)  # e5 cosines live in ~[0.7, 1]
            fused[p] = (1 - weight) * bs + weight * ds
    else:  # reciprocal rank fusion, each list weighted
        for r, p in enumerate(bm25_rank):
            fused[p] = fused.get(p, 0.0) + (1 - weight) / (rrf_k + r + 1)
        for r, p in enumerate(dense_rank):
            fused[p] = fused.get(p, 0.0) + weight / (rrf_k + r + 1)
    return sorted(fused.items(), key=lambda kv: -kv[1])


def _diverse(ranked: list[tuple[int, float]], idx: KeywordIndex, k: int, min_docs: int = 5,
             per_doc: int = 2) -> list[tuple[int, float]]:
    """At least ``min_docs`` distinct documents when available, at most ``per_doc`` passages each."""
    chosen: list[tuple[int, float]] = []
    count: dict[int, int] = {}
    for p, s in ranked:  # first: the best passage of distinct documents
        d = int(idx.doc_keys[p])
        if d not in count:
            count[d] = 1
            chosen.append((p, s))
            if len(chosen) >= min(min_docs, k):
                break
    taken = {p for p, _ in chosen}
    for p, s in ranked:  # then: fill by rank, capped per document
        if len(chosen) >= k:
            break
        d = int(idx.doc_keys[p])
        if p in taken or count.get(d, 0) >= per_doc:
            continue
        count[d] = count.get(d, 0) + 1
        chosen.append((p, s))
        taken.add(p)
    rank = {p: r for r, (p, _) in enumerate(ranked)}
    return sorted(chosen, key=lambda ps: rank[ps[0]])


def search(store: Store, query: str, k: int = 10, kinds: list[str] | None = None, mode: str = "hybrid",
           diverse: bool = False, sources: list[str] | None = None) -> list[Hit]:
    """Search the store's passages. ``mode`` is hybrid, bm25 or dense; ``kinds``/``sources`` filter by
    source kind or path; ``diverse`` spreads hits over documents (≥ 5 documents, ≤ 2 passages each)."""
    if mode not in MODES:
        raise ValueError(f"unknown search mode {mode!r} (use one of {', '.join(MODES)})")
    query = query.strip()
    if not query or k <= 0:
        return []
    cfg = _settings(store)
    idx = keyword_index(store)
    if not len(idx.rowids):
        return []
    mask = idx.mask(kinds, sources)
    scores = idx.scores(tokenize(query), mask)
    pool = max(k * (8 if diverse else 3), cfg.dense_candidates, 50)
    bm25_pos = _top(scores, pool)
    use_dense = mode in ("dense", "hybrid") and (cfg.dense or mode == "dense")
    dscores = _dense_scores(store, idx, query, bm25_pos, cfg.dense_candidates, mask, pool) if use_dense else {}
    if mode == "bm25" or not dscores:
        ranked = [(int(p), float(scores[p])) for p in bm25_pos]
    elif mode == "dense":
        ranked = sorted(dscores.items(), key=lambda kv: -kv[1])
    else:
        ranked = _fuse([int(p) for p in bm25_pos], scores, dscores, cfg.fusion, cfg.rrf_k, cfg.dense_weight)
    ranked = _diverse(ranked, idx, k) if diverse else ranked[:k]
    passages = store.passages_by_rowid([int(idx.rowids[p]) for p, _ in ranked])
    hits: list[Hit] = []
    for p, s in ranked:
        psg = passages.get(int(idx.rowids[p]))
        if psg is None:
            continue
        hits.append(Hit(passage_id=psg.id, score=round(s, 6), text=psg.text, locator=psg.locator,
                        label=psg.label, source=psg.source, kind=psg.kind, title=psg.title, loc=psg.loc))
    return hits
