"""Re-scoring stored reports with the same checks: a bench results directory, or any tree of report files
from another system (e.g. ``<task>/final_report.md``) with the tasks' queries and folders.

Citations are resolved against the evidence store of the task's folder: ``[@id]`` markers must name a
passage; numbered references and ``[file, locator]`` labels must name a file of the folder (a bare URL names
nothing in the folder and counts as unresolvable)."""

from __future__ import annotations

import inspect
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sourcebook.bench import BenchError
from sourcebook.bench.metrics import qa_score, score_compliance
from sourcebook.bench.scorecard import RUNS, totals
from sourcebook.bench.worker import read_record

REPORT_NAMES = ("final_report.md", "report.md", "report.html", "report.docx")


@dataclass
class StoredReport:
    """A report file to score, with the task it answers."""

    task: str
    path: Path
    query: str
    folder: Path | None
    answer: str | None = None


def _queries(path: Path | None) -> dict[str, dict[str, Any]]:
    if path is None:
        return {}
    out: dict[str, dict[str, Any]] = {}
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except OSError as e:
        raise BenchError(f"{path}: cannot read the query file ({e.strerror or e})") from e
    for n, line in enumerate(lines, 1):
        if line.strip():
            try:
                row = json.loads(line)
            except ValueError as e:
                raise BenchError(f"{path}:{n}: not a JSON line") from e
            out[str(row.get("task", row.get("id")))] = row
    return out


def find_reports(root: Path, queries: Path | None = None, folder_root: Path | None = None,
                 names: tuple[str, ...] = REPORT_NAMES) -> list[StoredReport]:
    """The reports under ``root``: run directories of a results directory, else files named like ``names``
    whose nearest enclosing directory named after a task of ``queries`` gives the task."""
    root = Path(root)
    if not root.is_dir():
        raise BenchError(f"{root}: no such directory")
    rows = _queries(queries)
    found: list[StoredReport] = []
    if (root / RUNS).is_dir():
        for rd in sorted(p for p in (root / RUNS).iterdir() if p.is_dir() and not p.name.startswith(".")):
            req = json.loads((rd / "request.json").read_text(encoding="utf-8")) if (rd / "request.json").exists() else {}
            rec = read_record(rd) or {}
            task = str((req.get("task") or {}).get("task") or rd.name)
            report = rd / rec["report"] if rec.get("report") else next(
                (rd / n for n in names if (rd / n).is_file()), None)
            if report is None or not report.is_file():
                continue
            folder = (folder_root / task) if folder_root else (Path(req["folder"]) if req.get("folder") else None)
            found.append(StoredReport(task, report, req.get("request") or rows.get(task, {}).get("query", ""),
                                      folder, (req.get("task") or {}).get("answer") or rows.get(task, {}).get("answer")))
        return found
    if not rows:
        raise BenchError(f"{root}: not a bench results directory; pass --queries (query.jsonl) to score its reports")
    seen: set[Path] = set()
    for name in names:
        for path in sorted(root.rglob(name)):
            task = next((p.name for p in path.parents if p.name in rows), None)
            if task is None or path.parent in seen:
                continue
            seen.add(path.parent)
            row = rows[task]
            found.append(StoredReport(task, path, str(row.get("query", "")),
                                      (folder_root / task) if folder_root else None, row.get("answer")))
    found.sort(key=lambda r: (r.task, str(r.path)))
    return found


_NUMBERED_REF = re.compile(r"^\s*(?:[-*+]\s*)?(?:\\?\[\^?(\d{1,4})\\?\]:?|(\d{1,4})[.、)）]|【(\d{1,4})】)\s*(.*)$")
_URL = re.compile(r"https?://\S+|www\.\S+")


def _names(store: Any) -> dict[str, str]:
    """Lower-cased names a reference may use for a source (path, file name, stem) → source path."""
    out: dict[str, str] = {}
    for s in store.sources():
        p = Path(s.path)
        for key in (s.path, p.name, p.stem):
            if len(key) >= 3:
                out.setdefault(key.lower(), s.path)
    return out


