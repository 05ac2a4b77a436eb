"""Hybrid search: BM25 over every passage, dense (e5) scores from every vector built so far (by the background
index) plus BM25 candidates embedded within a time budget, fused by weights (or reciprocal rank), with an
optional "diverse" selection across documents. One :class:`Searcher` per store owns the keyword index, the
in-memory copy of the vectors and the lock that guards both."""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sourcebook.models import Hit
from sourcebook.store.embedder import Embedder, get_embedder
from sourcebook.store.hashing import text_hash
from sourcebook.store.index import KeywordIndex, load_index
from sourcebook.store.tokenize import tokenize

if TYPE_CHECKING:
    from sourcebook.store.ann import AnnIndex
    from sourcebook.store.db import Store

MODES = ("hybrid", "bm25", "dense")
LAZY_BATCH = 1   # candidates embedded per step while the query's time budget lasts (2 × 320 characters
                 # at ~1,700 characters/s would never fit a 250 ms budget)
COST_PER_CHAR = 1 / 1700  # seconds per embedded character before the first measurement (e5-small, 1 core)
QUERY_CACHE = 1024


class DenseCache:
    """In-memory copy of the store's vectors for one model: per row its passage rowid and its position in
    the keyword index (-1 when its passage is not indexed); topped up from the store before each query.
    A copy is saved in ``directory`` (:mod:`~sourcebook.store.vector_file`) for the next process. Past
    ``ann_min`` vectors, candidates come from an :class:`~sourcebook.store.ann.AnnIndex` (saved there too)
    and are re-scored exactly; below it every vector is scored."""

    def __init__(self, idx: KeywordIndex, dim: int, ann_min: int = 0, nprobe: int = 64,
                 directory: Path | None = None) -> None:
        self.idx = idx
        self.ann_min, self.nprobe, self.ann_dir = ann_min, nprobe, directory
        self.last_row = 0   # last embeddings row read from the store
        self._reset(dim)

    def _reset(self, dim: int) -> None:
        self._buf = np.zeros((0, dim), dtype=np.float32)   # grows by doubling; rows ``0 … n-1`` in use
        self.n = 0
        self.rowids = np.zeros(0, dtype=np.int64)
        self.positions = np.zeros(0, dtype=np.int64)
        self.known: set[int] = set()
        self.ann: AnnIndex | None = None
        self._row_of_pos = np.full(len(self.idx.rowids), -1, dtype=np.int64)   # keyword position → row
        self._by_rowid: np.ndarray | None = None    # rows sorted by passage rowid
        self._tail: np.ndarray | None = None        # rows the vector index does not hold yet

    @property
    def matrix(self) -> np.ndarray:
        return self._buf[: self.n]

    def _positions(self, rowids: np.ndarray) -> np.ndarray:
        indexed = self.idx.rowids
        if not len(indexed) or not len(rowids):
            return np.full(len(rowids), -1, dtype=np.int64)
        pos = np.searchsorted(indexed, rowids)
        hit = (pos < len(indexed)) & (indexed[np.minimum(pos, len(indexed) - 1)] == rowids)
        return np.where(hit, pos, -1)

    def refresh(self, store: Store, model: str) -> None:
        """Read the vectors stored since the last refresh (by the background index or other processes),
        then bring the vector index up to date when the store is large enough for one."""
        from sourcebook.store.vector_file import SAVE_AFTER_ROWS, load_vectors, save_vectors

        if self.last_row == 0 and not self.n and self.ann_dir is not None:
            saved = load_vectors(self.ann_dir, store.generation)
            if saved is not None:
                self.last_row = saved[0]
                self.add(saved[1].tolist(), saved[2])
        self.last_row, rowids, blobs = store.vectors_after(model, self.last_row)
        if rowids:
            self.add(rowids, np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(rowids), -1))
            if len(rowids) >= SAVE_AFTER_ROWS and self.ann_dir is not None:
                save_vectors(self.ann_dir, store.generation, self.last_row, self.rowids, self.matrix)
        if self.ann_min and self.n >= self.ann_min and self.ann_dir is not None:
            self._update_ann(store.generation)

    def add(self, rowids: list[int], vecs: np.ndarray) -> None:
        """Append vectors (rows of ``vecs``) of passages ``rowids``; passages already held are skipped."""
        fresh = [i for i, r in enumerate(rowids) if r not in self.known]
        if not fresh:
            return
        dim = vecs.shape[1]
        if self._buf.shape[1] != dim:
            self._reset(dim)
        need = self.n + len(fresh)
        if need > len(self._buf):
            grown = np.zeros((max(need, 2 * len(self._buf), 1024), dim), dtype=np.float32)
            grown[: self.n] = self.matrix
            self._buf = grown
        ids = np.asarray(rowids, dtype=np.int64)[fresh]
        self._buf[self.n: need] = vecs if len(fresh) == len(rowids) else vecs[fresh]
        pos = self._positions(ids)
        self._row_of_pos[pos[pos >= 0]] = np.arange(self.n, need)[pos >= 0]
        self.rowids = np.concatenate([self.rowids, ids])
        self.positions = np.concatenate([self.positions, pos])
        self.known.update(ids.tolist())
        self.n = need
        self._by_rowid = self._tail = None

    def _update_ann(self, generation: int) -> None:
        from sourcebook.store.ann import AnnIndex

        if self.ann is None:
            self.ann = AnnIndex.load(self.ann_dir, generation)
            if self.ann is None:
                self.ann = AnnIndex.build(self.matrix, self.rowids)
                self.ann.save(self.ann_dir, generation)
                return
        if self.ann.size >= self.n:      # nothing added since the last refresh: no per-query set difference
            return
        missing = np.flatnonzero(~np.isin(self.rowids, self.ann.rowids))
        if len(missing):
            self.ann.add(self.matrix[missing], self.rowids[missing])
            if len(missing) >= max(1000, self.ann.size // 20):   # saved again after 5 % growth
                self.ann.save(self.ann_dir, generation)
        self._tail = None

    def _ann_rows(self, q: np.ndarray, ok: np.ndarray, keep: np.ndarray, limit: int) -> np.ndarray | None:
        """Rows worth scoring exactly, from the vector index (None: score every row)."""
        if self.ann is None or self.n < self.ann_min:
            return None
        share = float(ok.mean())
        if share < 0.05:     # a narrow filter: its own rows are few, score them all
            return None
        found = self.ann.candidates(q, int(min(self.n, limit * 2 / share)), self.nprobe)
        if self._by_rowid is None:
            self._by_rowid = np.argsort(self.rowids, kind="stable")
        if self._tail is None:
            self._tail = np.flatnonzero(~np.isin(self.rowids, self.ann.rowids))
        order = self._by_rowid
        at = np.minimum(np.searchsorted(self.rowids, found, sorter=order), self.n - 1)
        rows = order[at][self.rowids[order[at]] == found]
        tail = self._tail
        kept = self._row_of_pos[keep[(keep >= 0) & (keep < len(self._row_of_pos))]] if len(keep) else rows[:0]
        return np.unique(np.concatenate([rows, tail, kept[kept >= 0]]))

    def scores(self, q: np.ndarray, mask: np.ndarray | None, keep: np.ndarray, limit: int) -> dict[int, float]:
        """Cosine per index position: the ``limit`` best vectors plus those at positions ``keep``."""
        if not self.n:
            return {}
        ok = self.positions >= 0
        if mask is not None:
            ok &= mask[np.maximum(self.positions, 0)] > 0
        rows = self._ann_rows(q, ok, keep, limit)
        if rows is None:
            cand = np.flatnonzero(ok)
            sims = self.matrix[cand] @ q if len(cand) < self.n // 2 else (self.matrix @ q)[cand]
        else:
            cand = rows[ok[rows]]
            sims = self.matrix[cand] @ q
        if len(cand) > limit:
            best = np.argpartition(-sims, limit - 1)[:limit]
            sel = np.union1d(best, np.flatnonzero(np.isin(self.positions[cand], keep)))
            cand, sims = cand[sel], sims[sel]
        return dict(zip(self.positions[cand].tolist(), sims.tolist(), strict=True))


class Searcher:
    """Search over one store: owns its keyword index and dense cache (rebuilt for a new generation of
    passages) and the lock that guards them."""

    def __init__(self, store: Store, embedder: Embedder | None = None) -> None:
        self.store = store
        self.embedder = embedder or get_embedder(store.settings)
        self._lock = threading.RLock()
        self._index: KeywordIndex | None = None
        self._dense: DenseCache | None = None
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()  # recent query vectors
        self._cost_per_char = COST_PER_CHAR

    def query_vector(self, query: str) -> np.ndarray:
        """The query's unit vector (the last ``QUERY_CACHE`` queries are kept)."""
        with self._lock:
            vec = self._queries.get(query)
            if vec is not None:
                self._queries.move_to_end(query)
                return vec
        vec = self.embedder.embed_queries([query])[0]
        with self._lock:
            self._queries[query] = vec
            while len(self._queries) > QUERY_CACHE:
                self._queries.popitem(last=False)
        return vec

    def keyword_index(self) -> KeywordIndex:
        """The keyword index of the store's current generation (loaded or built once)."""
        with self._lock:
            gen = self.store.generation
            if self._index is None or self._index.generation != gen:
                self._index = load_index(self.store)
                self._dense = None
            return self._index

    def dense_cache(self) -> DenseCache:
        """Every vector of the store for this embedder, topped up with those stored since the last call."""
        with self._lock:
            idx = self.keyword_index()
            if self._dense is None:
                cfg = _settings(self.store)
                self._dense = DenseCache(idx, self.embedder.dim or 1, cfg.ann_min_vectors, cfg.ann_nprobe,
                                         self.store.dir / "dense" / _slug(self.embedder.model_id))
            self._dense.refresh(self.store, self.embedder.model_id)
            return self._dense

    def _embed_lazily(self, cache: DenseCache, idx: KeywordIndex, bm25_pos: np.ndarray, n: int,
                      deadline: float) -> None:
        """Embed (and store) uncached BM25 candidates, best first, until ``deadline``."""
        need = [r for r in (int(idx.rowids[p]) for p in bm25_pos[:n]) if r not in cache.known]
        if not need:
            return
        by_row = self.store.passages_by_rowid(need)
        todo = [r for r in need if r in by_row]
        for i in range(0, len(todo), LAZY_BATCH):
            part = todo[i: i + LAZY_BATCH]
            texts = [by_row[r].text for r in part]
            chars = sum(min(len(t), self.embedder.max_chars or len(t)) for t in texts)
            # start a step only if it is expected to end within the budget (cost per character measured
            # on this machine, as it is loaded now)
            if time.perf_counter() + chars * self._cost_per_char >= deadline:
                break
            t0 = time.perf_counter()
            vecs = self.embedder.embed_passages(texts)
            self._cost_per_char = 0.5 * self._cost_per_char + 0.5 * (time.perf_counter() - t0) / max(1, chars)
            self.store.put_embeddings([(text_hash(t), v.tobytes()) for t, v in zip(texts, vecs, strict=True)],
                                      self.embedder.model_id)
            cache.add(part, vecs)

    def _dense_scores(self, query: str, idx: KeywordIndex, bm25_pos: np.ndarray, n_embed: int,
                      mask: np.ndarray | None, limit: int, budget_s: float) -> dict[int, float]:
        start = time.perf_counter()
        q = self.query_vector(query)
        cache = self.dense_cache()
        self._embed_lazily(cache, idx, bm25_pos, n_embed, start + budget_s)
        if not len(cache.positions):
            return {}
        return cache.scores(q, mask, bm25_pos, limit)

    def search(self, query: str, k: int = 10, kinds: list[str] | None = None, mode: str = "hybrid",
               diverse: bool = False, sources: list[str] | None = None) -> list[Hit]:
        """Search the store's passages. ``mode`` is hybrid, bm25 or dense; ``kinds``/``sources`` filter by
        source kind or path; ``diverse`` spreads hits over documents (≥ 5 documents, ≤ 2 passages each)."""
        if mode not in MODES:
            raise ValueError(f"unknown search mode {mode!r} (use one of {', '.join(MODES)})")
        query = query.strip()
        if not query or k <= 0:
            return []
        cfg = _settings(self.store)
        idx = self.keyword_index()
        if not len(idx.rowids):
            return []
        mask = idx.mask(kinds, sources)
        scores = idx.scores(tokenize(query), mask)
        pool = max(k * (8 if diverse else 3), cfg.dense_candidates, 50)
        bm25_pos = _top(scores, pool)
        use_dense = mode in ("dense", "hybrid") and (cfg.dense or mode == "dense")
        dscores: dict[int, float] = {}
        if use_dense:
            # dense mode waits for every candidate; hybrid embeds what its time budget allows
            budget = float("inf") if mode == "dense" else cfg.dense_budget_ms / 1000
            dscores = self._dense_scores(query, idx, bm25_pos, cfg.dense_candidates, mask, pool, budget)
        if mode == "bm25" or not dscores:
            ranked = [(int(p), float(scores[p])) for p in bm25_pos]
        elif mode == "dense":
            ranked = sorted(dscores.items(), key=lambda kv: -kv[1])
        else:
            ranked = _fuse([int(p) for p in bm25_pos], scores, dscores, cfg.fusion, cfg.rrf_k,
                           cfg.dense_weight)
        ranked = _diverse(ranked, idx, k) if diverse else ranked[:k]
        passages = self.store.passages_by_rowid([int(idx.rowids[p]) for p, _ in ranked])
        hits: list[Hit] = []
        for p, s in ranked:
            psg = passages.get(int(idx.rowids[p]))
            if psg is None:
                continue
            hits.append(Hit(passage_id=psg.id, score=round(s, 6), text=psg.text, locator=psg.locator,
                            label=psg.label, source=psg.source, kind=psg.kind, title=psg.title, loc=psg.loc))
        return hits


def _settings(store: Store):
    from sourcebook.config import SearchSettings

    s = getattr(store.settings, "search", None)
    return s if s is not None else SearchSettings()


def _slug(model: str) -> str:
    """A file-name-safe name for an embedding model id."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("_")[:80] or "model"


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` best positive scores, best first."""
    if scores.size == 0:
        return np.zeros(0, dtype=np.int64)
    n = min(n, scores.size)
    part = np.argpartition(-scores, n - 1)[:n]
    part = part[scores[part] > 0]
    return part[np.argsort(-scores[part], kind="stable")]


def _fuse(bm25_rank: list[int], bm25_scores: np.ndarray, dense_scores: dict[int, float], how: str,
          rrf_k: int, weight: float) -> list[tuple[int, float]]:
    """Combine the keyword ranking and the dense scores; ``weight`` is the dense share (0 … 1)."""
    dense_rank = sorted(dense_scores, key=lambda p: -dense_scores[p])
    fused: dict[int, float] = {}
    if how == "weighted":
        bmax = max((float(bm25_scores[p]) for p in bm25_rank), default=0.0)
        for p in set(bm25_rank) | set(dense_rank):
            bs = float(bm25_scores[p]) / bmax if bmax > 0 else 0.0
            # e5 cosines live in ~[0.7, 1]; a candidate left unembedded by the time budget keeps its BM25 place
            ds = max(0.0, (dense_scores[p] - 0.7) / 0.3) if p in dense_scores else bs
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
