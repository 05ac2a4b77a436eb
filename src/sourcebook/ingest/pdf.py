"""PDF intake with PyMuPDF: text per page (tables as Markdown rows, in reading order), document
title/authors, and an OCR fallback for scanned pages that have no text layer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymupdf

from sourcebook.ingest.base import ExtractContext, ExtractionError, register
from sourcebook.ingest.text import pack_blocks, split_blocks
from sourcebook.models import PassageDraft

OCR_DPI = 170
MIN_TEXT_CHARS = 20        # a page with fewer extractable characters is treated as scanned
RUNNING_BAND = 0.09        # top/bottom share of the page searched for running headers and footers
MAX_DRAWINGS = 5000        # pages with more vector paths are not searched for tables
MAX_TABLE_CELL = 600       # a longer "cell" means a page frame detected as a table, not a real table

# ligatures (ﬁ, ﬂ) expanded so "field" is found as typed; whitespace kept as is
TEXT_FLAGS = pymupdf.TEXTFLAGS_DICT & ~pymupdf.TEXT_PRESERVE_LIGATURES
RAW_FLAGS = pymupdf.TEXTFLAGS_RAWDICT & ~pymupdf.TEXT_PRESERVE_LIGATURES

_CJK_END = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]$")
_CJK_START = re.compile(r"^[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
_AUTHOR_SPLIT = re.compile(r"\s*(?:;|,|，|、|\band\b|&)\s*")
_BAD_TITLE = re.compile(
    r"^(untitled|\(anonymous\)|microsoft (word|powerpoint)|document\d*$|abstract$|contents$|introduction$"
    r"|\d+(\.\d+)*\.?\s+\S+$)|\.(docx?|pdf|pptx?|tex|dvi)$",
    re.I,
)


def join_lines(lines: list[str]) -> str:
    """Join the lines of one text block: no space between CJK characters, none after a trailing
    hyphen, a single space otherwise."""
    out = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if not out:
            out = line
        elif out.endswith("-") or (_CJK_END.search(out) and _CJK_START.search(line)):
            out += line
        else:
            out += " " + line
    return out


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return join_lines(text.splitlines()).replace("|", "\\|")


def table_markdown(rows: list[list[Any]]) -> str:
    """Render table rows as Markdown (first row as header); empty rows are dropped."""
    cleaned = [[_cell(c) for c in row] for row in rows]
    cleaned = [r for r in cleaned if any(r)]
    if not cleaned:
        return ""
    width = max(len(r) for r in cleaned)
    cleaned = [r + [""] * (width - len(r)) for r in cleaned]
    lines = ["| " + " | ".join(cleaned[0]) + " |", "| " + " | ".join(["---"] * width) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in cleaned[1:]]
    return "\n".join(lines)


def _inside(inner: tuple[float, ...], outer: tuple[float, ...], slack: float = 2.0) -> bool:
    x0, y0, x1, y1 = inner
    return x0 >= outer[0] - slack and y0 >= outer[1] - slack and x1 <= outer[2] + slack and y1 <= outer[3] + slack


def _char_lines(page: pymupdf.Page) -> list[list[tuple[float, float, str]]]:
    """Characters of the page, grouped by text line, as (x-centre, y-centre, char)."""
    out: list[list[tuple[float, float, str]]] = []
    for block in page.get_text("rawdict", flags=RAW_FLAGS)["blocks"]:
        if block.get("type") != 0:
            continue
        for line in block["lines"]:
            chars = [
                ((ch["bbox"][0] + ch["bbox"][2]) / 2, (ch["bbox"][1] + ch["bbox"][3]) / 2, ch["c"])
                for span in line["spans"]
                for ch in span["chars"]
            ]
            if chars:
                out.append(chars)
    return out


def _cell_text(lines: list[list[tuple[float, float, str]]], rect: tuple[float, ...] | None) -> str:
    if rect is None:
        return ""
    x0, y0, x1, y1 = rect
    parts = []
    for chars in lines:
        text = "".join(c for cx, cy, c in chars if x0 <= cx <= x1 and y0 <= cy <= y1)
        if text.strip():
            parts.append(text)
    return join_lines(parts)


def _table_rows(table: Any, lines: list[list[tuple[float, float, str]]]) -> list[list[str]]:
    """Cell texts of a detected table, each character assigned to the cell holding its centre."""
    return [[_cell_text(lines, cell) for cell in row.cells] for row in table.rows]


def _plausible_table(rows: list[list[str]]) -> bool:
    """Reject framed paragraphs, page borders and diagrams that the line finder reports as tables."""
    if len(rows) < 2 or max(len(r) for r in rows) < 2:
        return False
    cells = [c for r in rows for c in r]
    filled = [c for c in cells if c.strip()]
    if len(filled) < 3 or len(filled) < len(cells) / 2:
        return False
    return max(len(c) for c in filled) <= MAX_TABLE_CELL


def _may_have_tables(page: pymupdf.Page) -> bool:
    # table detection is the slow part of PDF reading; run it only where ruling lines exist, and not on
    # drawings (maps, charts) made of thousands of paths
    try:
        return 4 <= len(page.get_cdrawings()) <= MAX_DRAWINGS
    except Exception:
        return True


def _find_tables(page: pymupdf.Page) -> list[Any]:
    # Line-based detection only: the optional layout model (pymupdf.layout) costs ~0.4 s per page.
    try:
        found = page.find_tables(use_layout=False)
    except TypeError:  # PyMuPDF without the use_layout switch
        found = page.find_tables()
    return list(found.tables)


_PAGE_NUMBER = re.compile(
    r"^[\s\-—–·•|]*(?:第\s*\d{1,4}\s*页(?:\s*[/，,]?\s*共\s*\d{1,4}\s*页)?|(?:page|p\.)\s*\d{1,4}(?:\s*of\s*\d{1,4})?"
    r"|\d{1,4}(?:\s*/\s*\d{1,4})?)[\s\-—–·•|]*$", re.I)


def is_page_number(text: str) -> bool:
    """A line that is only a page number ("— 2 —", "第 3 页", "Page 4 of 9", "5/12")."""
    return bool(_PAGE_NUMBER.match(text.strip()))


def _band_key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.split()))


def _in_band(page: pymupdf.Page, box: tuple[float, ...]) -> bool:
    height = page.rect.height or 1.0
    return box[3] <= page.rect.y0 + height * RUNNING_BAND or box[1] >= page.rect.y1 - height * RUNNING_BAND


def running_lines(doc: pymupdf.Document) -> set[str]:
    """Header/footer lines (page numbers, running titles): text in the top or bottom band of the page
    that repeats, digits aside, on at least 60% of the pages of a document of 4+ pages."""
    if doc.page_count < 4:
        return set()
    counts: dict[str, int] = {}
    for page in doc:
        keys = set()
        for block in page.get_text("dict", flags=TEXT_FLAGS)["blocks"]:
            for line in block.get("lines", []):
                if _in_band(page, tuple(line["bbox"])):
                    key = _band_key("".join(span["text"] for span in line["spans"]))
                    if key:
                        keys.add(key)
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
    return {k for k, c in counts.items() if c >= max(3, 0.6 * doc.page_count)}


def _page_text(page: pymupdf.Page, ctx: ExtractContext, tables_found: list[int],
               skip: set[str] | frozenset[str] = frozenset()) -> str:
    """Text of one page in content-stream order (right for multi-column layouts), lines of one
    paragraph joined, tables rendered as Markdown where their first cell's text stood."""
    tables: list[Any] = []
    if _may_have_tables(page):
        try:
            tables = _find_tables(page)
        except Exception as e:  # table detection is best effort
            ctx.warn(f"table detection failed on p. {page.number + 1}: {e}")
    char_lines = _char_lines(page) if tables else []
    kept: list[tuple[tuple[float, ...], str]] = []
    for tab in tables:
        try:
            rows = _table_rows(tab, char_lines)
        except Exception:
            continue
        md = table_markdown(rows) if _plausible_table(rows) else ""
        if md:
            kept.append((tuple(tab.bbox), md))
            tables_found[0] += 1

    out: list[str] = []          # finished paragraphs and tables
    para: list[str] = []         # lines of the paragraph being built
    last_box: tuple[float, ...] | None = None
    right = 0.0                  # right edge of the paragraph being built
    drawn: dict[str, list[tuple[float, ...]]] = {}  # span text → boxes already read on this page
    emitted: set[int] = set()

    def flush() -> None:
        text = join_lines(para)
        if text:
            out.append(text)
        para.clear()

    for block in page.get_text("dict", flags=TEXT_FLAGS)["blocks"]:
        if block.get("type") != 0:
            continue
        for line in block["lines"]:
            lbox = tuple(line["bbox"])
            inside = next((i for i, (tb, _) in enumerate(kept) if _inside(lbox, tb)), None)
            if inside is not None:
                if inside not in emitted:
                    flush()
                    out.append(kept[inside][1])
                    emitted.add(inside)
                last_box = None
                continue
            text = "".join(span["text"] for span in line["spans"] if not _overprint(span, drawn))
            if not text.strip() or (_in_band(page, lbox) and (is_page_number(text) or _band_key(text) in skip)):
                continue
            if para and last_box is not None and not _continues(last_box, lbox, right):
                flush()
            if not para:
                right = 0.0
            para.append(text)
            right = max(right, lbox[2])
            last_box = lbox
        # a block boundary ends the paragraph unless the next block continues it line by line
    flush()
    for i, (_, md) in enumerate(kept):
        if i not in emitted:
            out.append(md)
    return "\n\n".join(out)


