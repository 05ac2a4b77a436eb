"""Content-addressed cache for media results (transcripts, timelines, image descriptions, thumbnails).

Entries live under ``settings.cache_dir / "media" / <sha256[:2]> / <sha256>/``; each result is a JSON file
named after what produced it (e.g. ``transcript-base-auto-v1.json``), written atomically. Because the key
is the file's content hash, a renamed or copied file hits the cache and an edited one does not.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Any

from sourcebook.fileutil import sha256_file

_hash_memo: dict[tuple[str, int, int], str] = {}
_memo_lock = threading.Lock()


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, memoised per (path, size, mtime) within the process."""
    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _memo_lock:
        hit = _hash_memo.get(key)
    if hit:
        return hit
    digest = sha256_file(path)
    with _memo_lock:
        _hash_memo[key] = digest
    return digest


def resolve_settings(settings: Any) -> Any:
    """``settings``, or the configured settings when it is None."""
    if settings is None:
        from sourcebook.config import get_settings

        settings = get_settings()
    return settings


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:120]


class MediaCache:
    """Cache rooted at ``root`` (normally ``settings.cache_dir / "media"``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @classmethod
    def from_settings(cls, settings: Any) -> MediaCache:
        return cls(Path(settings.cache_dir) / "media")

    def entry_dir(self, sha: str, create: bool = True) -> Path:
        """Directory holding everything cached for the file with hash ``sha``."""
        d = self.root / sha[:2] / sha
        if create:
            d.mkdir(parents=True, exist_ok=True)
        return d

    def load(self, sha: str, name: str) -> dict[str, Any] | None:
        """Return the cached JSON ``name`` for ``sha`` or None (also when unreadable)."""
        p = self.entry_dir(sha, create=False) / f"{_safe(name)}.json"
        try:
            with p.open(encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def save(self, sha: str, name: str, data: dict[str, Any]) -> Path:
        """Write ``data`` as JSON atomically (temp file + rename)."""
        d = self.entry_dir(sha)
        p = d / f"{_safe(name)}.json"
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, ensure_ascii=False, indent=1)
            os.replace(tmp, p)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return p
