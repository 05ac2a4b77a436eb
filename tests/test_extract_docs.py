"""Document extractors (PDF, PPTX, DOCX) on documents generated in the test."""

from __future__ import annotations

from pathlib import Path

import pytest

from sourcebook.ingest.base import ExtractionError
from tests.docgen import (
    add_docx_footnote,
    make_docx,
    make_encrypted_pdf,
    make_pdf,
    make_pptx,
    make_scanned_pdf,
)
from tests.docgen import run_extractor as run


def test_pdf_pages_table_and_metadata(tmp_path: Path) -> None:
    pdf = make_pdf(
        tmp_path / "report.pdf",
        pages=["Alpha page talks about glaciers.", "Beta page covers rainfall in the valley.",
               "Gamma page closes with conclusions."],
        title="Water Survey 2024",
        author="Ada Lovelace; Grace Hopper",
        tables={1: [["Station", "Rain mm"], ["North", "120"], ["South", "87"]]},
    )
    passages, ctx = run("pdf", pdf, tmp_path)
    assert ctx.meta["pages"] == 3
    assert ctx.meta["title"] == "Water Survey 2024"
    assert ctx.meta["authors"] == ["Ada Lovelace", "Grace Hopper"]
    assert ctx.meta["tables"] == 1
    by_page = {p.loc["page"]: p for p in passages}
    assert set(by_page) == {1, 2, 3}
    assert all(p.locator == f"p. {p.loc['page']}" for p in passages)
    page2 = by_page[2].text
    assert "rainfall" in page2
    assert "| Station | Rain mm |" in page2
    assert "| North | 120 |" in page2
    # table cells are not repeated as loose text
    assert page2.count("North") == 1
    assert "glaciers" in by_page[1].text and "glaciers" not in page2


def test_pdf_scanned_page_uses_ocr(tmp_path: Path) -> None:
    pdf = make_scanned_pdf(tmp_path / "scan.pdf", "INVOICE NUMBER 4821\nTOTAL DUE 950 EUR")
    passages, ctx = run("pdf", pdf, tmp_path)
    assert ctx.meta["ocr_pages"] == [1]
    text = " ".join(p.text for p in passages).upper()
    assert "INVOICE" in text and "4821" in text


def test_pdf_encrypted(tmp_path: Path) -> None:
    pdf = make_encrypted_pdf(tmp_path / "locked.pdf")
    with pytest.raises(ExtractionError, match="encrypted PDF"):
        run("pdf", pdf, tmp_path)


def test_pdf_corrupt(tmp_path: Path) -> None:
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage \x00\x01\x02")
    with pytest.raises(ExtractionError) as err:
        run("pdf", bad, tmp_path)
    assert err.value.status in ("error", "empty")
    assert "PDF" in err.value.reason


def test_pptx_title_body_table_notes(tmp_path: Path) -> None:
    deck = make_pptx(
        tmp_path / "deck.pptx",
        slides=[
            {"title": "Quarterly Review", "body": ["Revenue grew 12 percent", "Costs were flat"],
             "notes": "Mention the new office"},
            {"title": "Numbers", "table": [["Region", "Sales"], ["East", "310"], ["West", "205"]]},
        ],
    )
    passages, ctx = run("pptx", deck, tmp_path)
    assert ctx.meta["slides"] == 2
    assert ctx.meta["title"] == "Quarterly Review"
    s1 = [p for p in passages if p.loc == {"slide": 1}]
    s2 = [p for p in passages if p.loc == {"slide": 2}]
    assert s1 and s2 and s1[0].locator == "slide 1"
    t1 = "\n".join(p.text for p in s1)
    assert "# Quarterly Review" in t1 and "Revenue grew 12 percent" in t1
    assert "Mention the new office" in t1
    t2 = "\n".join(p.text for p in s2)
    assert "| Region | Sales |" in t2 and "| East | 310 |" in t2
    assert s2[0].title == "Numbers"


def test_docx_headings_table_comment(tmp_path: Path) -> None:
    doc = make_docx(
        tmp_path / "paper.docx",
        blocks=[
            ("title", "River Study"),
            ("h1", "Methods"),
            ("p", "We sampled water at nine stations."),
            ("h2", "Sampling"),
            ("comment", ("Samples were frozen overnight.", "Check the freezer log", "Reviewer")),
            ("table", [["Station", "pH"], ["N1", "7.2"]]),
            ("h1", "Results"),
            ("p", "Acidity rose downstream."),
        ],
    )
    passages, ctx = run("docx", doc, tmp_path)
    assert ctx.meta["title"] == "River Study"
    assert ctx.meta["tables"] == 1
    assert ctx.meta["paragraphs"] >= 3
    by_loc = {p.locator: p for p in passages}
    assert "§ Sampling" in by_loc and "§ Results" in by_loc
    sampling = by_loc["§ Sampling"]
    assert sampling.loc["section"] == ["Methods", "Sampling"]
    assert "Samples were frozen overnight." in sampling.text
    assert "Check the freezer log" in sampling.text and "Reviewer" in sampling.text
    assert "| N1 | 7.2 |" in sampling.text
    assert "## Sampling" in sampling.text
    assert by_loc["§ Results"].loc["section"] == ["Results"]