def _overprint(span: dict[str, Any], drawn: dict[str, list[tuple[float, ...]]]) -> bool:
    """True for a span drawn again over itself (fake bold, shadow): same text at (almost) the same place."""
    text = span["text"]
    if not text.strip():
        return False
    box = tuple(span["bbox"])
    boxes = drawn.setdefault(text, [])
    if any(all(abs(a - b) < 1.5 for a, b in zip(box, other, strict=True)) for other in boxes):
        return True
    boxes.append(box)
    return False


def _continues(prev: tuple[float, ...], cur: tuple[float, ...], right: float) -> bool:
    """Whether line ``cur`` continues the paragraph whose last line is ``prev`` (``right`` = the
    paragraph's right edge so far): directly below it, horizontally overlapping, ``prev`` running to
    the right edge (a short line ends a paragraph or is a heading) and ``cur`` not indented."""
    height = max(1.0, prev[3] - prev[1])
    gap = cur[1] - prev[3]
    if not -height * 0.5 < gap < height * 0.9:  # up to 1.9× line spacing (common in Chinese documents)
        return False
    if min(prev[2], cur[2]) - max(prev[0], cur[0]) <= 0:
        return False
    if prev[2] < max(right, cur[2]) - 2 * height:
        return False
    return cur[0] <= prev[0] + height


