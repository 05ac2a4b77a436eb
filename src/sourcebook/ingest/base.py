"""The extractor interface: how a file kind turns into passages.

An extractor is a generator function ``extract(path, ctx) -> Iterator[PassageDraft]``. It yields
passages as it reads (so a 100 MB corpus never sits in memory whole), records facts about the file in
``ctx.meta`` (pages, slides, sheets, articles, duration_s, title, authors, ...), reports recoverable
problems with ``ctx.warn(reason)`` and raises :class:`ExtractionError` for fatal ones.
Extractors are registered per kind with :func:`register`; a later registration replaces an earlier one,
which is how richer extractors (OCR, speech) plug in over metadata-only ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sourcebook.models import PassageDraft


class ExtractionError(Exception):
    """A file could not be read; the message is the one-line reason shown to users."""

    def __init__(self, reason: str, status: str = "error") -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass
class ExtractContext:
    """What an extractor gets besides the path."""

    folder: Path                 # the task folder root
    rel_path: str                # path relative to the folder (POSIX)
    work_dir: Path               # per-source scratch/cache dir (keyframes, conversions), created on demand
    settings: Any = None         # sourcebook.config.Settings
    meta: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def warn(self, reason: str) -> None:
        self.warnings.append(reason)


Extractor = Callable[[Path, ExtractContext], Iterator[PassageDraft]]

_REGISTRY: dict[str, Extractor] = {}


def register(kind: str) -> Callable[[Extractor], Extractor]:
    """Decorator: make ``fn`` the extractor for ``kind``."""

    def deco(fn: Extractor) -> Extractor:
        _REGISTRY[kind] = fn
        return fn

    return deco


def extractor_for(kind: str) -> Extractor | None:
    """Return the extractor registered for ``kind`` (after loading the built-in ones)."""
    from sourcebook.ingest import load_extractors

    load_extractors()
    return _REGISTRY.get(kind)


def extractor_version(extractor: Extractor | None) -> str:
    """What identifies an extractor's output: its module, plus its ``variant()`` when it has one (for
    instance the caption model an image extractor uses). A change of either means files are read again."""
    if extractor is None:
        return "none"
    variant = getattr(extractor, "variant", None)
    suffix = variant() if callable(variant) else ""
    return f"{extractor.__module__}/{suffix}" if suffix else extractor.__module__
