"""Text in pictures with RapidOCR (PP-OCR detection + direction classifier + recognition, zh/en).

One engine per process, created on first use (its ONNX models ship inside the rapidocr wheel).
Images are EXIF-transposed before recognition so phone photos come out upright; the direction
classifier handles text lines turned 180°, and tall crops are rotated so vertical lines read too.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

OcrLine = tuple[str, list[list[float]], float]  # (text, 4-point box, score)

_engine: Any = None
_lock = threading.Lock()
OCR_THREADS = 2
MIN_SCORE = 0.5


def engine() -> Any:
    """The shared RapidOCR engine (created lazily, thread-safe)."""
    global _engine
    if _engine is None:
        with _lock:
            if _engine is None:
                import logging

                from sourcebook.runtime_home import import_onnxruntime

                import_onnxruntime()
                from rapidocr_onnxruntime import RapidOCR

                logging.getLogger("RapidOCR").setLevel(logging.WARNING)
                _engine = RapidOCR(intra_op_num_threads=OCR_THREADS, inter_op_num_threads=1)
    return _engine


def load_image(image: Image.Image | bytes | Path | str) -> Image.Image:
    """Open ``image`` as an upright RGB PIL image (EXIF orientation applied)."""
    if isinstance(image, Image.Image):
        img = image
    elif isinstance(image, bytes | bytearray):
        img = Image.open(io.BytesIO(image))
    else:
        img = Image.open(Path(image))
    try:
        img = ImageOps.exif_transpose(img) or img
    except Exception:  # broken EXIF must not stop OCR
        pass
    if img.mode != "RGB":
        if img.mode in ("RGBA", "LA", "P"):
            rgba = img.convert("RGBA")
            bg = Image.new("RGB", rgba.size, (255, 255, 255))
            bg.paste(rgba, mask=rgba.getchannel("A"))
            img = bg
        else:
            img = img.convert("RGB")
    return img


def ocr_image(image: Image.Image | bytes | Path | str, min_score: float = MIN_SCORE) -> list[OcrLine]:
    """Recognise text lines in ``image``: ``[(text, box, score), ...]`` in reading order."""
    img = load_image(image)
    if img.width < 8 or img.height < 8:
        return []
    result, _ = engine()(img)
    lines: list[OcrLine] = []
    for box, text, score in result or []:
        text = str(text).strip()
        if not text or float(score) < min_score:
            continue
        pts = [[float(x), float(y)] for x, y in box]
        lines.append((text, pts, round(float(score), 4)))
    return lines


def lines_to_text(lines: list[OcrLine]) -> str:
    """Join OCR lines into text: lines on the same row are joined with a space, rows with newlines."""
    if not lines:
        return ""
    rows: list[list[OcrLine]] = []
    for line in lines:  # RapidOCR already sorts top-to-bottom, left-to-right
        box = line[1]
        top = min(p[1] for p in box)
        bottom = max(p[1] for p in box)
        if rows:
            prev = rows[-1][-1][1]
            p_top = min(p[1] for p in prev)
            p_bottom = max(p[1] for p in prev)
            overlap = min(bottom, p_bottom) - max(top, p_top)
            if overlap > 0.5 * min(bottom - top, p_bottom - p_top):
                rows[-1].append(line)
                continue
        rows.append([line])
    out = []
    for row in rows:
        # vertical (CJK) columns read right to left, horizontal lines left to right
        vertical = all(_is_vertical(ln[1]) for ln in row) and len(row) > 1
        row.sort(key=lambda ln: min(p[0] for p in ln[1]), reverse=vertical)
        out.append(("\n" if vertical else " ").join(ln[0] for ln in row))
    return "\n".join(out)


def _is_vertical(box: list[list[float]]) -> bool:
    w = max(p[0] for p in box) - min(p[0] for p in box)
    h = max(p[1] for p in box) - min(p[1] for p in box)
    return h > 1.5 * w


def ocr_text(image: Image.Image | bytes | Path | str, min_score: float = MIN_SCORE) -> str:
    """All text recognised in ``image`` as plain text (rows separated by newlines)."""
    return lines_to_text(ocr_image(image, min_score=min_score))
