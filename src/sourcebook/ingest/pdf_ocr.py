"""OCR for PDF pages: when a page needs it (no text layer, garbage text, or little text on a page that is
mostly picture) and how to read it (rendered with pypdfium2 at ≥ 200 dpi, orientation 0/90/180/270)."""

from __future__ import annotations

import re
from typing import Any

OCR_DPI = 200
MIN_TEXT_CHARS = 20        # fewer extractable characters: the page is treated as scanned
IMAGE_COVER = 0.5          # a page whose pictures cover this share of it …
LITTLE_TEXT = 200          # … and that has fewer characters than this is read by OCR as well
GOOD_CONFIDENCE = 0.85     # an upright reading this confident (and horizontal) is not tried in other turns

_CID = re.compile(r"\(cid:\d+\)")
_READABLE = re.compile(r"[\w\s\u3000-\u303f\uff00-\uffef.,;:!?()\[\]{}'\"%&/@#*+=<>\-–—…“”‘’·•$€£¥§°]")


def is_garbage(text: str) -> bool:
    """A text layer that cannot be read: unmapped glyphs ``(cid:N)``, replacement or private-use
    characters, or mostly symbols."""
    t = "".join(text.split())
    if not t:
        return False
    if len(_CID.findall(text)) * 6 > 0.3 * len(t):
        return True
    bad = sum(1 for c in t if c == "\ufffd" or "\ue000" <= c <= "\uf8ff" or ord(c) < 32)
    if bad > 0.1 * len(t):
        return True
    readable = len(_READABLE.findall(t))
    return readable < 0.6 * len(t)


def image_cover(images: list[dict[str, Any]], width: float, height: float) -> float:
    """Share of the page covered by its largest picture (pictures clipped to the page)."""
    best = 0.0
    for im in images:
        w = max(0.0, min(width, float(im["x1"])) - max(0.0, float(im["x0"])))
        h = max(0.0, min(height, float(im["bottom"])) - max(0.0, float(im["top"])))
        best = max(best, w * h)
    return best / max(1.0, width * height)


def needs_ocr(text: str, cover: float) -> bool:
    """Whether a page's text layer should be replaced by OCR."""
    chars = len("".join(text.split()))
    return chars < MIN_TEXT_CHARS or is_garbage(text) or (cover >= IMAGE_COVER and chars < LITTLE_TEXT)


def _horizontal(lines: list[Any]) -> bool:
    flat = 0
    for _, box, _ in lines:
        w = max(p[0] for p in box) - min(p[0] for p in box)
        h = max(p[1] for p in box) - min(p[1] for p in box)
        flat += w >= h
    return flat * 2 >= len(lines)


def _weight(lines: list[Any]) -> float:
    return sum(len(text) * score for text, _, score in lines) * (1.0 if _horizontal(lines) else 0.5)


def ocr_page(pdf_page: Any, dpi: int = OCR_DPI) -> tuple[str, int]:
    """OCR a pypdfium2 page: ``(text, turn in degrees)``. The page is read upright first; when that
    is not a confident horizontal reading, the turns 90/270/180 are tried and the best-scored one kept."""
    from sourcebook.media.ocr import lines_to_text, ocr_image

    image = pdf_page.render(scale=dpi / 72).to_pil().convert("RGB")
    best: tuple[float, int, list[Any]] = (-1.0, 0, [])
    for turn in (0, 90, 270, 180):
        lines = ocr_image(image if turn == 0 else image.rotate(turn, expand=True))
        weight = _weight(lines)
        if weight > best[0]:
            best = (weight, turn, lines)
        if turn == 0 and lines and _horizontal(lines) \
                and sum(s for _, _, s in lines) / len(lines) >= GOOD_CONFIDENCE:
            break
    return lines_to_text(best[2]), best[1]
