"""PDF page furniture, reading order and OCR on PDFs generated in the test (reportlab)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sourcebook.ingest.pdf_ocr import is_garbage, needs_ocr
from tests.docgen import make_scanned_pdf
from tests.docgen import run_extractor as run

BODY = [
    "Coastal wetlands store carbon in their soils for centuries when they are left undisturbed.",
    "Drainage for farming releases that carbon quickly and the sites become net emitters.",
    "Restoring tidal flow lets sediment build up again and burial of carbon resumes within years.",
]


def _canvas(path: Path, size: tuple[float, float] = (595, 842)):
    from reportlab.pdfgen import canvas

    return canvas.Canvas(str(path), pagesize=size)


def _body(c, start: float = 700) -> None:
    c.setFont("Helvetica", 11)
    for i, line in enumerate(BODY):
        c.drawString(72, start - 40 * i, line)


def _text(passages) -> str:
    return "\n".join(p.text for p in passages)


def test_repeated_headers_footers_and_margin_numbers_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "journal.pdf"
    c = _canvas(path)
    for n in range(1, 4):
        c.setFont("Helvetica", 8)
        c.drawString(72, 815, "Journal of Estuarine Studies  Vol. 12")          # running header
        c.drawString(72, 22, f"Downloaded from https://example.org on Monday, {n} March 2025")
        c.drawString(560 if n % 2 else 20, 420, str(n + 40))                    # page number in a side margin
        c.saveState()                                                            # vertical stamp, left margin
        c.translate(14, 300)
        c.rotate(90)
        c.drawString(0, 0, "Licensed copy for reading only")
        c.restoreState()
        _body(c)
        c.drawString(72, 560, f"Section {n} ends with this sentence about the salt marsh at site {n}.")
        c.showPage()
    c.save()
    passages, ctx = run("pdf", path, tmp_path)
    text = _text(passages)
    for gone in ("Journal of Estuarine", "Downloaded from", "Licensed copy", "41", "42", "43"):
        assert gone not in text, gone
    for line in BODY:
        assert line in text
    assert "Section 2 ends with this sentence about the salt marsh at site 2." in text
    assert {p.locator for p in passages} == {"p. 1", "p. 2", "p. 3"}
    assert "Journal of Estuarine Studies Vol. #" in ctx.meta["running_lines_dropped"]


def test_single_page_stamps_are_dropped_but_body_lines_like_them_stay(tmp_path: Path) -> None:
    path = tmp_path / "one.pdf"
    c = _canvas(path)
    c.setFont("Helvetica", 8)
    c.drawString(72, 22, "Download date: 12/03/2025")
    c.drawString(72, 812, "Downloaded from repository.example.edu by guest on 4 May 2024")
    c.drawString(290, 40, "- 17 -")
    _body(c)
    c.setFont("Helvetica", 11)
    # the same kinds of words in the body of the page are content, not furniture
    c.drawString(72, 500, "The survey data were downloaded from the national archive in 2024.")
    c.drawString(72, 470, "17")
    c.showPage()
    c.save()
    passages, ctx = run("pdf", path, tmp_path)
    text = _text(passages)
    assert "Download date" not in text and "by guest" not in text and "- 17 -" not in text
    assert "The survey data were downloaded from the national archive in 2024." in text
    assert "17" in text.split()
    assert "running_lines_dropped" not in ctx.meta


def test_two_columns_are_read_left_then_right(tmp_path: Path) -> None:
    path = tmp_path / "columns.pdf"
    c = _canvas(path)
    c.setFont("Helvetica", 16)
    c.drawString(72, 780, "A Title Across Both Columns Of The Page")
    left = ["Left column first line about", "river deltas and the sand they", "carry into the sea each year."]
    right = ["Right column begins with the", "tides that move that sand back", "along the shore in summer."]
    c.setFont("Helvetica", 10)
    for i in range(3):
        c.drawString(60, 740 - 12 * i, left[i])
        c.drawString(320, 737 - 12 * i, right[i])   # baselines offset from the left column's
    for i in range(3):  # a second block of the left column, after a gap
        c.drawString(60, 680 - 12 * i, f"Left again with line {i} of more text here.")
    c.showPage()
    c.save()
    passages, _ = run("pdf", path, tmp_path)
    text = " ".join(_text(passages).split())
    assert "Left column first line about river deltas and the sand they carry into the sea each year." in text
    assert "Right column begins with the tides that move that sand back along the shore in summer." in text
    assert text.index("A Title Across") < text.index("Left column first") < text.index("Left again with line 2")
    assert text.index("Left again with line 2") < text.index("Right column begins")


@pytest.mark.parametrize("turn", [0, 90])
def test_scanned_page_is_read_by_ocr_upright_and_turned(tmp_path: Path, turn: int) -> None:
    pdf = make_scanned_pdf(tmp_path / f"scan{turn}.pdf", "INVOICE NUMBER 4821\nTOTAL DUE 950 EUR", turn=turn)
    passages, ctx = run("pdf", pdf, tmp_path)
    assert ctx.meta["ocr_pages"] == [1]
    text = " ".join(p.text for p in passages).upper()
    assert "INVOICE" in text and "4821" in text and "950" in text
    assert passages[0].locator == "p. 1"
    if turn:
        assert ctx.meta["ocr_turned_pages"] == [1]


def test_garbage_text_layers_are_recognised() -> None:
    assert is_garbage("(cid:12)(cid:40)(cid:33)(cid:7) (cid:19)(cid:22)")
    assert is_garbage("\ue001\ue002\ue003 \ue004\ue005 ab")
    assert is_garbage("¤¦¨ª¬®°²´¶¸º¼¾ÀÂ ¤¦¨ª¬®")
    assert not is_garbage("Tides move sand along the shore (see Fig. 2).")
    assert not is_garbage("潮汐把沙子沿着海岸线搬运，见图 2。")
    assert needs_ocr("", 0.0)
    assert needs_ocr("Figure 3", 0.9)               # a picture page with a caption only
    assert not needs_ocr("Figure 3 " * 40, 0.9)     # a picture page with plenty of real text
    assert not needs_ocr("Tides move sand along the shore every day.", 0.0)
