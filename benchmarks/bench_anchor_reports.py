"""No-LLM reports on the 10 anchor tasks: per task, the compliance table's claims, section relevance and
length (with whether a shortfall is explained in the report).

Each task folder is the task's own files plus ``long_context_sampled_60.json`` as its article corpus, copied
into a temporary folder (the shared fixtures are read in place, never modified). Stops with a clear message
when ``../shared/fixtures`` is absent.

Usage: ``python benchmarks/bench_anchor_reports.py [--tasks 001,005] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ANCHORS = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "anchor-tasks"
CORPUS = "long_context_sampled_60.json"


def task_folder(task: str, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for p in sorted((ANCHORS / task).iterdir()):
        if p.name.startswith("long_context") and p.name != CORPUS:
            continue
        shutil.copy(p, dest / p.name)
    return dest


def run_task(task: str, query: str, work: Path) -> dict:
    from sourcebook.config import get_settings
    from sourcebook.ingest.folder import ingest_folder
    from sourcebook.report.pipeline import build_report

    settings = get_settings(cache_dir=work / "cache")
    folder = task_folder(task, work / task)
    t0 = time.perf_counter()
    ingest = ingest_folder(folder, settings)
    res = build_report(ingest.store, query, settings, work / "run" / task)
    comp = json.loads((res.run_dir / "compliance.json").read_text(encoding="utf-8"))
    checks = {c["name"]: c for c in comp["checks"]}
    text = res.report_path.read_text(encoding="utf-8") if res.report_path and res.report_path.suffix != ".docx" else ""
    length = checks["length"]
    rel = comp.get("section_relevance") or {}
    return {
        "task": task, "seconds": round(time.perf_counter() - t0, 1), "claims": comp.get("claims", {}),
        "relevance_min": min(rel.values()) if rel else None,
        "relevance_mean": round(sum(rel.values()) / len(rel), 3) if rel else None,
        "length": length["measured"], "expected": length["expected"], "length_ok": length["passed"],
        "shortfall_explained": ("少于要求" in text or "fewer than the" in text) if length["passed"] is False else None,
        "not_used": len(comp.get("not_used", [])), "duplicates": len(comp.get("duplicates", [])),
        "failed": [c["name"] for c in comp["checks"] if c["passed"] is False], "report": str(res.report_path),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", default=",".join(f"{i:03d}" for i in range(1, 11)))
    ap.add_argument("--keep", type=Path, default=None, help="write the runs here instead of a temporary dir")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not (ANCHORS / "query.jsonl").exists():
        sys.exit(f"{ANCHORS}: shared fixtures not present; nothing to measure")
    queries = {}
    for line in (ANCHORS / "query.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            queries[row["task"]] = row["query"]
    work = args.keep or Path(tempfile.mkdtemp(prefix="sb-anchor-"))
    rows = [run_task(t, queries[t], work) for t in args.tasks.split(",")]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    print("| task | claims q/s/c/u | relevance min / mean | length (expected) | shortfall explained | not used | "
          "failed checks | s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        c = r["claims"]
        claims = f"{c.get('quoted', 0)}/{c.get('supported', 0)}/{c.get('contradicted', 0)}/{c.get('unsupported', 0)}"
        rel = "—" if r["relevance_min"] is None else f"{r['relevance_min']:.2f} / {r['relevance_mean']:.2f}"
        ok = "ok" if r["length_ok"] else "short" if r["shortfall_explained"] is not None else "FAIL"
        expl = {True: "yes", False: "NO", None: "—"}[r["shortfall_explained"]]
        print(f"| {r['task']} | {claims} | {rel} | {r['length']} ({r['expected']}) {ok} | {expl} | {r['not_used']} | "
              f"{', '.join(r['failed']) or '—'} | {r['seconds']} |")
    print(f"\nruns in {work}")


if __name__ == "__main__":
    main()
