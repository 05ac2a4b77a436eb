"""Legacy Office files (.doc, .ppt, .xls) made by a real LibreOffice and read back through ingest."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from sourcebook.ingest.folder import ingest_folder
from tests.docgen import make_docx, make_pptx, make_xlsx

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice not installed (apt-get install libreoffice-writer-nogui libreoffice-impress-nogui)")


def _convert(src: Path, fmt: str, out: Path) -> Path:
    subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation=file://{out / '.lo-profile'}",
                    "--convert-to", fmt, "--outdir", str(out), str(src)],
                   check=True, capture_output=True, timeout=180)
    result = out / f"{src.stem}.{fmt}"
    assert result.exists(), f"LibreOffice did not write {result}"
    return result


def test_doc_ppt_xls_round_trip(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    folder = tmp_path / "task"
    folder.mkdir()
    make_docx(src / "memo.docx", [("h1", "年度预算备忘"), ("p", "预算委员会于一九九九年批准了社区图书馆扩建计划。")])
    make_pptx(src / "deck.pptx", [{"title": "Harbour Survey", "body": ["Tide gauges were installed at three piers."]}])
    make_xlsx(src / "table.xlsx", {"Readings": [["pier", "level_cm"], ["north", 112], ["south", 98]]})
    _convert(src / "memo.docx", "doc", folder)
    _convert(src / "deck.pptx", "ppt", folder)
    _convert(src / "table.xlsx", "xls", folder)
    shutil.rmtree(folder / ".lo-profile", ignore_errors=True)
    report = ingest_folder(folder)
    by = {s.path: s for s in report.sources}
    assert {by[p].status for p in ("memo.doc", "deck.ppt", "table.xls")} == {"ok"}, by
    store = report.store
    memo = " ".join(p.text for p in store.passages("memo.doc"))
    assert "图书馆扩建计划" in memo
    deck = list(store.passages("deck.ppt"))
    assert deck[0].locator == "slide 1" and "Tide gauges" in " ".join(p.text for p in deck)
    sheet = " ".join(p.text for p in store.passages("table.xls"))
    assert "north" in sheet and "112" in sheet
