"""Metadata-only registration of images, video and audio: dimensions, EXIF, duration, streams and
codecs go into ``ctx.meta``; no passages. Richer OCR/speech extractors replace these when loaded."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

from sourcebook.ingest.base import ExtractContext, ExtractionError, register
from sourcebook.media.probe import MediaError, probe_meta
from sourcebook.models import PassageDraft

_EXIF_KEEP = {"Make", "Model", "DateTime", "DateTimeOriginal", "Software", "Artist", "ImageDescription",
              "Orientation", "XResolution", "YResolution", "Copyright"}


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").strip("\x00 ")[:200]
    if isinstance(value, Fraction) or type(value).__name__ == "IFDRational":
        try:
            return round(float(value), 4)
        except (ZeroDivisionError, ValueError):
            return None
    if isinstance(value, str):
        return value.strip("\x00 ")[:200]
    if isinstance(value, int | float):
        return value
    return str(value)[:200]


def image_meta(path: Path) -> dict[str, Any]:
    """Size, mode, format, frame count and common EXIF tags of an image."""
    from PIL import ExifTags, Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.verify()  # structural check; must come first, and the image must be reopened after it
        with Image.open(path) as im:
            meta: dict[str, Any] = {"width": im.width, "height": im.height, "mode": im.mode, "format": im.format,
                                    "frames": getattr(im, "n_frames", 1)}
            exif = {}
            for tag, value in im.getexif().items():
                name = ExifTags.TAGS.get(tag, str(tag))
                if name in _EXIF_KEEP:
                    exif[name] = _plain(value)
            if exif:
                meta["exif"] = exif
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, RuntimeError) as e:
        raise ExtractionError(f"unreadable image: {e}") from e
    return meta


def av_meta(path: Path) -> dict[str, Any]:
    """Container format, duration and per-stream codec facts of a video or audio file."""
    try:
        return probe_meta(path)
    except MediaError as e:
        raise ExtractionError(str(e)) from e


@register("image")
def extract_image(path: Path, ctx: ExtractContext) -> Iterator[PassageDraft]:
    """Register an image with its metadata (no passages)."""
    ctx.meta.update(image_meta(path))
    yield from ()


@register("video")
def extract_video(path: Path, ctx: ExtractContext) -> Iterator[PassageDraft]:
    """Register a video with its metadata (no passages)."""
    ctx.meta.update(av_meta(path))
    yield from ()


@register("audio")
def extract_audio(path: Path, ctx: ExtractContext) -> Iterator[PassageDraft]:
    """Register an audio file with its metadata (no passages)."""
    ctx.meta.update(av_meta(path))
    yield from ()
