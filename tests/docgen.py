"""Generate small test documents (PDF, PPTX, DOCX, XLSX, CSV, images, corpora, ZIPs) in a test's tmp dir."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from tests.mediagen import font


def make_pdf(
    path: Path,
    pages: Sequence[str],
    title: str = "",
    author: str = "",
    tables: dict[int, list[list[str]]] | None = None,
) -> Path:
    """A text PDF, one string per page (blank lines separate paragraphs); ``tables`` maps a 0-based
    page index to rows drawn as a ruled table below the page's text."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    story: list[Any] = []
    for i, text in enumerate(pages):
        for para in text.split("\n\n"):
            story.append(Paragraph(para.replace("\n", " "), styles["BodyText"]))
            story.append(Spacer(1, 6))
        if tables and i in tables:
            t = Table(tables[i])
            t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.8, colors.black)]))
            story.append(t)
        if i < len(pages) - 1:
            story.append(PageBreak())
    doc = SimpleDocTemplate(str(path), pagesize=A4, title=title, author=author)
    doc.build(story)
    return path


def make_image_with_text(path: Path | None, text: str, size: tuple[int, int] = (1200, 400),
                         font_size: int = 56) -> Image.Image:
    """A white image with black lines of ``text``; saved to ``path`` when given."""
    img = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(img)
    f = font(font_size, bold=False)
    y = 40
    for line in text.split("\n"):
        d.text((40, y), line, font=f, fill="black")
        y += int(font_size * 1.5)
    if path is not None:
        img.save(path)
    return img


