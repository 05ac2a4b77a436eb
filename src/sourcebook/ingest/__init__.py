"""Folder intake: detect each file's kind and turn it into passages (see ``base`` for the interface)."""

from __future__ import annotations

import importlib

_BUILTIN = (
    "sourcebook.ingest.pdf",
    "sourcebook.ingest.office",
    "sourcebook.ingest.sheets",
    "sourcebook.ingest.text",
    "sourcebook.ingest.corpus",
    "sourcebook.ingest.media_meta",
    "sourcebook.ingest.legacy",
    # richer media extractors register over the metadata-only ones
    "sourcebook.media.extractors",
)
_loaded = False


def load_extractors() -> None:
    """Import the built-in extractor modules so they register themselves (once)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for name in _BUILTIN:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
