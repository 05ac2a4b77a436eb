"""The faiss vector index that large stores search through: candidates close to an exact scan, saved and
reloaded by another store handle, vectors added after training found, filters and BM25 candidates kept."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sourcebook.config import get_settings
from sourcebook.store.ann import AnnIndex, cells_for

DIM = 32


def clustered(n: int, seed: int = 0, centres: int = 60, dim: int = DIM) -> np.ndarray:
    """Unit vectors around ``centres`` directions (embeddings of a real corpus are clustered by topic)."""
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centres, dim)).astype(np.float32)
    x = c[rng.integers(0, centres, n)] + 0.35 * rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_cells_grow_with_the_collection() -> None:
    assert cells_for(1_000) == 25            # 40 training points per cell
    assert cells_for(40_000) == 800          # 4·√n
    assert cells_for(1_000_000) == 2_500     # capped by the training sample
    assert cells_for(100) == 16


def test_candidates_match_an_exact_scan_and_survive_a_reload(tmp_path) -> None:
    x = clustered(6_000)
    rowids = np.arange(100, 6_100, dtype=np.int64)
    ann = AnnIndex.build(x, rowids)
    rng = np.random.default_rng(1)
    recall = []
    for i in rng.integers(0, len(x), 20):
        q = x[i] + 0.1 * rng.standard_normal(DIM).astype(np.float32)
        q /= np.linalg.norm(q)
        exact = set(rowids[np.argsort(-(x @ q))[:10]].tolist())
        got = set(ann.candidates(q, 50, nprobe=16).tolist())
        recall.append(len(exact & got) / 10)
    assert np.mean(recall) >= 0.95, recall
    # a vector that arrives after training is found by its own query
    extra = clustered(1, seed=9)
    ann.add(extra, np.array([99_999]))
    assert 99_999 in ann.candidates(extra[0], 5, nprobe=16).tolist()
    ann.save(tmp_path, generation=3)
    assert AnnIndex.load(tmp_path, generation=4) is None      # another generation of passages: stale
    again = AnnIndex.load(tmp_path, generation=3)
    assert again is not None and again.size == 6_001
    assert again.candidates(extra[0], 5, nprobe=16).tolist() == ann.candidates(extra[0], 5, nprobe=16).tolist()
    meta = json.loads((tmp_path / "current.json").read_text())
    assert meta["size"] == 6_001 and len(list(tmp_path.glob("ivf-*.faiss"))) == 1


def test_a_damaged_index_file_is_rebuilt_not_fatal(tmp_path) -> None:
    ann = AnnIndex.build(clustered(2_000), np.arange(2_000))
    ann.save(tmp_path, generation=1)
    next(tmp_path.glob("ivf-*.faiss")).write_bytes(b"not an index")
    assert AnnIndex.load(tmp_path, generation=1) is None


@pytest.fixture()
def big_store(tmp_path):
    """A store of 2,000+ passages (a corpus of short articles and a note), each with a stored vector."""
    from sourcebook.ingest.folder import ingest_folder
    from sourcebook.store.embedder import get_embedder

    folder = tmp_path / "task"
    folder.mkdir()
    words = ["solar", "tariff", "battery", "wind", "grid", "roof", "storage", "turbine", "subsidy", "meter"]
    rng = np.random.default_rng(5)
    articles = [{"title": f"Article {i}", "page_body": " ".join(rng.choice(words, 12).tolist()) + f" item {i}."}
                for i in range(2_000)]
    (folder / "long_context.json").write_text(json.dumps(articles), encoding="utf-8")
    (folder / "b.md").write_text("\n\n".join(f"Meter {i} reads the grid tariff." for i in range(50)),
                                 encoding="utf-8")
    settings = get_settings(cache_dir=tmp_path / "cache")
    settings.search.ann_min_vectors = 1_000
    store = ingest_folder(folder, settings).store
    model = get_embedder(settings).model_id
    pending = store.pending_embeddings(model)
    dim = get_embedder(settings).dim or 384
    vecs = clustered(len(pending), seed=2, dim=dim)
    store.put_embeddings([(h, v.tobytes()) for (h, _), v in zip(pending, vecs, strict=True)], model)
    return store, dim


def test_a_large_store_searches_through_the_index(big_store) -> None:
    store, dim = big_store
    cache = store.searcher.dense_cache()
    assert cache.n >= 2_000 and cache.ann is not None and cache.ann.size == cache.n
    assert list((cache.ann_dir).glob("ivf-*.faiss"))
    q = cache.matrix[17]
    keep = np.array([5, 6])     # BM25 candidates: always scored
    got = cache.scores(q, None, keep, 20)
    exact = np.argsort(-(cache.matrix @ q))[:10]
    assert {int(cache.positions[r]) for r in exact} <= set(got)
    assert {5, 6} <= set(got)
    assert abs(got[int(cache.positions[17])] - 1.0) < 1e-4     # re-scored exactly, not from 8-bit codes
    # a filter to one file: only that file's passages, still the best of them
    mask = store.searcher.keyword_index().mask(None, ["b.md"])
    only_b = cache.scores(q, mask, keep[:0], 10)
    assert only_b and all(mask[p] > 0 for p in only_b)
    # another handle on the same store loads the saved index instead of training again
    from sourcebook.store import open_store

    other = open_store(store.folder, store.settings)
    again = other.searcher.dense_cache()
    assert again.ann is not None and again.ann.size == cache.ann.size
    hits = other.search("solar tariff battery", k=5, mode="dense")
    assert len(hits) == 5


def test_a_new_process_reads_the_saved_vectors_then_only_newer_rows(tmp_path, monkeypatch) -> None:
    from sourcebook.ingest.folder import ingest_folder
    from sourcebook.store import open_store, vector_file
    from sourcebook.store.embedder import get_embedder

    monkeypatch.setattr(vector_file, "SAVE_AFTER_ROWS", 50)
    folder = tmp_path / "task"
    folder.mkdir()
    articles = [{"title": f"Note {i}", "page_body": f"Meter {i} reads tariff {i * 7} at the grid."}
                for i in range(300)]
    (folder / "long_context.json").write_text(json.dumps(articles), encoding="utf-8")
    settings = get_settings(cache_dir=tmp_path / "cache")
    store = ingest_folder(folder, settings).store
    emb = get_embedder(settings)
    pending = store.pending_embeddings(emb.model_id)
    vecs = clustered(len(pending), seed=4, dim=emb.dim or 384)
    first, later = len(pending) // 2, len(pending)
    store.put_embeddings([(h, v.tobytes()) for (h, _), v in zip(pending[:first], vecs[:first], strict=True)],
                         emb.model_id)
    cache = store.searcher.dense_cache()          # reads 150 rows from SQLite: saves a copy
    assert cache.n == first and list(cache.ann_dir.glob("vec-*.matrix.npy"))
    store.put_embeddings([(h, v.tobytes()) for (h, _), v in zip(pending[first:], vecs[first:], strict=True)],
                         emb.model_id)

    other = open_store(folder, settings)
    read_after: list[int] = []
    real = other.vectors_after

    def spy(model: str, after: int):
        read_after.append(after)
        return real(model, after)

    other.vectors_after = spy
    again = other.searcher.dense_cache()
    assert read_after and read_after[0] == cache.last_row > 0    # SQLite asked only for the newer rows
    assert again.n == later
    by_row = dict(zip(again.rowids.tolist(), again.matrix, strict=True))
    for row, vec in zip(cache.rowids.tolist(), cache.matrix, strict=True):
        assert np.array_equal(by_row[row], vec)
    # a damaged copy is ignored, not fatal: the vectors come from SQLite again
    next(cache.ann_dir.glob("vec-*.matrix.npy")).write_bytes(b"broken")
    third = open_store(folder, settings).searcher.dense_cache()
    assert third.n == later
