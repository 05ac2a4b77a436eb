"""Parallel ingests of one folder wait for each other and leave one consistent store."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from sourcebook.config import get_settings


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(40):
        body = "\n\n".join(f"Paragraph {j} of file {i} talks about solar roofs and batteries." for j in range(60))
        (folder / f"doc{i:02d}.md").write_text(f"# Doc {i}\n\n{body}\n", encoding="utf-8")
    return folder


def test_four_parallel_ingests_all_succeed(tmp_path: Path):
    folder = _folder(tmp_path)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    procs = [subprocess.Popen([sys.executable, "-m", "sourcebook", "ingest", str(folder), "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(4)]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (_out, errs) in zip(procs, outs, strict=True):
        assert p.returncode == 0, errs[-2000:]
        assert "database is locked" not in errs
    tables = [json.loads(out) for out, _ in outs]
    for t in tables:
        assert len(t["sources"]) == 40 and all(s["status"] == "ok" for s in t["sources"])
    # exactly one process did the work; the others found it done
    assert sorted(len(t["changed"]) for t in tables) == [0, 0, 0, 40]
    store = get_settings().store_dir(folder) / "store.sqlite"
    with sqlite3.connect(store) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        n_sources = conn.execute("SELECT count(*) FROM sources").fetchone()[0]
        per_source = conn.execute("SELECT sum(passages) FROM sources").fetchone()[0]
        n_passages = conn.execute("SELECT count(*) FROM passages").fetchone()[0]
        untokenized = conn.execute("SELECT count(*) FROM passages WHERE tokens IS NULL").fetchone()[0]
    assert n_sources == 40 and n_passages == per_source > 0 and untokenized == 0
