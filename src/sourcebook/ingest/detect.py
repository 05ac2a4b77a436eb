"""Decide what kind of file a path holds, by content sniffing first and extension second."""

from __future__ import annotations

import zipfile
from pathlib import Path

EXT_KIND = {
    ".pdf": "pdf", ".pptx": "pptx", ".docx": "docx", ".xlsx": "sheet", ".xlsm": "sheet", ".xls": "sheet",
    ".csv": "csv", ".tsv": "csv", ".md": "text", ".markdown": "text", ".txt": "text", ".rst": "text",
    ".html": "html", ".htm": "html", ".json": "json", ".jsonl": "json",
    ".png": "image", ".jpg": "image", ".jpeg": "image", ".gif": "image", ".bmp": "image", ".webp": "image",
    ".tif": "image", ".tiff": "image",
    ".mp4": "video", ".mov": "video", ".mkv": "video", ".avi": "video", ".webm": "video", ".m4v": "video",
    ".wav": "audio", ".mp3": "audio", ".m4a": "audio", ".flac": "audio", ".ogg": "audio", ".opus": "audio",
    ".aac": "audio",
    ".zip": "archive", ".ppt": "legacy", ".doc": "legacy",
}

_MAGIC: list[tuple[bytes, int, str]] = [
    (b"%PDF", 0, "pdf"),
    (b"\x89PNG", 0, "image"),
    (b"\xff\xd8\xff", 0, "image"),
    (b"GIF8", 0, "image"),
    (b"BM", 0, "image"),
    (b"RIFF", 0, "riff"),
    (b"ftyp", 4, "mp4"),
    (b"\x1a\x45\xdf\xa3", 0, "video"),  # matroska / webm
    (b"ID3", 0, "audio"),
    (b"fLaC", 0, "audio"),
    (b"OggS", 0, "audio"),
    (b"PK\x03\x04", 0, "zip"),
    (b"\xd0\xcf\x11\xe0", 0, "ole"),
]


def _sniff(head: bytes) -> str | None:
    for magic, off, kind in _MAGIC:
        if head[off:off + len(magic)] == magic:
            return kind
    return None


_OFFICE = {".docx": "docx", ".pptx": "pptx", ".xlsx": "sheet", ".xlsm": "sheet"}


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, OSError):  # truncated or corrupt: the extension says what it was meant to be
        return _OFFICE.get(path.suffix.lower(), "archive")
    if "word/document.xml" in names:
        return "docx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    if "xl/workbook.xml" in names:
        return "sheet"
    return "archive"


def _json_kind(path: Path) -> str:
    """A JSON array of objects with a title and a body field is an article corpus."""
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError:
        return "json"
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n")
    if text.startswith("[") and '"title"' in text and any(
        k in text for k in ('"page_body"', '"content"', '"body"', '"text"')
    ):
        return "corpus"
    if not text.startswith("["):
        return "json"
    # the first object may be long; look further with a streaming parser
    try:
        import ijson

        with path.open("rb") as f:
            for obj in ijson.items(f, "item"):
                if isinstance(obj, dict) and "title" in obj and any(
                    k in obj for k in ("page_body", "content", "body", "text")
                ):
                    return "corpus"
                break
    except Exception:
        pass
    return "json"


def detect_kind(path: Path) -> str:
    """Return one of :data:`sourcebook.models.KINDS` for ``path``."""
    ext = path.suffix.lower()
    try:
        with path.open("rb") as f:
            head = f.read(16)
    except OSError:
        return EXT_KIND.get(ext, "unknown")
    sniffed = _sniff(head) if head else None
    if sniffed == "zip":
        return _zip_kind(path)
    if sniffed == "ole":
        return {".xls": "sheet", ".doc": "legacy", ".ppt": "legacy"}.get(ext, "legacy")
    if sniffed == "riff":
        return "audio" if head[8:12] == b"WAVE" else "video" if head[8:12] == b"AVI " else "image"
    if sniffed == "mp4":
        return "audio" if ext in (".m4a", ".aac") else "video"
    if sniffed:
        return sniffed
    kind = EXT_KIND.get(ext, "unknown")
    if kind == "json" and ext == ".json":
        return _json_kind(path)
    if kind == "unknown" and head and _looks_text(path):
        return "text"
    return kind


def _looks_text(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            chunk = f.read(2048)
    except OSError:
        return False
    if b"\x00" in chunk:
        return False
    try:
        chunk.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False

