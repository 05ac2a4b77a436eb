"""The example folder generator writes every file kind, deterministically and idempotently."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sourcebook.ingest.detect import detect_kind

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "make_demo_folder.py"

EXPECTED_KINDS = {
    "paper.pdf": "pdf",
    "briefing_slides.pptx": "pptx",
    "pilot_data.xlsx": "sheet",
    "poster.png": "image",
    "storage_explainer.mp4": "video",
    "long_context.json": "corpus",
    "request.txt": "text",
    ".sourcebookignore": "text",
}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "task"
    proc = run(str(out))
    assert proc.returncode == 0, proc.stderr
    return out


def test_every_file_kind_is_written(demo: Path) -> None:
    assert sorted(p.name for p in demo.iterdir()) == sorted(EXPECTED_KINDS)
    for name, kind in EXPECTED_KINDS.items():
        assert detect_kind(demo / name) == kind, name


def test_pdf_is_a_short_cjk_paper_with_metadata_and_table(demo: Path) -> None:
    import pdfplumber

    with pdfplumber.open(demo / "paper.pdf") as doc:
        assert 3 <= len(doc.pages) <= 4
        assert "屋顶光伏" in doc.metadata["Title"]
        assert "林晓舟" in doc.metadata["Author"]
        text = "".join(page.extract_text() or "" for page in doc.pages)
        tables = [t for page in doc.pages for t in page.find_tables()]
        assert "社区储能" in text and "参考资料" in text
        assert tables, "the results table should be detectable"
        assert any("光伏自用率" in str(t.extract()) for t in tables)


def test_slides_have_notes_and_a_table(demo: Path) -> None:
    from pptx import Presentation

    prs = Presentation(str(demo / "briefing_slides.pptx"))
    assert len(prs.slides) == 5
    for slide in prs.slides:
        assert slide.has_notes_slide and slide.notes_slide.notes_text_frame.text.strip()
    assert any(shape.has_table for slide in prs.slides for shape in slide.shapes)


def test_spreadsheet_has_two_sheets_of_consistent_numbers(demo: Path) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(demo / "pilot_data.xlsx", read_only=True)
    assert wb.sheetnames == ["月度运行数据", "楼栋清单"]
    rows = list(wb["月度运行数据"].iter_rows(values_only=True))
    months, total = rows[1:-1], rows[-1]
    assert len(months) == 12 and total[0] == "合计"
    assert sum(r[1] for r in months) == pytest.approx(total[1]) == 1386
    roofs = list(wb["楼栋清单"].iter_rows(values_only=True))
    assert len(roofs) == 1 + 20 + 1
    assert sum(r[4] for r in roofs[1:-1]) == roofs[-1][4] == 1260
    wb.close()


def test_poster_image_has_text_sized_canvas(demo: Path) -> None:
    from PIL import Image

    with Image.open(demo / "poster.png") as img:
        assert img.size == (1280, 800)
        colours = img.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 50  # anti-aliased text and a chart, not a blank canvas


def test_video_is_15s_h264_with_audio_and_three_slides(demo: Path) -> None:
    import av
    import numpy as np

    with av.open(str(demo / "storage_explainer.mp4")) as container:
        assert container.duration / 1e6 == pytest.approx(15.0, abs=0.3)
        assert container.streams.video[0].codec_context.name == "h264"
        assert container.streams.audio, "an audio track is required"
        means = [float(np.asarray(f.to_ndarray(format="rgb24")).mean(axis=(0, 1))[1])
                 for i, f in enumerate(container.decode(video=0)) if i % 50 == 25]
    assert len(means) == 3 and len({round(m) for m in means}) == 3  # three different slides


def test_corpus_and_request(demo: Path) -> None:
    articles = json.loads((demo / "long_context.json").read_text(encoding="utf-8"))
    assert 25 <= len(articles) <= 40
    assert all(a["title"].strip() and a["page_body"].strip() for a in articles)
    assert len({a["title"] for a in articles}) == len(articles)
    request = (demo / "request.txt").read_text(encoding="utf-8")
    assert re.search(r"\d{3,4}[–-]\d{3,4}字", request)
    for n in range(1, 6):
        assert f"（{n}）" in request
    assert "参考资料" in request


def test_rerun_keeps_files_and_force_rewrites_identically(demo: Path) -> None:
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in demo.iterdir()}
    proc = run(str(demo))
    assert proc.returncode == 0 and proc.stdout.count("kept") == len(EXPECTED_KINDS)
    assert {p.name: p.stat().st_mtime_ns for p in demo.iterdir()} == {k: v[0] for k, v in before.items()}
    proc = run(str(demo), "--force")
    assert proc.returncode == 0 and proc.stdout.count("written") == len(EXPECTED_KINDS)
    after = {p.name: p.read_bytes() for p in demo.iterdir()}
    assert after == {k: v[1] for k, v in before.items()}, "output must be deterministic"


def test_unwritable_target_gives_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    proc = run(str(blocker / "task"))
    assert proc.returncode != 0
    assert "a-file" in proc.stderr and "Traceback" not in proc.stderr
