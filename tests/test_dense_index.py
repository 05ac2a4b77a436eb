"""The dense index: embeddings from a real local /v1/embeddings server, the background builder (progress,
resume after kill -9 without re-embedding), and the query-time embedding budget with the bundled model."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from sourcebook.config import get_settings
from sourcebook.ingest.folder import ingest_folder
from sourcebook.store import background
from sourcebook.store.embedder import EmbeddingError, LocalE5, ServerEmbedder, get_embedder
from tests.embedserver import EmbeddingServer

WORDS = ("harbour tide basalt orchard glacier lantern meadow copper falcon violin quarry canyon "
         "saffron beacon marble thistle walnut ember prairie cobalt").split()


def _corpus_folder(root: Path, n: int) -> Path:
    """A folder whose corpus has ``n`` short articles with distinct texts."""
    folder = root / "task"
    folder.mkdir()
    arts = [{"title": f"a{i}", "page_body": f"Note {i}: the {WORDS[i % 20]} near the {WORDS[(i * 7 + 3) % 20]} "
                                            f"was logged on day {i * 13 % 97} of season {i}."} for i in range(n)]
    (folder / "long_context.json").write_text(json.dumps(arts), encoding="utf-8")
    (folder / "brief.md").write_text("# Brief\n\nThe lantern of the old harbour guides boats at dusk.\n",
                                     encoding="utf-8")
    return folder


@pytest.fixture()
def server(monkeypatch: pytest.MonkeyPatch):
    with EmbeddingServer() as srv:
        monkeypatch.setenv("SOURCEBOOK_EMBEDDINGS__BASE_URL", srv.url)
        monkeypatch.setenv("SOURCEBOOK_EMBEDDINGS__MODEL", "trigram-64")
        monkeypatch.setenv("SOURCEBOOK_EMBEDDINGS__QUERY_PREFIX", "query: ")
        yield srv


def test_server_embedder_vectors_prefixes_and_cache(server: EmbeddingServer, tmp_path: Path) -> None:
    settings = get_settings()
    emb = get_embedder(settings)
    assert isinstance(emb, ServerEmbedder) and emb.model_id.startswith("trigram-64@http://127.0.0.1:")
    q = emb.embed_queries(["copper falcon"])
    p = emb.embed_passages(["the copper falcon", "a walnut prairie", "copper"])
    assert q.shape == (1, 64) and p.shape == (3, 64) and q.dtype == np.float32
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-5)
    assert server.received[0] == "query: copper falcon" and server.received[1] == "the copper falcon"
    sims = p @ q[0]
    assert sims[0] > sims[2] > sims[1]  # order of the (reversed) response restored by index
    # search through the store: vectors cached by text hash and model, reused by the next search
    store = ingest_folder(_corpus_folder(tmp_path, 30), settings).store
    hits = store.search("the lantern of the old harbour", k=3, mode="dense")
    assert hits[0].source == "brief.md"
    sent = len(server.received)
    store.search("the lantern of the old harbour", k=3, mode="dense")
    assert len(server.received) == sent  # passages cached in the store, the query vector in the searcher
    store.search("lantern harbour boats", k=3, mode="dense")
    assert server.received[sent:] == ["query: lantern harbour boats"]
    assert store.dense_progress(emb.model_id)[0] > 0


def test_server_errors_name_the_endpoint() -> None:
    with EmbeddingServer(fail_status=503) as srv:
        emb = ServerEmbedder(srv.url, "m")
        with pytest.raises(EmbeddingError, match=r"127\.0\.0\.1.*HTTP 503"):
            emb.embed_passages(["x"])
    emb = ServerEmbedder("http://127.0.0.1:9/v1", "m", timeout_s=2)
    with pytest.raises(EmbeddingError, match="127.0.0.1:9"):
        emb.embed_queries(["x"])


def test_background_build_progress_and_resume_after_kill(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with EmbeddingServer(delay_s=0.15) as srv:
        monkeypatch.setenv("SOURCEBOOK_EMBEDDINGS__BASE_URL", srv.url)
        monkeypatch.setenv("SOURCEBOOK_EMBEDDINGS__MODEL", "trigram-64")
        monkeypatch.setenv("SOURCEBOOK_EMBEDDINGS__BATCH", "4")
        monkeypatch.setenv("SOURCEBOOK_SEARCH__DENSE_WORKERS", "1")
        settings = get_settings()
        store = ingest_folder(_corpus_folder(tmp_path, 120), settings).store
        model = get_embedder(settings).model_id
        assert background.status(store) == f"dense: 0 % of {store.passage_count():,} passages"
        proc = background.start(store)
        assert proc is not None
        deadline = time.time() + 60
        while store.dense_progress(model)[0] < 16 and time.time() < deadline:
            time.sleep(0.05)
        assert background.is_building(store)
        assert "building in the background" in background.status(store)
        assert background.start(store) is None  # one builder per store
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        time.sleep(0.5)  # let the server finish the killed builder's request in flight
        done, total = store.dense_progress(model)
        assert 16 <= done < total
        # the documents were embedded before the corpus
        assert any("lantern" in t for t in srv.received[:4])
        pending = {t for _, t in store.pending_embeddings(model)}
        assert len(pending) == total - done
        sent = len(srv.received)
        n = background.build(store)
        again = srv.received[sent:]
        assert n == len(again) == len(pending) and set(again) == pending, "a finished passage was embedded again"
        assert store.dense_progress(model) == (total, total)
        assert not store.pending_embeddings(model)
        assert background.status(store) == f"dense: 100 % of {total:,} passages"


def test_query_budget_bounds_lazy_embedding(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With the bundled model: no budget means BM25 order and nothing embedded; a budget embeds candidates."""
    folder = _corpus_folder(tmp_path, 40)
    monkeypatch.setenv("SOURCEBOOK_SEARCH__DENSE_BUDGET_MS", "0")
    store = ingest_folder(folder, get_settings()).store
    model = LocalE5().model_id
    bm25 = store.search("copper falcon season", k=5, mode="bm25")
    assert [h.passage_id for h in store.search("copper falcon season", k=5)] == [h.passage_id for h in bm25]
    assert store.dense_progress(model)[0] == 0
    monkeypatch.setenv("SOURCEBOOK_SEARCH__DENSE_BUDGET_MS", "60000")
    store = ingest_folder(folder, get_settings()).store
    store.search("copper falcon season", k=5)
    assert store.dense_progress(model)[0] >= 5


def test_module_functions_and_truncation_with_the_bundled_model() -> None:
    from sourcebook.store import dense

    q = dense.embed_query("where do bees find food")
    qs = dense.embed_queries(["where do bees find food", "潮汐能"])
    p = dense.embed_passages(["Bees dance to show where the flowers are."])
    assert q.shape == (384,) and qs.shape == (2, 384) and p.shape == (1, 384)
    assert np.allclose(qs[0], q, atol=1e-5) and abs(float(np.linalg.norm(p[0])) - 1) < 1e-4
    emb = LocalE5(max_chars=40)
    head = "Bees dance to show where the flowers are"
    long = emb.embed_passages([head + " and then they fly back to the hive with nectar and pollen."])
    assert np.allclose(long, emb.embed_passages([head]), atol=1e-5)  # only what the model is given counts
    assert emb.model_id != LocalE5().model_id  # vectors of another cut are cached apart