def make_image_pdf(path: Path, pages: Sequence[Image.Image], page_size: tuple[float, float] = (600, 200)) -> Path:
    """A PDF whose pages are pictures (no text layer), each image stretched over its page."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=page_size)
    for img in pages:
        w, h = page_size
        if img.width < img.height and w > h:  # a page turned by 90° is a portrait page
            w, h = h, w
        c.setPageSize((w, h))
        c.drawImage(ImageReader(img), 0, 0, width=w, height=h)
        c.showPage()
    c.save()
    return path


def make_scanned_pdf(path: Path, text: str, turn: int = 0) -> Path:
    """A PDF whose only page is a picture of ``text`` (no text layer), optionally turned by ``turn``°."""
    img = make_image_with_text(None, text)
    if turn:
        img = img.rotate(turn, expand=True)
    return make_image_pdf(path, [img])


def make_encrypted_pdf(path: Path, text: str = "secret text", password: str = "pw") -> Path:
    """A PDF that needs ``password`` to open."""
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.pdfgen import canvas

    enc = StandardEncryption(password, ownerPassword=password + "-owner", strength=128)
    c = canvas.Canvas(str(path), encrypt=enc)
    c.drawString(72, 720, text)
    c.showPage()
    c.save()
    return path


def make_pptx(path: Path, slides: Sequence[dict[str, Any]], title: str = "") -> Path:
    """A deck; each slide dict may have ``title``, ``body`` (list of lines), ``table`` (rows), ``notes``."""
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    if title:
        prs.core_properties.title = title
    for spec in slides:
        slide = prs.slides.add_slide(prs.slide_layouts[1 if spec.get("body") else 5])
        if spec.get("title") is not None and slide.shapes.title is not None:
            slide.shapes.title.text = spec["title"]
        if spec.get("body"):
            body = slide.placeholders[1].text_frame
            body.text = spec["body"][0]
            for line in spec["body"][1:]:
                body.add_paragraph().text = line
        if spec.get("table"):
            rows = spec["table"]
            shape = slide.shapes.add_table(len(rows), len(rows[0]), Inches(1), Inches(4), Inches(6), Inches(1.5))
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    shape.table.cell(r, c).text = str(value)
        if spec.get("notes"):
            slide.notes_slide.notes_text_frame.text = spec["notes"]
    prs.save(path)
    return path


def make_docx(path: Path, blocks: Sequence[tuple[str, Any]], title: str = "") -> Path:
    """A Word file from ``(kind, value)`` blocks: ``("title", text)``, ``("h1".."h3", text)``,
    ``("p", text)``, ``("table", rows)``, ``("comment", (text_of_paragraph, comment, author))``."""
    import docx

    doc = docx.Document()
    if title:
        doc.core_properties.title = title
    for kind, value in blocks:
        if kind == "title":
            doc.add_heading(value, level=0)
        elif kind in ("h1", "h2", "h3"):
            doc.add_heading(value, level=int(kind[1]))
        elif kind == "p":
            doc.add_paragraph(value)
        elif kind == "table":
            t = doc.add_table(rows=len(value), cols=len(value[0]))
            for r, row in enumerate(value):
                for c, v in enumerate(row):
                    t.cell(r, c).text = str(v)
        elif kind == "comment":
            text, comment, author = value
            para = doc.add_paragraph(text)
            doc.add_comment(para.runs, text=comment, author=author)
        else:
            raise ValueError(f"unknown block kind {kind!r}")
    doc.save(path)
    return path


def make_xlsx(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    """A workbook with one sheet per ``{name: rows}`` entry."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def make_csv(path: Path, rows: list[list[Any]], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    """A CSV file in ``encoding`` with ``delimiter``."""
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def make_csv_gbk(path: Path, rows: list[list[Any]]) -> Path:
    """A GBK-encoded CSV (as exported by Chinese Excel)."""
    return make_csv(path, rows, encoding="gbk")


def make_corpus(path: Path, articles: Sequence[dict[str, Any]], truncate_at: int | None = None) -> Path:
    """A JSON article corpus; ``truncate_at`` cuts the file to that many bytes (a damaged download)."""
    data = json.dumps(list(articles), ensure_ascii=False, indent=1).encode("utf-8")
    if truncate_at is not None:
        data = data[:truncate_at]
    path.write_bytes(data)
    return path


def make_zip(path: Path, members: dict[str, bytes], utf8_names: bool = True) -> Path:
    """A ZIP with ``{name: content}`` members (names may be unsafe on purpose). With
    ``utf8_names=False`` non-ASCII names are stored GBK-encoded without the UTF-8 flag, as old
    Chinese Windows tools write them."""
    swaps: list[tuple[bytes, bytes]] = []
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for i, (name, content) in enumerate(members.items()):
            if not utf8_names and not name.isascii():
                raw = name.encode("gbk")
                placeholder = f"@{i}@".ljust(len(raw), "~").encode("ascii")
                if len(placeholder) != len(raw):
                    raise ValueError(f"name too short to patch: {name!r}")
                swaps.append((placeholder, raw))
                name = placeholder.decode("ascii")
            z.writestr(name, content)
    data = path.read_bytes()
    for placeholder, raw in swaps:
        data = data.replace(placeholder, raw)
    path.write_bytes(data)
    return path


def make_zip_bomb(path: Path, member: str = "bomb.txt", size: int = 50 * 1024 * 1024) -> Path:
    """A ZIP whose single member expands to ``size`` bytes of zeros (compresses ~1000:1)."""
    block = b"\0" * (1 << 20)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z, z.open(member, "w") as f:
        for _ in range(size // len(block)):
            f.write(block)
    return path


def add_docx_footnote(path: Path, anchor_text: str, note: str) -> Path:
    """Attach footnote ``note`` to the end of the paragraph containing ``anchor_text`` (python-docx
    cannot write footnotes, so the package parts are added directly)."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    footnotes = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:footnotes xmlns:w="{w}">'
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
        '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p>'
        '</w:footnote>'
        f'<w:footnote w:id="1"><w:p><w:r><w:t xml:space="preserve">{note}</w:t></w:r></w:p></w:footnote>'
        '</w:footnotes>'
    )
    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    doc = parts["word/document.xml"].decode("utf-8")
    at = doc.index(anchor_text)
    end = doc.index("</w:p>", at)
    doc = doc[:end] + '<w:r><w:footnoteReference w:id="1"/></w:r>' + doc[end:]
    parts["word/document.xml"] = doc.encode("utf-8")
    parts["word/footnotes.xml"] = footnotes.encode("utf-8")
    for name, element, closing in (
        ("word/_rels/document.xml.rels", '<Relationship Id="rIdFn1" Type="http://schemas.openxmlformats.org/'
         'officeDocument/2006/relationships/footnotes" Target="footnotes.xml"/>', "</Relationships>"),
        ("[Content_Types].xml", '<Override PartName="/word/footnotes.xml" ContentType="application/'
         'vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"/>', "</Types>"),
    ):
        parts[name] = parts[name].decode("utf-8").replace(closing, element + closing).encode("utf-8")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def run_extractor(kind: str, path: Path, tmp_path: Path) -> tuple[list[Any], Any]:
    """Run the registered extractor of ``kind`` on ``path``: (passages, context)."""
    from sourcebook.ingest.base import ExtractContext, extractor_for

    ctx = ExtractContext(folder=path.parent, rel_path=path.name, work_dir=tmp_path / "w")
    extractor = extractor_for(kind)
    assert extractor is not None, f"no extractor for {kind}"
    return list(extractor(path, ctx)), ctx
