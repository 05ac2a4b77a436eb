"""Hostile text input: binary content behind a text extension, NUL files, one-line giants, bracketed names."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sourcebook.cli import app
from sourcebook.ingest.chunking import MAX_CHARS, chunk_text, text_units
from sourcebook.ingest.folder import ingest_folder
from sourcebook.report.render import xml_safe

runner = CliRunner()

GOOD = ("城市屋顶光伏是分布式能源的重要组成部分。屋顶面积、朝向和遮挡决定了可安装容量。"
        "政策补贴与电价机制影响投资回收期。") * 20


def _status(report, path: str):
    return next(s for s in report.sources if s.path == path)


def test_binary_txt_is_skipped_with_reason(tmp_path: Path):
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD, encoding="utf-8")
    (folder / "blob.txt").write_bytes(bytes(range(256)) * 400)
    (folder / "nul.txt").write_bytes(b"\x00" * 300_000)
    (folder / "one_bell.txt").write_text("A fine sentence.\x07 Another one follows here.", encoding="utf-8")
    rep = ingest_folder(folder)
    for name in ("blob.txt", "nul.txt"):
        s = _status(rep, name)
        assert s.status == "skipped" and "binary content" in s.reason and s.passages == 0
    bell = _status(rep, "one_bell.txt")
    assert bell.status == "ok"
    text = rep.store.conn.execute("SELECT text FROM passages p JOIN sources s ON s.id=p.source_id "
                                  "WHERE s.path='one_bell.txt'").fetchone()[0]
    assert "\x07" not in text and "Another one" in text
    assert _status(rep, "good.txt").status == "ok"


def test_report_on_junk_folder_writes_docx_and_compliance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SOURCEBOOK_SEARCH__DENSE", "false")
    folder = tmp_path / "junk"
    folder.mkdir()
    (folder / "good.md").write_text("# 光伏\n\n" + GOOD, encoding="utf-8")
    (folder / "ctrl.txt").write_bytes(b"abc\x01\x02\x03def\x0b\x0c" * 5000)
    (folder / "nul.txt").write_bytes(b"\x00" * 2_000_000)
    (folder / "rand.bin.txt").write_bytes(bytes((i * 7919) % 256 for i in range(200_000)))
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "sourcebook", "report", str(folder), "写一篇关于屋顶光伏的短报告，约300字",
                           "--extractive", "--quiet", "-o", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr  # 1 = the checks failed, not a crash
    assert "Traceback" not in proc.stderr
    assert (out / "report.docx").stat().st_size > 0
    verdict = json.loads((out / "compliance.json").read_text(encoding="utf-8"))["verdict"]
    assert verdict in ("pass", "fail")


def test_xml_safe_removes_what_docx_refuses():
    import docx

    dirty = "a\x00b\x01c\x0bd\ud800e\ufffff\tg\nh"
    doc = docx.Document()
    with pytest.raises(ValueError):
        doc.add_paragraph(dirty)
    doc.add_paragraph(xml_safe(dirty))
    assert xml_safe(dirty) == "a b c d e f\tg\nh"


@pytest.mark.parametrize("text", ["字" * 300_000, "word " * 400_000, "\x00" * 1_000_000, "x" * 2_000_000,
                                  ("tbl | " * 30 + "\n") * 20_000, ("Ok. " * 40 + "\x00" * 9000) * 50])
def test_chunks_bounded_in_units_and_characters(text: str):
    chunks = list(chunk_text(text))
    assert chunks
    assert max(len(c) for c in chunks) <= MAX_CHARS
    assert max(text_units(c) for c in chunks) <= 800
    assert sum(len(c) for c in chunks) >= len(text.strip()) * 0.9  # nothing large lost


def test_chunking_is_linear_in_line_length():
    def timed(n: int) -> float:
        t0 = time.perf_counter()
        list(chunk_text("字" * n))
        return time.perf_counter() - t0

    timed(20_000)
    small, big = timed(40_000), timed(400_000)
    # ten times the text may take at most ~30x the time (quadratic would be 100x); generous for noisy hosts
    assert big < max(30 * small, 2.0), (small, big)


def test_extraction_deadline_gives_partial(tmp_path: Path):
    folder = tmp_path / "slow"
    folder.mkdir()
    (folder / "long.txt").write_text("Some words here. " * 200_000, encoding="utf-8")
    from sourcebook.config import get_settings

    settings = get_settings(extract_timeout_s=0.0)
    rep = ingest_folder(folder, settings)
    s = _status(rep, "long.txt")
    assert s.status == "partial" and "time limit" in s.reason and s.passages >= 1


@pytest.mark.parametrize("name", ["a[/b]c.txt", "x[final].txt", "[bold]y[/bold].txt"])
def test_bracketed_file_names_print_verbatim(tmp_path: Path, name: str):
    folder = tmp_path / "dir[/x]"  # a folder "x]" inside "dir[": the path reads as markup
    folder.mkdir(parents=True)
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(GOOD, encoding="utf-8")
    r = runner.invoke(app, ["ingest", str(folder)], terminal_width=250)
    assert r.exit_code == 0, r.output
    assert name in r.output
    r = runner.invoke(app, ["search", str(folder), "光伏", "--mode", "bm25"], terminal_width=250)
    assert r.exit_code == 0, r.output
    assert name.rsplit("/", 1)[-1] in r.output  # citation labels show the file's own name


def test_model_output_with_brackets_does_not_break_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from sourcebook.llm.scripted import ScriptedServer

    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "notes.md").write_text("# 光伏\n\n" + GOOD, encoding="utf-8")
    monkeypatch.setenv("SOURCEBOOK_SEARCH__DENSE", "false")
    turns = [{"tool_calls": [{"server": "tool-rag", "name": "rag_search", "arguments": {"query": "[/INST] 光伏 [b]"}}]},
             {"text": "光伏总结 [/INST] [notes.md]"}]
    with ScriptedServer(turns) as srv:
        res = runner.invoke(app, ["run", str(folder), "总结光伏", "--model", "scripted", "--base-url",
                                  srv.openai_base_url, "--runs-dir", str(tmp_path / "runs"), "--no-report"])
    assert res.exit_code == 0, res.output
    assert "[/INST]" in res.output  # the tool call is shown verbatim
