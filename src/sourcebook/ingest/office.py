"""PowerPoint (.pptx) and Word (.docx) intake.

PPTX: one passage group per slide (``locator="slide N"``) holding the title as a Markdown heading, body
text, tables as Markdown rows, charts as their data, pictures as ``![alt](name)`` and speaker notes.
DOCX: the body is cut at headings; each section is chunked with ``locator="§ Heading"`` and
``loc["section"]`` holding the heading path. Tables become Markdown rows, images
``![alt](data:image/...;base64...)`` placeholders, and comments are attached to the section they
annotate.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sourcebook.ingest.base import ExtractContext, ExtractionError, register
from sourcebook.ingest.text import pack_blocks
from sourcebook.models import PassageDraft

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_M = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"
_HEADING = re.compile(r"^heading\s*(\d)$", re.I)


def markdown_rows(rows: list[list[str]]) -> str:
    """Render rows as a Markdown table; the first row is the header."""
    rows = [[_cell(c) for c in r] for r in rows]
    rows = [r for r in rows if any(r)]
    if not rows:
        return ""
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    out = ["| " + " | ".join(rows[0]) + " |", "| " + " | ".join(["---"] * width) + " |"]
    out += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(out)


def _cell(text: Any) -> str:
    return " ".join(str(text or "").split()).replace("|", "\\|")


def _bad_office_file(path: Path, what: str, e: Exception) -> ExtractionError:
    if not zipfile.is_zipfile(path):
        return ExtractionError(f"corrupt {what}: not a ZIP container")
    return ExtractionError(f"corrupt {what}: {type(e).__name__}: {e}")


# ---------------------------------------------------------------- PPTX


def _shape_lines(shape: Any) -> list[str]:
    """Text of one slide shape (recursing into groups) as Markdown-ish lines."""
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    out: list[str] = []
    stype = getattr(shape, "shape_type", None)
    if stype == MSO_SHAPE_TYPE.GROUP:
        for sub in sorted(shape.shapes, key=_pos):
            out += _shape_lines(sub)
        return out
    if getattr(shape, "has_table", False) and shape.has_table:
        rows = [[cell.text for cell in row.cells] for row in shape.table.rows]
        md = markdown_rows(rows)
        if md:
            out.append(md)
        return out
    if getattr(shape, "has_chart", False) and shape.has_chart:
        out.append(_chart_text(shape.chart))
        return out
    if stype == MSO_SHAPE_TYPE.PICTURE or shape.__class__.__name__ == "Picture":
        alt = ""
        try:
            alt = shape._element._nvXxPr.cNvPr.get("descr") or ""
        except AttributeError:
            pass
        name = re.sub(r"\W", "", shape.name or "image") + ".jpg"
        out.append(f"![{' '.join(alt.split())}]({name})")
        return out
    if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        for para in shape.text_frame.paragraphs:
            text = "".join(run.text for run in para.runs) or para.text
            text = text.replace("\x0b", "\n").strip()
            if text:
                out.append(("  " * para.level + "- " + text) if para.level else text)
    return out


def _chart_text(chart: Any) -> str:
    lines = ["### Chart"]
    try:
        if chart.has_title and chart.chart_title.has_text_frame:
            title = chart.chart_title.text_frame.text.strip()
            if title:
                lines[0] = f"### Chart: {title}"
    except Exception:
        pass
    try:
        categories = [str(c) for c in chart.plots[0].categories] if len(chart.plots) else []
        series = list(chart.series)
        header = ["Category"] + [s.name or f"Series {i + 1}" for i, s in enumerate(series)]
        columns = [list(s.values) for s in series]
        rows = [header]
        for i, cat in enumerate(categories):
            rows.append([cat] + [_num(col[i]) if i < len(col) else "" for col in columns])
        lines.append(markdown_rows(rows))
    except Exception:
        pass
    return "\n".join(lines)


def _num(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return "" if v is None else str(v)


def _pos(shape: Any) -> tuple[int, int]:
    return (shape.top if shape.top is not None else 0, shape.left if shape.left is not None else 0)


@register("pptx")
def extract_pptx(path: Path, ctx: ExtractContext) -> Iterator[PassageDraft]:
    """Yield the passages of a PowerPoint deck, per slide (``locator="slide N"``)."""
    from pptx import Presentation

    try:
        prs = Presentation(str(path))
    except Exception as e:
        raise _bad_office_file(path, "PPTX", e) from e
    slides = list(prs.slides)
    ctx.meta["slides"] = len(slides)
    core_title = (prs.core_properties.title or "").strip()
    ctx.meta["title"] = core_title
    if prs.core_properties.author:
        ctx.meta["authors"] = [prs.core_properties.author]
    notes_count = 0
    for n, slide in enumerate(slides, 1):
        title_shape = slide.shapes.title
        title = " ".join(title_shape.text.split()) if title_shape is not None and title_shape.has_text_frame else ""
        if n == 1 and not ctx.meta["title"] and title:
            ctx.meta["title"] = title
        parts = [f"# {title}"] if title else []
        for shape in sorted(slide.shapes, key=_pos):
            if title_shape is not None and shape.shape_id == title_shape.shape_id:
                continue
            try:
                parts += _shape_lines(shape)
            except Exception as e:
                ctx.warn(f"slide {n}: shape {shape.name!r} unreadable: {e}")
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            text = notes.text.strip() if notes is not None else ""
            if text:
                notes_count += 1
                parts.append("### Notes:\n" + text)
        for chunk in pack_blocks(parts):
            yield PassageDraft(text=chunk, locator=f"slide {n}", loc={"slide": n}, title=title)
    ctx.meta["notes"] = notes_count


# ---------------------------------------------------------------- DOCX


def _heading_level(paragraph: Any) -> int:
    """1–9 for headings (``Title`` counts as 1), 0 for body paragraphs."""
    try:
        name = paragraph.style.name or ""
    except Exception:
        name = ""
    if name.lower() == "title":
        return 1
    m = _HEADING.match(name)
    if m:
        return int(m.group(1))
    ppr = paragraph._p.pPr
    if ppr is not None and ppr.find(f"{_W}outlineLvl") is not None:
        lvl = int(ppr.find(f"{_W}outlineLvl").get(f"{_W}val", "9"))
        if lvl < 9:
            return lvl + 1
    return 0


def _paragraph_text(paragraph: Any, doc: Any, notes: dict[str, str] | None = None,
                    used_notes: list[str] | None = None) -> str:
    """Paragraph text with inline images as ``![alt](data:<type>;base64...)`` placeholders and
    footnote references as ``[^N]`` (their ids collected in ``used_notes``)."""
    parts: list[str] = []

    def walk(el: Any) -> None:
        for child in el:
            tag = child.tag
            if not isinstance(tag, str) or tag.endswith("}Fallback"):  # comments, or VML copies of drawings
                continue
            if tag in (f"{_W}t", f"{_M}t"):
                parts.append(child.text or "")
            elif tag == f"{_W}tab":
                parts.append("\t")
            elif tag in (f"{_W}br", f"{_W}cr"):
                parts.append("\n")
            elif tag.endswith("}docPr"):
                alt = " ".join((child.get("descr") or child.get("title") or "").split())
                parts.append(f"![{alt}]({_image_type(child, doc)};base64...)")
            elif tag in (f"{_W}footnoteReference", f"{_W}endnoteReference"):
                kind = "fn" if tag == f"{_W}footnoteReference" else "en"
                key = f"{kind}{child.get(f'{_W}id')}"
                if notes is not None and key in notes:
                    parts.append(f"[^{key}]")
                    if used_notes is not None:
                        used_notes.append(key)
            else:
                walk(child)

    walk(paragraph._p)
    return "".join(parts).strip()


def _notes(path: Path) -> dict[str, str]:
    """Footnote/endnote texts keyed ``fn<id>``/``en<id>`` (separators and continuation notes skipped)."""
    from lxml import etree

    out: dict[str, str] = {}
    try:
        with zipfile.ZipFile(path) as z:
            for part, kind, tag in (("word/footnotes.xml", "fn", "footnote"), ("word/endnotes.xml", "en", "endnote")):
                if part not in z.namelist():
                    continue
                root = etree.fromstring(z.read(part))
                for note in root.iter(f"{_W}{tag}"):
                    if note.get(f"{_W}type") in ("separator", "continuationSeparator", "continuationNotice"):
                        continue
                    text = " ".join("".join(t.text or "" for t in note.iter(f"{_W}t")).split())
                    if text:
                        out[f"{kind}{note.get(f'{_W}id')}"] = text
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError):
        pass
    return out


def _image_type(doc_pr: Any, doc: Any) -> str:
    # walk up to the drawing, find the blip's relationship id and its part's content type
    node = doc_pr.getparent()
    for el in node.iter():
        if el.tag.endswith("}blip"):
            rid = el.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}embed")
            try:
                return "data:" + doc.part.related_parts[rid].content_type
            except (KeyError, AttributeError):
                break
    return "data:image"


def _comments(doc: Any, path: Path) -> dict[str, str]:
    """Comment id → "author: text"."""
    out: dict[str, str] = {}
    try:
        for c in doc.comments:
            out[str(c.comment_id)] = f"{c.author or 'Unknown'}: {' '.join(c.text.split())}"
        return out
    except AttributeError:
        pass
    try:  # python-docx < 1.2: read word/comments.xml directly
        from lxml import etree

        with zipfile.ZipFile(path) as z:
            if "word/comments.xml" not in z.namelist():
                return out
            root = etree.fromstring(z.read("word/comments.xml"))
        for c in root.iter(f"{_W}comment"):
            text = " ".join("".join(t.text or "" for t in c.iter(f"{_W}t")).split())
            out[c.get(f"{_W}id")] = f"{c.get(f'{_W}author') or 'Unknown'}: {text}"
    except Exception:
        pass
    return out


class _Section:
    def __init__(self, path: list[str], number: int) -> None:
        self.path = path
        self.number = number
        self.lines: list[str] = []


@register("docx")
def extract_docx(path: Path, ctx: ExtractContext) -> Iterator[PassageDraft]:
    """Yield the passages of a Word document, per heading section (``locator="§ Heading"``)."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        doc = docx.Document(str(path))
    except Exception as e:
        raise _bad_office_file(path, "DOCX", e) from e
    comments = _comments(doc, path)
    notes = _notes(path)
    title = (doc.core_properties.title or "").strip()
    if doc.core_properties.author:
        ctx.meta["authors"] = [doc.core_properties.author]
    n_paragraphs = n_tables = 0
    heading_path: list[str] = []
    sections: list[_Section] = [_Section([], 1)]

    for child in doc.element.body.iterchildren():
        if child.tag == f"{_W}p":
            para = Paragraph(child, doc)
            used: list[str] = []
            text = _paragraph_text(para, doc, notes, used)
            refs = [r.get(f"{_W}id") for r in child.iter(f"{_W}commentReference")]
            if not text and not refs:
                continue
            level = _heading_level(para)
            if level and text:
                if not title and (para.style.name or "").lower() == "title":
                    title = text
                heading_path = heading_path[: level - 1] + [text]
                sections.append(_Section(list(heading_path), len(sections) + 1))
                sections[-1].lines.append("#" * level + " " + text)
            elif text:
                n_paragraphs += 1
                sections[-1].lines.append(text)
            for rid in refs:
                if rid in comments:
                    sections[-1].lines.append(f"[Comment — {comments[rid]}]")
            for key in used:
                sections[-1].lines.append(f"[^{key}]: {notes[key]}")
        elif child.tag == f"{_W}tbl":
            n_tables += 1
            table = Table(child, doc)
            rows = []
            for row in table.rows:
                try:
                    rows.append([c.text for c in row.cells])
                except Exception:  # malformed merged cells
                    rows.append([])
            md = markdown_rows(rows)
            if md:
                sections[-1].lines.append(md)

    if not title:
        first = next((s.path[0] for s in sections if s.path), "")
        title = first
    ctx.meta["title"] = title
    ctx.meta["paragraphs"] = n_paragraphs
    ctx.meta["tables"] = n_tables
    ctx.meta["comments"] = len(comments)
    ctx.meta["notes"] = len(notes)
    carry: list[str] = []  # headings of sections that have no body of their own
    for sec in sections:
        if len(sec.lines) == 1 and sec.path and sec.lines[0].startswith("#"):
            carry.append(sec.lines[0])
            continue
        blocks = carry + sec.lines
        carry = []
        locator = f"§ {sec.path[-1]}" if sec.path else f"section {sec.number}"
        if len(locator) > 120:
            locator = locator[:117] + "…"
        for chunk in pack_blocks(blocks):
            yield PassageDraft(text=chunk, locator=locator, loc={"section": sec.path or [f"section {sec.number}"]},
                               title=title)
    if carry:
        yield PassageDraft(text="\n\n".join(carry), locator=f"§ {sections[-1].path[-1]}",
                           loc={"section": sections[-1].path}, title=title)
