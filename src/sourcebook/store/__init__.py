"""The evidence store: SQLite passages with locators, a BM25 index and dense vectors built in the background."""

from __future__ import annotations

from pathlib import Path

from sourcebook.store.db import Store, StoreError


def open_store(folder: Path, settings=None) -> Store:
    """Open (creating if needed) the store of ``folder`` in the cache directory."""
    from sourcebook.config import get_settings

    settings = settings or get_settings()
    return Store(Path(folder), settings.store_dir(Path(folder)), settings)


__all__ = ["Store", "StoreError", "open_store"]
