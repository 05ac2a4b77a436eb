"""Bad input, timed: a 10 MB one-line file, four parallel ingests, a report over junk, an unreachable model.

Every case runs the real command line in a subprocess with a fresh cache directory and prints one line:

- ``one-line``: ``sourcebook ingest`` of a folder holding one 10 MB text file without a line break
  (target < 10 s), plus ``chunk_text`` alone on 600,000 CJK characters in one line;
- ``parallel``: four ``sourcebook ingest`` of one 40-file folder at once (all must exit 0, one store,
  exactly one of them does the work);
- ``junk report``: ``sourcebook report --extractive`` over NUL, control-byte and random files with a
  ``.txt`` extension next to one real note (target < 60 s, a clear status per file);
- ``unreachable``: ``sourcebook run`` against a closed loopback port (target: non-zero exit < 15 s).

    python benchmarks/bench_bad_input.py [--only one-line,parallel,junk,unreachable]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SB = [sys.executable, "-m", "sourcebook"]


def _env(cache: Path) -> dict[str, str]:
    return {**os.environ, "SOURCEBOOK_CACHE_DIR": str(cache), "PYTHONWARNINGS": "ignore"}


def bench_one_line(root: Path) -> None:
    from sourcebook.ingest.chunking import chunk_text

    t0 = time.perf_counter()
    n = len(list(chunk_text("字" * 600_000)))
    print(f"one-line  chunk_text('字' * 600,000): {n} chunks in {time.perf_counter() - t0:.2f} s")
    folder = root / "oneline"
    folder.mkdir()
    line = "Solar roofs pay back in about eight years while batteries shorten the wait " * 140_000
    (folder / "big.txt").write_text(line[:10_000_000], encoding="utf-8")
    t0 = time.perf_counter()
    proc = subprocess.run([*SB, "ingest", str(folder), "--json"], env=_env(root / "c1"), capture_output=True,
                          text=True)
    dt = time.perf_counter() - t0
    src = json.loads(proc.stdout)["sources"][0] if proc.returncode == 0 else {}
    print(f"one-line  ingest of a 10 MB one-line file: {dt:.1f} s (target < 10 s), exit {proc.returncode}, "
          f"status {src.get('status')}, {src.get('passages')} passages")


def bench_parallel(root: Path) -> None:
    folder = root / "many"
    folder.mkdir()
    for i in range(40):
        body = "\n\n".join(f"Paragraph {j} of file {i} is about roofs, batteries and tariffs." for j in range(60))
        (folder / f"doc{i:02d}.md").write_text(f"# Doc {i}\n\n{body}\n", encoding="utf-8")
    env = _env(root / "c2")
    t0 = time.perf_counter()
    procs = [subprocess.Popen([*SB, "ingest", str(folder), "--json"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outs = [p.communicate() for p in procs]
    dt = time.perf_counter() - t0
    codes = [p.returncode for p in procs]
    changed = sorted(len(json.loads(o)["changed"]) if p.returncode == 0 else -1
                     for p, (o, _) in zip(procs, outs, strict=True))
    store = next((root / "c2" / "stores").glob("*/store.sqlite"))
    with sqlite3.connect(store) as conn:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        n = conn.execute("SELECT count(*) FROM sources").fetchone()[0]
        p_sum = conn.execute("SELECT sum(passages) FROM sources").fetchone()[0]
        p_rows = conn.execute("SELECT count(*) FROM passages").fetchone()[0]
    print(f"parallel  4 ingests of one folder: {dt:.1f} s, exit codes {codes}, files changed per process "
          f"{changed}, store {check}: {n} sources, {p_rows} passages (sum per source {p_sum})")


def bench_junk(root: Path) -> None:
    folder = root / "junk"
    folder.mkdir()
    (folder / "note.md").write_text("# 储能\n\n" + "社区储能提高了自用比例，并降低了峰值负荷。" * 20, encoding="utf-8")
    (folder / "nul.txt").write_bytes(b"\0" * 50_000_000)
    (folder / "ctrl.txt").write_bytes(b"ab\x01\x02\x03cd\x0b\x0c" * 500_000)
    (folder / "random.txt").write_bytes(os.urandom(5_000_000))
    (folder / "nul.md").write_bytes(b"# t\n\n" + b"\0" * 5_000_000)
    out = root / "junk-run"
    t0 = time.perf_counter()
    proc = subprocess.run([*SB, "report", str(folder), "写一篇关于社区储能的短报告，约300字", "--extractive", "--quiet",
                           "-o", str(out)], env=_env(root / "c3"), capture_output=True, text=True)
    dt = time.perf_counter() - t0
    verdict = json.loads((out / "compliance.json").read_text(encoding="utf-8"))["verdict"] \
        if (out / "compliance.json").exists() else "none"
    ing = subprocess.run([*SB, "ingest", str(folder), "--json"], env=_env(root / "c3"), capture_output=True,
                         text=True)
    status = {s["path"]: s["status"] for s in json.loads(ing.stdout)["sources"]}
    print(f"junk      report over NUL/binary files: {dt:.1f} s (target < 60 s), exit {proc.returncode}, "
          f"verdict {verdict}, docx {'yes' if (out / 'report.docx').exists() else 'no'}, statuses {status}")


def bench_unreachable(root: Path) -> None:
    folder = root / "small"
    folder.mkdir()
    (folder / "a.md").write_text("# 储能\n\n社区储能提高了自用比例。\n", encoding="utf-8")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.perf_counter()
    proc = subprocess.run([*SB, "run", str(folder), "写一篇短报告", "--model", "x", "--base-url",
                           f"http://127.0.0.1:{port}/v1", "--runs-dir", str(root / "runs")],
                          env=_env(root / "c4"), capture_output=True, text=True)
    dt = time.perf_counter() - t0
    last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
    print(f"unreach.  run against closed port {port}: exit {proc.returncode} in {dt:.1f} s (target < 15 s): {last}")


CASES = {"one-line": bench_one_line, "parallel": bench_parallel, "junk": bench_junk,
         "unreachable": bench_unreachable}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=",".join(CASES), help="comma-separated cases")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sb-bad-input-") as tmp:
        for name in args.only.split(","):
            root = Path(tmp) / name
            root.mkdir()
            CASES[name.strip()](root)


if __name__ == "__main__":
    main()