def _ocr_png(png: bytes) -> str:
    """OCR a PNG image with the shared media OCR engine when present, else with RapidOCR directly."""
    try:
        from sourcebook.media.ocr import ocr_text
    except ImportError:
        ocr_text = None
    if ocr_text is not None:
        return ocr_text(png)
    engine = _rapidocr()
    result, _ = engine(png)
    if not result:
        return ""
    return "\n".join(str(r[1]) for r in result)


_ENGINE: Any = None


def _rapidocr() -> Any:
    global _ENGINE
    if _ENGINE is None:
        from sourcebook.runtime_home import import_onnxruntime

        import_onnxruntime()
        from rapidocr_onnxruntime import RapidOCR

        _ENGINE = RapidOCR()
    return _ENGINE


def _first_page_head(doc: pymupdf.Document) -> tuple[str, list[str]]:
    """Guess title and authors from page 1: the title is the largest-font text in the top half;
    the authors are a short name line right below it (``文◎高倩``, ``王  田``, ``A. Smith, B. Jones``)."""
    if doc.page_count == 0:
        return "", []
    page = doc[0]
    lines: list[tuple[float, tuple[float, ...], str]] = []
    for block in page.get_text("dict", flags=TEXT_FLAGS)["blocks"]:
        if block.get("type") != 0:
            continue
        for line in block["lines"]:
            text = "".join(s["text"] for s in line["spans"]).strip()
            if not text or line["bbox"][1] > page.rect.height * 0.5:
                continue
            lines.append((max(s["size"] for s in line["spans"]), tuple(line["bbox"]), text))
    if not lines:
        return "", []
    top = max(size for size, _, _ in lines)
    body = sorted(size for size, _, _ in lines)[len(lines) // 2]
    if top <= body * 1.15:
        return "", []
    title_lines = [(box, t) for size, box, t in lines if abs(size - top) < 0.5]
    title = join_lines([t for _, t in title_lines])[:300]
    if _BAD_TITLE.search(title):
        return "", []
    bottom = max(box[3] for box, _ in title_lines)
    below = sorted((box[1], size, t) for size, box, t in lines if box[1] >= bottom - 1 and size < top - 0.5)
    authors: list[str] = []
    if below and below[0][0] - bottom < top * 2.5:
        authors = _name_line(below[0][2])
    return title, authors


_NAME_PREFIX = re.compile(r"^(文\s*[◎○●/:：]|作者\s*[:：]?|by\s+)", re.I)
_NAME_MARKS = re.compile(r"[\d*†‡§¶#∗,]+(?=\s*(?:$|[,，、;；]|\band\b))")
_CJK_NAME = re.compile(r"^[\u3400-\u9fff·]{2,5}$")
_LATIN_NAME = re.compile(r"^[A-Z][\w.'\-]*(?:\s+[A-Z][\w.'\-]*){1,3}$")
_NOT_NAMES = re.compile(r"\b(abstract|introduction|summary|report|chapter|contents|draft|version|edition|press|"
                        r"journal|review|paper|annual|technical|white|guide|manual|appendix)\b", re.I)


def _name_line(text: str) -> list[str]:
    """Author names from a by-line, or [] when the line does not look like one."""
    text = _NAME_PREFIX.sub("", text.strip()).strip()
    if (not text or len(text) > 160 or _NOT_NAMES.search(text)
            or re.search(r"[。:：;；()（）@]|\.\s+[a-z]|\.$|\d{4}|大学|学院|University|Institute", text)):
        return []
    names = []
    for part in _AUTHOR_SPLIT.split(text):
        part = _NAME_MARKS.sub("", part).strip(" *†‡∗")
        if not part:
            continue
        squeezed = re.sub(r"[\s\u3000]+", "", part)
        if _CJK_NAME.match(squeezed):
            names.append(squeezed)
        elif _LATIN_NAME.match(part):
            names.append(part)
        else:
            return []
    return names


def _authors(raw: str) -> list[str]:
    return [a.strip() for a in _AUTHOR_SPLIT.split(raw or "") if a.strip()]


def _open(path: Path) -> pymupdf.Document:
    try:
        doc = pymupdf.open(path, filetype="pdf")
    except Exception as e:
        raise ExtractionError(f"corrupt PDF: {str(e).replace(str(path), path.name)}") from e
    if doc.needs_pass:
        doc.close()
        raise ExtractionError("encrypted PDF (password required)")
    return doc


def _truncated(path: Path) -> bool:
    """Whether the PDF lacks its closing ``%%EOF`` marker (a cut-off download or copy)."""
    try:
        with path.open("rb") as f:
            f.seek(max(0, path.stat().st_size - 2048))
            return b"%%EOF" not in f.read()
    except OSError:
        return False


@register("pdf")
def extract_pdf(path: Path, ctx: ExtractContext) -> Iterator[PassageDraft]:
    """Yield the passages of a PDF, one or more per page (``locator="p. N"``)."""
    doc = _open(path)
    try:
        if doc.page_count == 0:
            if _truncated(path):
                raise ExtractionError("truncated or corrupt PDF: no readable page and no end-of-file marker")
            raise ExtractionError("PDF has no pages", status="empty")
        if _truncated(path):
            ctx.warn("truncated or corrupt PDF (no end-of-file marker): text may be missing")
        meta = doc.metadata or {}
        title = (meta.get("title") or "").strip()
        head_title, head_authors = _first_page_head(doc)
        if not title or _BAD_TITLE.search(title):
            title = head_title or title
        ctx.meta["pages"] = doc.page_count
        ctx.meta["title"] = title
        authors = (meta.get("author") or "").strip()
        ctx.meta["authors"] = ([] if _BAD_TITLE.search(authors) else _authors(authors)) or head_authors
        skip = running_lines(doc)
        if skip:
            ctx.meta["running_lines_dropped"] = sorted(skip)[:10]
        ocr_pages: list[int] = []
        tables_found = [0]
        empty_pages = 0
        for page in doc:
            n = page.number + 1
            try:
                text = _page_text(page, ctx, tables_found, skip)
            except Exception as e:
                ctx.warn(f"p. {n} unreadable: {e}")
                continue
            if len(text.strip()) < MIN_TEXT_CHARS and page.get_images(full=False):
                try:
                    png = page.get_pixmap(dpi=OCR_DPI).tobytes("png")
                    ocr = _ocr_png(png).strip()
                except Exception as e:
                    ctx.warn(f"OCR failed on p. {n}: {e}")
                    ocr = ""
                if len(ocr) > len(text.strip()):
                    text = ocr
                    ocr_pages.append(n)
            if not text.strip():
                empty_pages += 1
                continue
            for chunk in pack_blocks(split_blocks(text)):
                yield PassageDraft(text=chunk, locator=f"p. {n}", loc={"page": n}, title=title)
        ctx.meta["tables"] = tables_found[0]
        if ocr_pages:
            ctx.meta["ocr_pages"] = ocr_pages
        if empty_pages:
            ctx.meta["empty_pages"] = empty_pages
    finally:
        doc.close()
