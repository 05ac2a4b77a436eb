"""Smaller bad-input cases: truncated files, one-line reasons, symlinked duplicates, quiet logs, tidy paths."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sourcebook.ingest.folder import ingest_folder, one_line


def _by_path(rep):
    return {s.path: s for s in rep.sources}


def _pptx_bytes() -> bytes:
    from pptx import Presentation

    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[1])
    slide.shapes.title.text = "储能"
    slide.placeholders[1].text = "社区储能提高了自用比例。" * 20
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


def _pdf_bytes() -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, "Solar roofs pay back in eight years.")
    c.save()
    return buf.getvalue()


def test_truncated_files_keep_their_kind_and_say_why(tmp_path: Path):
    folder = tmp_path / "cut"
    folder.mkdir()
    pptx = _pptx_bytes()
    (folder / "deck.pptx").write_bytes(pptx[: len(pptx) // 3])
    pdf = _pdf_bytes()
    (folder / "paper.pdf").write_bytes(pdf[: len(pdf) // 4])
    (folder / "whole.pdf").write_bytes(pdf)
    rep = _by_path(ingest_folder(folder))
    assert rep["deck.pptx"].kind == "pptx" and rep["deck.pptx"].status == "error"
    assert rep["paper.pdf"].status == "error", (rep["paper.pdf"].kind, rep["paper.pdf"].reason)
    assert "truncated or corrupt" in rep["paper.pdf"].reason or "corrupt PDF" in rep["paper.pdf"].reason
    assert "no pages" not in rep["paper.pdf"].reason
    assert rep["whole.pdf"].status == "ok"


def test_parser_messages_become_one_line(tmp_path: Path):
    assert one_line("parse error: premature EOF\n      \n   (right here) ------^\n") == "parse error: premature EOF"
    folder = tmp_path / "j"
    folder.mkdir()
    (folder / "corpus.json").write_text('[{"title": "x", "content": "abc def"}, {"title": \n', encoding="utf-8")
    (folder / "bad.jsonl").write_text('{"a": 1}\n{"b": [1,\n', encoding="utf-8")
    for s in ingest_folder(folder).sources:
        assert "\n" not in s.reason and "^" not in s.reason, s.reason


def test_symlink_to_a_file_of_the_folder_is_not_a_second_source(tmp_path: Path):
    folder = tmp_path / "links"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "real.md").write_text("# 储能\n\n社区储能提高了自用比例。\n", encoding="utf-8")
    os.symlink(folder / "sub" / "real.md", folder / "alias.md")
    (folder / ".hidden.md").write_text("# 隐藏\n\n隐藏文件的内容也可以经由链接读取。\n", encoding="utf-8")
    os.symlink(folder / ".hidden.md", folder / "visible.md")
    rep = ingest_folder(folder)
    by = _by_path(rep)
    assert by["alias.md"].status == "skipped" and "sub/real.md" in by["alias.md"].reason
    assert by["sub/real.md"].status == "ok"
    assert by["visible.md"].status == "ok"  # its target is never read otherwise
    assert {p.source for p in rep.store.passages()} == {"sub/real.md", "visible.md"}


def test_onnxruntime_files_stay_in_the_cache_dir(tmp_path: Path):
    home, cache = tmp_path / "home", tmp_path / "cache"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "XDG_CACHE_HOME"}
    env.update(HOME=str(home), SOURCEBOOK_CACHE_DIR=str(cache))
    code = ("from sourcebook.runtime_home import import_onnxruntime; import os; import_onnxruntime(); "
            "import onnxruntime; assert 'XDG_CACHE_HOME' not in os.environ")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
    assert not (home / ".cache").exists()


def test_media_tool_errors_name_the_file_not_its_absolute_path(tmp_path: Path):
    from sourcebook.tools.media_tools import image_describe, video_understanding

    bad = tmp_path / "deep" / "clip.mp4"
    bad.parent.mkdir()
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 500)
    text = video_understanding(bad)
    assert "clip.mp4" in text and str(tmp_path) not in text
    img = tmp_path / "deep" / "pic.png"
    img.write_bytes(b"\x89PNG\r\n\x1a\n" + b"junk" * 10)
    text = image_describe(img)
    assert "pic.png" in text and str(tmp_path) not in text
    with pytest.raises(FileNotFoundError) as info:
        video_understanding(tmp_path / "deep" / "missing.mp4")
    assert str(tmp_path) not in str(info.value)


def test_zip_members_of_truncated_archive_named(tmp_path: Path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.txt", "hello " * 1000)
    folder = tmp_path / "z"
    folder.mkdir()
    (folder / "cut.zip").write_bytes(buf.getvalue()[:200])
    s = _by_path(ingest_folder(folder))["cut.zip"]
    assert s.kind == "archive" and s.status == "error" and "cannot open archive" in s.reason
