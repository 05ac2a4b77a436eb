"""Images → text evidence: OCR (zh + en, rotated and vertical lines), size/EXIF facts, optional caption.

A caption comes from a pluggable :data:`Captioner` (for instance a vision-capable LLM) installed with
:func:`set_captioner`; by default there is none and descriptions rely on OCR and metadata alone.
OCR and metadata are cached by the file's sha256; captions are cached under the captioner's name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from PIL import ExifTags, Image, UnidentifiedImageError

from sourcebook.media.cache import MediaCache, file_sha256, resolve_settings
from sourcebook.media.probe import MediaError

log = logging.getLogger(__name__)

IMAGE_VERSION = 1

Captioner = Callable[[Path], "str | None"]
"""Turns an image file into a one-paragraph caption, or None when it cannot."""

_captioner: Captioner | None = None
_captioner_name = ""

_EXIF_KEEP = {
    "Make", "Model", "DateTime", "DateTimeOriginal", "Software", "Artist", "Copyright", "ImageDescription",
    "Orientation", "XPTitle", "XPComment", "LensModel", "ExposureTime", "FNumber", "ISOSpeedRatings",
}


def set_captioner(fn: Captioner | None, name: str = "") -> None:
    """Install (or with None remove) the captioner used by :func:`describe_image`."""
    global _captioner, _captioner_name
    _captioner = fn
    _captioner_name = name or (getattr(fn, "__qualname__", "") if fn else "")


def get_captioner() -> Captioner | None:
    return _captioner


def captioner_name() -> str:
    """Name of the installed captioner ("" when there is none)."""
    return _captioner_name if _captioner is not None else ""


@dataclass
class ImageDescription:
    """What an image shows, as far as offline tools can tell."""

    path: str
    sha256: str
    width: int
    height: int
    format: str
    mode: str
    frames: int = 1
    exif: dict[str, Any] = field(default_factory=dict)
    ocr_lines: list[dict[str, Any]] = field(default_factory=list)  # {"text", "box", "score"}
    text: str = ""
    caption: str | None = None

    def meta(self) -> dict[str, Any]:
        """Facts for a source record."""
        m: dict[str, Any] = {"width": self.width, "height": self.height, "format": self.format, "mode": self.mode}
        if self.frames > 1:
            m["frames"] = self.frames
        if self.exif:
            m["exif"] = self.exif
        m["ocr_lines"] = len(self.ocr_lines)
        if self.caption:
            m["caption"] = self.caption
        return m

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _exif(img: Image.Image) -> dict[str, Any]:
    out: dict[str, Any] = {}
    try:
        raw = img.getexif()
    except Exception:
        return out
    items = dict(raw.items())
    try:
        items.update(raw.get_ifd(0x8769).items())  # Exif sub-IFD: DateTimeOriginal, exposure, lens
    except Exception:
        pass
    for tag, value in items.items():
        name = ExifTags.TAGS.get(tag, "")
        if name not in _EXIF_KEEP:
            continue
        if isinstance(value, bytes):
            try:
                value = value.decode("utf-16-le" if name.startswith("XP") else "utf-8").strip("\x00 ")
            except UnicodeDecodeError:
                continue
        if isinstance(value, int | float | str):
            out[name] = value
        else:
            try:
                out[name] = float(value)
            except (TypeError, ValueError):
                out[name] = str(value)[:100]
    try:
        if raw.get_ifd(0x8825):
            out["GPS"] = True
    except Exception:
        pass
    return out


def _read(path: Path) -> tuple[Image.Image, dict[str, Any]]:
    try:
        if path.stat().st_size == 0:
            raise MediaError("empty file (0 bytes)")
        img = Image.open(path)
        img.load()
    except MediaError:
        raise
    except Image.DecompressionBombError as e:
        raise MediaError(f"image too large to open safely ({e})") from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise MediaError(f"not a readable image ({str(e).split(': ')[0][:150] or type(e).__name__})") from e
    facts = {"format": img.format or "", "mode": img.mode, "frames": int(getattr(img, "n_frames", 1) or 1)}
    return img, facts


def describe_image(path: Path, settings: Any = None, ocr: bool = True, caption: bool = True) -> ImageDescription:
    """OCR, metadata and (if a captioner is installed) a caption for the image at ``path``.

    Raises :class:`MediaError` when the file is not a readable image.
    """
    from sourcebook.media.ocr import load_image, ocr_image

    settings = resolve_settings(settings)
    path = Path(path)
    sha = file_sha256(path)
    cache = MediaCache.from_settings(settings)
    key = f"image-{'ocr' if ocr else 'meta'}-v{IMAGE_VERSION}"
    data = cache.load(sha, key)
    if data is None:
        img, facts = _read(path)
        upright = load_image(img)
        desc = ImageDescription(
            path=str(path), sha256=sha, width=upright.width, height=upright.height, format=facts["format"],
            mode=facts["mode"], frames=facts["frames"], exif=_exif(img),
        )
        if ocr:
            from sourcebook.media.ocr import lines_to_text

            lines = ocr_image(upright)
            desc.ocr_lines = [{"text": t, "box": b, "score": s} for t, b, s in lines]
            desc.text = lines_to_text(lines)
        data = desc.to_dict()
        data.pop("caption", None)
        cache.save(sha, key, data)
    desc = ImageDescription(**{**data, "path": str(path)})
    if caption and _captioner is not None:
        ckey = f"caption-{_captioner_name or 'default'}"
        hit = cache.load(sha, ckey)
        if hit is not None:
            desc.caption = hit.get("caption")
        else:
            try:
                desc.caption = (_captioner(path) or "").strip() or None
            except Exception as e:  # a failing captioner must not lose the OCR
                log.warning("captioner failed for %s: %s", path, e)
                desc.caption = None
            else:
                cache.save(sha, ckey, {"caption": desc.caption})
    return desc


def render_description(desc: ImageDescription) -> str:
    """Human/LLM-readable description: size, EXIF facts, caption, recognised text."""
    head = f"{Path(desc.path).name}: {desc.width}×{desc.height} {desc.format or 'image'}"
    if desc.frames > 1:
        head += f", {desc.frames} frames"
    lines = [head]
    if desc.exif:
        facts = ", ".join(f"{k}={v}" for k, v in desc.exif.items() if k != "Orientation")
        if facts:
            lines.append(f"EXIF: {facts}")
    if desc.caption:
        lines.append(f"[caption] {desc.caption}")
    if desc.text:
        lines.append("[text in image]\n" + desc.text)
    elif not desc.caption:
        lines.append("(no text recognised in the image)")
    return "\n".join(lines)
