"""PDF intake with permissively licensed libraries: pdfplumber (pdfminer.six) for words, positions and
ruled tables, pypdfium2 (PDFium) for opening, metadata and rendering pages for OCR. Text per page in reading
order (two columns: left, then right), tables as Markdown rows, running headers/footers and margin stamps
dropped, the document title/authors guessed from page 1, and OCR for scanned or unreadable pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sourcebook.ingest.base import ExtractContext, ExtractionError, register
from sourcebook.ingest.pdf_layout import (
    Segment,
    is_dropped,
    is_page_number,
    join_lines,
    paragraphs,
    reading_order,
    running_lines,
    segments,
)
from sourcebook.ingest.pdf_ocr import image_cover, needs_ocr, ocr_page
from sourcebook.ingest.text import pack_blocks, split_blocks
from sourcebook.models import PassageDraft

__all__ = ["extract_pdf", "is_page_number", "join_lines", "table_markdown"]

MAX_DRAWINGS = 5000        # pages with more vector paths are not searched for tables
MAX_TABLE_CELL = 600       # a longer "cell" means a page frame detected as a table, not a real table

_AUTHOR_SPLIT = re.compile(r"\s*(?:;|,|，|、|\band\b|&)\s*")
_BAD_TITLE = re.compile(
    r"^(untitled|\(?anonymous\)?$|microsoft (word|powerpoint)|document\d*$|abstract$|contents$|introduction$"
    r"|\d+(\.\d+)*\.?\s+\S+$)|\.(docx?|pdf|pptx?|tex|dvi)$",
    re.I,
)


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


def _plausible_table(rows: list[list[str]]) -> bool:
    """Reject framed paragraphs, page borders and diagrams that the line finder reports as tables."""
    if len(rows) < 2 or max(len(r) for r in rows) < 2:
        return False
    cells = [c for r in rows for c in r]
    filled = [c for c in cells if c.strip()]
    if len(filled) < 3 or len(filled) < len(cells) / 2:
        return False
    return max(len(c) for c in filled) <= MAX_TABLE_CELL


def _tables(page: Any, ctx: ExtractContext, n: int) -> list[tuple[tuple[float, ...], str]]:
    """Ruled tables of a page as (bbox, Markdown); only searched where ruling lines exist, and not on
    drawings (maps, charts) made of thousands of paths."""
    rulings = len(page.lines) + len(page.rects)
    if not 4 <= rulings + len(page.curves) <= MAX_DRAWINGS or rulings < 4:
        return []
    kept = []
    try:
        for tab in page.find_tables():
            rows = [[c or "" for c in row] for row in tab.extract()]
            md = table_markdown(rows) if _plausible_table(rows) else ""
            if md:
                kept.append((tuple(tab.bbox), md))
    except Exception as e:  # table detection is best effort
        ctx.warn(f"table detection failed on p. {n}: {e}")
    return kept


def _inside(box: tuple[float, ...], outer: tuple[float, ...], slack: float = 2.0) -> bool:
    x0, y0, x1, y1 = box
    return x0 >= outer[0] - slack and y0 >= outer[1] - slack and x1 <= outer[2] + slack and y1 <= outer[3] + slack


def _words(page: Any) -> list[dict[str, Any]]:
    """Words of a page (fake-bold overprints removed), with font size and direction."""
    return page.dedupe_chars().extract_words(extra_attrs=["size", "upright"], keep_blank_chars=False,
                                                x_tolerance_ratio=0.12)


def _page_text(segs: list[Segment], width: float, height: float, tables: list[tuple[tuple[float, ...], str]],
               running: set[str]) -> str:
    """Text of one page: furniture dropped, reading order, paragraphs joined, each table's Markdown where
    its first line stood."""
    body = [s for s in segs if not is_dropped(s, width, height, running)]
    out: list[str] = []
    run: list[Segment] = []
    emitted: set[int] = set()
    for s in reading_order(body, width):
        inside = next((i for i, (tb, _) in enumerate(tables) if _inside(s.box, tb)), None)
        if inside is None:
            run.append(s)
            continue
        if inside not in emitted:
            out += paragraphs(run)
            run = []
            out.append(tables[inside][1])
            emitted.add(inside)
    out += paragraphs(run)
    out += [md for i, (_, md) in enumerate(tables) if i not in emitted]
    return "\n\n".join(out)


def _first_page_head(segs: list[Segment], height: float) -> tuple[str, list[str]]:
    """Guess title and authors from page 1: the title is the largest-font text in the top half;
    the authors are a short name line right below it (``文◎高倩``, ``王  田``, ``A. Smith, B. Jones``)."""
    lines = [s for s in segs if s.text.strip() and s.top <= height * 0.5 and s.upright]
    if not lines:
        return "", []
    top = max(s.size for s in lines)
    body = sorted(s.size for s in lines)[len(lines) // 2]
    if top <= body * 1.15:
        return "", []
    title_lines = sorted((s for s in lines if abs(s.size - top) < 0.5), key=lambda s: (s.top, s.x0))
    title = join_lines([s.text for s in title_lines])[:300]
    if _BAD_TITLE.search(title):
        return "", []
    bottom = max(s.bottom for s in title_lines)
    below = sorted((s.top, s.size, s.text) for s in lines if s.top >= bottom - 1 and s.size < top - 0.5)
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


def _open(path: Path) -> tuple[Any, Any]:
    """Open with PDFium (validity, password check, rendering) and pdfplumber (layout)."""
    import pdfplumber
    import pypdfium2

    try:
        doc = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError as e:
        if "password" in str(e).lower():
            raise ExtractionError("encrypted PDF (password required)") from e
        raise ExtractionError(f"corrupt PDF: {str(e).replace(str(path), path.name)}") from e
    try:
        plumber = pdfplumber.open(path)
    except Exception as e:
        doc.close()
        raise ExtractionError(f"corrupt PDF: {str(e).replace(str(path), path.name)}") from e
    return doc, plumber


def _truncated(path: Path) -> bool:
    """Whether the PDF lacks its closing ``%%EOF`` marker (a cut-off download or copy)."""
    try:
        with path.open("rb") as f:
            f.seek(max(0, path.stat().st_size - 2048))
            return b"%%EOF" not in f.read()
    except OSError:
        return False


def _meta_value(doc: Any, key: str) -> str:
    try:
        return (doc.get_metadata_value(key) or "").strip()
    except Exception:
        return ""


@register("pdf")
def extract_pdf(path: Path, ctx: ExtractContext) -> Iterator[PassageDraft]:
    """Yield the passages of a PDF, one or more per page (``locator="p. N"``)."""
    doc, plumber = _open(path)
    try:
        count = len(doc)
        if count == 0:
            if _truncated(path):
                raise ExtractionError("truncated or corrupt PDF: no readable page and no end-of-file marker")
            raise ExtractionError("PDF has no pages", status="empty")
        if _truncated(path):
            ctx.warn("truncated or corrupt PDF (no end-of-file marker): text may be missing")
        ctx.meta["pages"] = count
        layouts: list[tuple[list[Segment], float, float]] = []
        for i, page in enumerate(plumber.pages):
            try:
                layouts.append((segments(_words(page), float(page.width)), float(page.width), float(page.height)))
            except Exception as e:
                ctx.warn(f"p. {i + 1} unreadable: {e}")
                layouts.append(([], float(page.width or 1), float(page.height or 1)))
        title = _meta_value(doc, "Title")
        head_title, head_authors = _first_page_head(layouts[0][0], layouts[0][2]) if layouts else ("", [])
        if not title or _BAD_TITLE.search(title):
            title = head_title or title
        ctx.meta["title"] = title
        authors = _meta_value(doc, "Author")
        ctx.meta["authors"] = ([] if _BAD_TITLE.search(authors) else _authors(authors)) or head_authors
        running = running_lines(layouts)
        if running:
            ctx.meta["running_lines_dropped"] = sorted(running)[:10]
        ocr_pages: list[int] = []
        turned: list[int] = []
        tables_found = 0
        empty_pages = 0
        for i, page in enumerate(plumber.pages):
            n = i + 1
            segs, width, height = layouts[i]
            try:
                tables = _tables(page, ctx, n)
                tables_found += len(tables)
                text = _page_text(segs, width, height, tables, running)
                cover = image_cover(page.images, width, height) if page.images else 0.0
            except Exception as e:
                ctx.warn(f"p. {n} unreadable: {e}")
                text, cover = "", 0.0
            if needs_ocr(text, cover) and (cover > 0 or page.curves or page.rects or not segs):
                try:
                    ocr, turn = ocr_page(doc[i])
                    ocr = ocr.strip()
                except Exception as e:
                    ctx.warn(f"OCR failed on p. {n}: {e}")
                    ocr, turn = "", 0
                if len(ocr) > len(text.strip()):
                    text = ocr
                    ocr_pages.append(n)
                    if turn:
                        turned.append(n)
            page.flush_cache()
            if not text.strip():
                empty_pages += 1
                continue
            for chunk in pack_blocks(split_blocks(text)):
                yield PassageDraft(text=chunk, locator=f"p. {n}", loc={"page": n}, title=title)
        ctx.meta["tables"] = tables_found
        if ocr_pages:
            ctx.meta["ocr_pages"] = ocr_pages
        if turned:
            ctx.meta["ocr_turned_pages"] = turned
        if empty_pages:
            ctx.meta["empty_pages"] = empty_pages
    finally:
        plumber.close()
        doc.close()