def test_docx_footnotes(tmp_path: Path) -> None:
    doc = make_docx(tmp_path / "fn.docx", blocks=[("h1", "Law"), ("p", "The statute was amended in 2021.")])
    add_docx_footnote(doc, "amended in 2021", "Amendment No. 7 of the State Council")
    passages, ctx = run("docx", doc, tmp_path)
    assert ctx.meta["notes"] == 1
    text = passages[0].text
    assert "The statute was amended in 2021.[^fn1]" in text
    assert "[^fn1]: Amendment No. 7 of the State Council" in text


def test_office_corrupt_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pptx"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(ExtractionError, match="corrupt PPTX"):
        run("pptx", bad, tmp_path)
    bad_doc = tmp_path / "bad.docx"
    bad_doc.write_bytes(b"plain text pretending")
    with pytest.raises(ExtractionError, match="corrupt DOCX"):
        run("docx", bad_doc, tmp_path)


def _canvas(path: Path, size: tuple[float, float] = (595, 842)):
    from reportlab.pdfgen import canvas

    return canvas.Canvas(str(path), pagesize=size)


def test_pdf_running_headers_overprint_and_paragraphs(tmp_path: Path) -> None:
    path = tmp_path / "running.pdf"
    c = _canvas(path)
    for n in range(1, 6):
        c.setFont("Helvetica", 9)
        c.drawString(72, 842 - 40, "ACME Annual Report 2024")
        c.drawString(290, 842 - 820, f"{n}")
        c.setFont("Helvetica", 11)
        c.drawString(72, 842 - 120, f"Heading {n}")
        y = 140
        for line in ("The first paragraph starts on this line and it keeps going until the right",
                     "margin so that it wraps onto a second line that ends here."):
            c.drawString(72, 842 - y, line)
            y += 13
        for _ in range(2):  # fake bold: the same words drawn twice over each other
            c.drawString(72, 842 - 200, f"Bold statement number {n}.")
        c.showPage()
    c.save()
    passages, ctx = run("pdf", path, tmp_path)
    assert set(ctx.meta["running_lines_dropped"]) == {"ACME Annual Report #", "#"}
    text = "\n".join(p.text for p in passages)
    assert "ACME Annual Report" not in text
    page3 = next(p.text for p in passages if p.loc["page"] == 3)
    assert page3.split("\n\n") == [
        "Heading 3",
        "The first paragraph starts on this line and it keeps going until the right margin so that it "
        "wraps onto a second line that ends here.",
        "Bold statement number 3.",
    ]


def test_pdf_title_and_authors_from_first_page(tmp_path: Path) -> None:
    from sourcebook.ingest.pdf import _name_line

    path = tmp_path / "untitled.pdf"
    c = _canvas(path)
    c.setFont("Helvetica", 22)
    c.drawString(72, 842 - 100, "Tidal Energy in Small Harbours")
    c.setFont("Helvetica", 12)
    c.drawString(72, 842 - 130, "Maria Lopez1, Chen Wei2*")
    c.setFont("Helvetica", 10)
    c.drawString(72, 842 - 150, "Harbour Institute, Lisbon")
    for i in range(12):
        c.drawString(72, 842 - (200 + 14 * i), f"Body line {i} describes turbines and tides in detail.")
    c.showPage()
    c.save()
    _, ctx = run("pdf", path, tmp_path)
    assert ctx.meta["title"] == "Tidal Energy in Small Harbours"
    assert ctx.meta["authors"] == ["Maria Lopez", "Chen Wei"]
    assert _name_line("文◎高　倩") == ["高倩"]
    assert _name_line("王  田") == ["王田"]
    assert _name_line("贵州大学法学院，贵州 贵阳") == []
    assert _name_line("Technical Report") == []


def test_pdf_page_numbers_dropped_and_wide_spaced_lines_joined(tmp_path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    from sourcebook.ingest.pdf import is_page_number

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    path = tmp_path / "spaced.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    line = "社区储能在白天储存多余的光伏电量并在傍晚高峰时段释放出来从而提高本地消纳比例"
    for page in (1, 2):
        c.setFont("STSong-Light", 11)
        y = 760
        for part in (line[:20], line[20:]):  # one sentence over two lines, 1.7× line spacing
            c.drawString(72, y, part + ("。" if part == line[20:] else ""))
            y -= 19
        c.drawString(290, 30, f"— {page} —")
        c.showPage()
    c.save()
    passages, _ = run("pdf", path, tmp_path)
    text = passages[0].text
    assert line + "。" in text
    assert "—" not in text
    assert is_page_number("第 3 页") and is_page_number("Page 4 of 9") and not is_page_number("图 2")
