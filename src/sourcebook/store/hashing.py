"""Stable identities: the hash a passage text is cached under, and a passage's id."""

from __future__ import annotations

import hashlib


def text_hash(text: str) -> str:
    """SHA-1 of a text: the key its vectors are cached under."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def passage_id(source: str, ordinal: int, text: str) -> str:
    """Stable id: the same text at the same place of the same file keeps its id across re-ingests."""
    h = hashlib.sha1(f"{source}\x00{ordinal}\x00{text}".encode()).hexdigest()
    return "p" + h[:10]
