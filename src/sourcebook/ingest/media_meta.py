"""Metadata-only registration of images, video and audio: dimensions, EXIF, duration, streams and
codecs go into ``ctx.meta``; no passages. Richer OCR/speech extractors replace these when loaded."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

from sourcebook.ingest.base import ExtractContext, ExtractionError, register
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
    import av

    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as e:
        raise ExtractionError(f"unreadable media file: {e}") from e
    try:
        duration = container.duration / 1_000_000 if container.duration else None
        streams: list[dict[str, Any]] = []
        for s in container.streams:
            info: dict[str, Any] = {"type": s.type, "codec": s.codec_context.name if s.codec_context else None}
            if s.duration and s.time_base:
                info["duration_s"] = round(float(s.duration * s.time_base), 3)
            if s.type == "video":
                info.update(width=s.codec_context.width, height=s.codec_context.height,
                            fps=round(float(s.average_rate), 3) if s.average_rate else None)
                if s.frames:
                    info["frames"] = s.frames
            elif s.type == "audio":
                info.update(sample_rate=s.codec_context.sample_rate, channels=s.codec_context.channels)
            streams.append(info)
        if duration is None:
            durations = [s.get("duration_s") for s in streams if s.get("duration_s")]
            duration = max(durations) if durations else None
        meta: dict[str, Any] = {"format": container.format.name, "streams": streams,
                                "duration_s": round(duration, 3) if duration else None}
        video = next((s for s in streams if s["type"] == "video"), None)
        audio = next((s for s in streams if s["type"] == "audio"), None)
        meta.update(has_video=video is not None, has_audio=audio is not None)
        if video:
            meta.update(width=video["width"], height=video["height"], fps=video["fps"], video_codec=video["codec"])
        if audio:
            meta.update(audio_codec=audio["codec"], sample_rate=audio["sample_rate"], channels=audio["channels"])
        title = (container.metadata or {}).get("title")
        if title:
            meta["title"] = title
    finally:
        container.close()
    if not streams:
        raise ExtractionError("media file has no audio or video streams")
    return meta


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
