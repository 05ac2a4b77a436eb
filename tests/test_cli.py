"""The command line: ingest table, inspect summary, search output, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from sourcebook.cli import app

from .test_store import make_folder

runner = CliRunner()


def test_ingest_inspect_search(tmp_path: Path):
    folder = make_folder(tmp_path)
    r = runner.invoke(app, ["ingest", str(folder)])
    assert r.exit_code == 0, r.output
    assert "long_context.json" in r.output and "corpus" in r.output
    r = runner.invoke(app, ["ingest", str(folder), "--json"])
    data = json.loads(r.stdout)
    assert {s["path"] for s in data["sources"]} == {"notes.md", "bees.txt", "long_context.json"}
    assert data["changed"] == []
    r = runner.invoke(app, ["inspect", str(folder)])
    assert r.exit_code == 0 and "Files:" in r.output and "corpus" in r.output
    r = runner.invoke(app, ["search", str(folder), "龙井茶", "-k", "2", "--mode", "bm25", "--json"])
    hits = json.loads(r.stdout)
    assert len(hits) == 2 and all(h["locator"] and h["passage_id"] for h in hits)
    r = runner.invoke(app, ["search", str(folder), "龙井茶", "--kind", "text", "--mode", "bm25", "--json"])
    assert all(h["kind"] == "text" for h in json.loads(r.stdout))
    r = runner.invoke(app, ["search", str(folder), "bees", "--mode", "bogus"])
    assert r.exit_code != 0


def test_missing_folder_exit_code(tmp_path: Path):
    proc = subprocess.run([sys.executable, "-m", "sourcebook", "search", str(tmp_path / "nope"), "q"],
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "no such folder" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_unreadable_store_exit_code(tmp_path: Path, _isolated_cache: Path):
    folder = make_folder(tmp_path)
    from sourcebook.config import get_settings

    store_dir = get_settings().store_dir(folder)
    store_dir.mkdir(parents=True)
    (store_dir / "store.sqlite").write_bytes(b"this is not a database" * 100)
    r = runner.invoke(app, ["ingest", str(folder)])
    assert r.exit_code != 0
    assert "unreadable store" in r.output
