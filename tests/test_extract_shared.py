"""Extractors on the shared real-world fixtures (skipped when ../shared/fixtures is absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sourcebook.ingest.base import ExtractContext, ExtractionError, extractor_for
from sourcebook.ingest.detect import detect_kind
from sourcebook.ingest.media_meta import extract_audio, extract_image, extract_video

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"
pytestmark = [pytest.mark.shared,
              pytest.mark.skipif(not SHARED.exists(), reason="../shared/fixtures not present")]
MARKITDOWN = SHARED / "docs" / "markitdown"
METADATA_ONLY = {"image": extract_image, "video": extract_video, "audio": extract_audio}


def extract(path: Path, tmp_path: Path, kind: str | None = None) -> tuple[str, ExtractContext]:
    kind = kind or detect_kind(path)
    ctx = ExtractContext(folder=path.parent, rel_path=path.name, work_dir=tmp_path / "w")
    extractor = METADATA_ONLY.get(kind) or extractor_for(kind)
    assert extractor is not None, f"no extractor for {kind}"
    return "\n".join(p.text for p in extractor(path, ctx)), ctx


def _expectations() -> list[dict]:
    if not MARKITDOWN.exists():
        return []
    seen: dict[str, dict] = {}
    for entry in json.loads((MARKITDOWN / "expected_strings.json").read_text(encoding="utf-8")):
        # the first entry per file is the default conversion (later ones keep inline data URIs)
        seen.setdefault(entry["filename"], entry)
    wanted = ("test.pdf", "test.docx", "test.xlsx", "test.pptx", "test_mskanji.csv")
    return [seen[name] for name in wanted if name in seen]


@pytest.mark.parametrize("entry", _expectations(), ids=lambda e: e["filename"])
def test_markitdown_expected_strings(entry: dict, tmp_path: Path) -> None:
    text, _ = extract(MARKITDOWN / entry["filename"], tmp_path)
    missing = [s for s in entry["must_include"] if s not in text]
    present = [s for s in entry["must_not_include"] if s in text]
    assert not missing, f"missing from {entry['filename']}: {missing}"
    assert not present, f"must not appear in {entry['filename']}: {present}"


def test_chinese_tables_pdf(tmp_path: Path) -> None:
    base = SHARED / "docs" / "pymupdf"
    text, ctx = extract(base / "chinese-tables.pdf", tmp_path)
    assert ctx.meta["tables"] == 2
    expected = json.loads((base / "chinese-tables.expected.json").read_text(encoding="utf-8"))["extracts"]
    for table in expected:
        for row in table:
            cells = [c.replace("\n", "") for c in row]
            assert "| " + " | ".join(cells) + " |" in text, cells


def _anchor_files() -> list[Path]:
    root = SHARED / "anchor-tasks"
    if not root.exists():
        return []
    return sorted(p for p in root.glob("0*/*") if p.is_file())


@pytest.mark.parametrize("path", _anchor_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_anchor_task_files(path: Path, tmp_path: Path) -> None:
    kind = detect_kind(path)
    try:
        text, ctx = extract(path, tmp_path, kind)
    except ExtractionError as e:
        assert e.reason and path.name == "long_context.json" and path.stat().st_size == 0, e.reason
        assert (e.reason, e.status) == ("empty file", "empty")
        return
    if kind in METADATA_ONLY:
        assert ctx.meta.get("width") or ctx.meta.get("duration_s")
        return
    assert len(text) > 200, f"{path.name}: only {len(text)} characters extracted"
    assert not ctx.warnings, ctx.warnings
    if kind == "corpus":
        assert ctx.meta["articles"] > 0 and ctx.meta["sample_titles"]
    if kind == "pdf":
        assert ctx.meta["pages"] > 0
    if path.name == "time_series_covid19_confirmed_global.csv":
        assert ctx.meta["columns"] > 1000 and ctx.meta["wrapped_sheets"]
        assert "| Afghanistan |" in text or "Afghanistan" in text


def test_two_column_pdf_paragraph(tmp_path: Path) -> None:
    """Columns are read in order and lines of a paragraph are joined (ligatures expanded)."""
    base = SHARED / "docs" / "pymupdf"
    text, _ = extract(base / "2201.00069.pdf", tmp_path)
    expected = (base / "2201.00069_test_2608_expected_1.28.txt").read_text(encoding="utf-8")
    norm = " ".join(expected.replace("-\n", "-").split())
    assert norm in " ".join(text.split())


def test_chinese_paper_title_and_author(tmp_path: Path) -> None:
    _, ctx = extract(SHARED / "anchor-tasks" / "006" / "齐白石花鸟画的笔墨意趣表达研究_高倩.pdf", tmp_path)
    assert ctx.meta["title"] == "齐白石花鸟画的笔墨意趣表达研究"
    assert ctx.meta["authors"] == ["高倩"]