def resolve_citations(text: str, fmt: str, store: Any) -> tuple[dict[str, Any], set[str]]:
    """``citations_resolvable`` for a final report against ``store``, and the set of sources it names."""
    from sourcebook.report.checks import _LABEL_CITE, _cited_numbers, parse_report
    from sourcebook.report.types import CITE_MARKER

    parsed = parse_report(text, fmt)
    names = _names(store)
    keys = sorted(names, key=len, reverse=True)

    def source_in(s: str) -> str | None:
        low = s.lower()
        return next((names[k] for k in keys if k in low), None)

    used: set[str] = set()
    ok = bad = external = 0
    for pid in dict.fromkeys(CITE_MARKER.findall(parsed.body)):
        p = store.get_passage(pid)
        ok, bad = (ok + 1, bad) if p is not None else (ok, bad + 1)
        if p is not None:
            used.add(p.source)
    for label in dict.fromkeys(_LABEL_CITE.findall(parsed.body)):
        src = source_in(label)
        ok, bad = (ok + 1, bad) if src else (ok, bad + 1)
        if src:
            used.add(src)
    entries: dict[int, str] = {}
    for line in parsed.references.splitlines()[1:]:
        m = _NUMBERED_REF.match(line)
        if m:
            entries[int(next(g for g in m.groups()[:3] if g))] = m.group(4)
    for n in dict.fromkeys(_cited_numbers(parsed.body)):
        entry = entries.get(n)
        src = source_in(entry) if entry else None
        if src is None and entry:
            marker = CITE_MARKER.search(entry)
            bare = re.search(r"\bp[0-9a-f]{10}\b", entry)
            pid = marker.group(1) if marker else (bare.group(0) if bare else None)
            p = store.get_passage(pid) if pid else None
            src = p.source if p is not None else None
        if src:
            ok += 1
            used.add(src)
        else:
            bad += 1
            external += bool(entry and _URL.search(entry))
    total = ok + bad
    check = {"name": "citations_resolvable", "passed": (bad == 0) if total else None,
             "measured": f"{ok}/{total}" if total else 0, "expected": "all citations name a passage or file of the folder",
             "detail": (f"{bad} unresolvable ({external} web links)" if bad else "") if total else "no citations"}
    return check, used


def _inputs_check(used: set[str], store: Any) -> dict[str, Any]:
    from sourcebook.report.checks import check_inputs_cited
    from sourcebook.report.evidence import usable

    return check_inputs_cited(used, [s.path for s in store.sources() if usable(s)]).to_dict()


def score_report(rep: StoredReport, settings: Any = None) -> dict[str, Any]:
    """Check one stored report (same checks as a run) and score it like a run directory."""
    from sourcebook.report.check_cli import check_file
    from sourcebook.report.checks import read_report

    row: dict[str, Any] = {"task": rep.task, "report": str(rep.path), "status": "ok", "error": None}
    try:
        if not rep.query:
            raise BenchError(f"{rep.path}: no query for task {rep.task}")
        kwargs: dict[str, Any] = {}
        params = inspect.signature(check_file).parameters
        if rep.folder is not None and "folder" in params:
            kwargs["folder"] = rep.folder
            if "settings" in params:
                kwargs["settings"] = settings
        comp = check_file(rep.path, rep.query, **kwargs)
        names = {c["name"] for c in comp["checks"]}
        if rep.folder is not None and "citations_resolvable" not in names:
            if not rep.folder.is_dir():
                raise BenchError(f"{rep.folder}: no folder for task {rep.task}")
            from sourcebook.ingest.folder import ingest_folder

            store = ingest_folder(rep.folder, settings).store
            text, fmt = read_report(rep.path)
            resolvable, used = resolve_citations(text, fmt, store)
            comp["checks"] += [resolvable, _inputs_check(used, store)]
        row.update(score_compliance(comp, comp.get("requirements") or {}))
        row["compliance"] = comp
        if rep.answer is not None:
            row["qa"] = qa_score(str(rep.answer), [read_report(rep.path)[0]])
    except (BenchError, ValueError, OSError) as e:
        row.update(status="error", error=str(e), checks={})
    return row


def rescore(root: Path, queries: Path | None = None, folder_root: Path | None = None, settings: Any = None,
            names: tuple[str, ...] = REPORT_NAMES) -> dict[str, Any]:
    """Score every stored report under ``root`` → a scorecard (``totals`` and ``tasks``)."""
    reports = find_reports(root, queries, folder_root, names)
    if not reports:
        raise BenchError(f"{root}: no reports found (looked for {', '.join(names)})")
    rows = [score_report(r, settings) for r in reports]
    for r in rows:
        r.setdefault("tokens", {"prompt": 0, "completion": 0, "total": 0})
        for key in ("turns", "wall_s", "tool_errors", "cost_usd"):
            r.setdefault(key, None)
    return {"identity": None, "source": str(root), "totals": totals(rows), "tasks": rows}
