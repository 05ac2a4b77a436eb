"""Scoring one run directory: every number is read from the files the run wrote (``compliance.json``,
``revisions.json``, ``trace.jsonl``, ``bench.json``, ``run.json`` when present) — nothing is re-measured, so the
scorecard equals what the run itself recorded."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sourcebook.bench.qa import exact_match, last_boxed
from sourcebook.bench.worker import read_record

UNMEASURED = "unmeasured"
VERDICTS = ("quoted", "supported", "contradicted", "unsupported")


def length_score(required: float, produced: float) -> float:
    """LongBench-Write's length score S_l (0–100) of ``produced`` units against ``required`` units:
    ``100·(1 − (y/x − 1)/3)`` when longer, ``100·(1 − (x/y − 1)/2)`` when shorter, floored at 0."""
    x, y = float(required), float(produced)
    if x <= 0:
        raise ValueError("the required length must be positive")
    if y <= 0:
        return 0.0
    if y > x:
        return 100.0 * max(0.0, 1.0 - (y / x - 1.0) / 3.0)
    return 100.0 * max(0.0, 1.0 - (x / y - 1.0) / 2.0)


def range_length_score(lo: int | None, hi: int | None, produced: int) -> float | None:
    """S_l for a range: 100 inside it, else scored against the nearer bound; None without a requirement."""
    if lo is None and hi is None:
        return None
    if lo is not None and produced < lo:
        return round(length_score(lo, produced), 2)
    if hi is not None and produced > hi:
        return round(length_score(hi, produced), 2)
    return 100.0


def ratio(measured: Any) -> tuple[int, int] | None:
    """``"7/9"`` → ``(7, 9)``; anything else → None."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(measured)) if measured is not None else None
    return (int(m.group(1)), int(m.group(2))) if m else None


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _trace_stats(path: Path) -> dict[str, int]:
    turns = tool_calls = tool_errors = llm_errors = 0
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    for line in lines:
        try:
            e = json.loads(line)
        except ValueError:
            continue
        kind = e.get("type")
        if kind == "turn":
            turns += 1
        elif kind == "tool":
            tool_calls += 1
            tool_errors += bool(e.get("error"))
        elif kind == "llm_error":
            llm_errors += 1
    return {"turns": turns, "tool_calls": tool_calls, "tool_errors": tool_errors, "llm_errors": llm_errors}


def _claims(comp: dict[str, Any]) -> dict[str, int] | str:
    """Claims per verdict: ``claims`` (a run's compliance) or ``claim_counts`` (``sourcebook check``)."""
    for key in ("claims", "claim_counts"):
        claims = comp.get(key)
        if isinstance(claims, dict) and any(k in claims for k in VERDICTS):
            return {k: int(claims.get(k, 0) or 0) for k in VERDICTS}
    return UNMEASURED


def _off_topic(comp: dict[str, Any]) -> float | str:
    """Off-topic share: 1 − the mean on-topic share of the sections (``section_relevance``: title → share)."""
    rel = comp.get("section_relevance")
    if isinstance(rel, dict) and rel and all(isinstance(v, int | float) for v in rel.values()):
        return round(1.0 - sum(rel.values()) / len(rel), 4)
    if isinstance(rel, dict):
        if isinstance(rel.get("off_topic_share"), int | float):
            return float(rel["off_topic_share"])
        rows = rel.get("sections") if isinstance(rel.get("sections"), list) else None
        if rows:
            off = [r for r in rows if isinstance(r, dict) and (r.get("off_topic") or r.get("on_topic") is False)]
            return round(len(off) / len(rows), 4)
    if isinstance(rel, list) and rel:
        off = [r for r in rel if isinstance(r, dict) and (r.get("off_topic") or r.get("on_topic") is False)]
        return round(len(off) / len(rel), 4)
    return UNMEASURED


def check_map(comp: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{check name: {"passed", "measured", "expected"}}`` from a compliance document."""
    return {c["name"]: {"passed": c.get("passed"), "measured": c.get("measured"), "expected": c.get("expected")}
            for c in comp.get("checks", []) if isinstance(c, dict) and "name" in c}


def requirements_of(run_dir: Path, request: str | None) -> dict[str, Any]:
    """The parsed requirements the run was checked against (``revisions.json``), else parsed from ``request``."""
    rev = _json(Path(run_dir) / "revisions.json")
    if isinstance(rev, dict) and isinstance(rev.get("requirements"), dict):
        return rev["requirements"]
    if request:
        from sourcebook.report.requirements import parse_request

        return parse_request(request).to_dict()
    return {}


def score_compliance(comp: dict[str, Any], req: dict[str, Any]) -> dict[str, Any]:
    """The report-quality part of a task's score from a compliance document and its requirements."""
    checks = check_map(comp)

    def get(name: str) -> dict[str, Any]:
        return checks.get(name, {"passed": None, "measured": None, "expected": None})

    length = get("length")
    produced = length["measured"] if isinstance(length["measured"], int) else None
    lo, hi = req.get("min_units"), req.get("max_units")
    not_empty = get("not_empty")
    return {
        "verdict": comp.get("verdict"),
        "checks": checks,
        "length": {"measured": produced, "min": lo, "max": hi, "unit": req.get("unit"),
                   "in_range": length["passed"],
                   "score": range_length_score(lo, hi, produced) if produced is not None else None},
        "sections": {"present": get("sections_present")["measured"], "passed": get("sections_present")["passed"],
                     "order": get("sections_order")["passed"], "nonempty": get("sections_nonempty")["passed"]},
        "format": {"passed": get("format")["passed"], "measured": get("format")["measured"]},
        "claims": _claims(comp),
        "citations_resolvable": {"passed": get("citations_resolvable")["passed"],
                                 "measured": get("citations_resolvable")["measured"]},
        "off_topic_share": _off_topic(comp),
        "inputs_used": {"passed": get("inputs_cited")["passed"], "measured": get("inputs_cited")["measured"]},
        "near_empty": None if not_empty["passed"] is None else not not_empty["passed"],
    }


def _report_text(run_dir: Path, record: dict[str, Any] | None) -> str:
    names = [record.get("report")] if record and record.get("report") else []
    for name in [*names, "report.md", "final_report.md"]:
        p = Path(run_dir) / name
        if p.is_file() and p.suffix in (".md", ".txt", ".html"):
            return p.read_text(encoding="utf-8", errors="replace")
    return ""


def qa_score(answer: str, texts: list[str]) -> dict[str, Any]:
    r"""Exact match of the first text (in order given) that has a ``\boxed{}`` against ``answer``."""
    got = next((b for b in (last_boxed(t) for t in texts) if b is not None), None)
    return {"expected": answer, "got": got, "match": exact_match(got, answer)}


def score_run(run_dir: Path) -> dict[str, Any]:
    """Everything the scorecard says about one task, from its run directory."""
    run_dir = Path(run_dir)
    record = read_record(run_dir) or {}
    request = _json(run_dir / "request.json") or {}
    task = request.get("task") if isinstance(request.get("task"), dict) else {}
    out: dict[str, Any] = {"task": record.get("task") or task.get("task") or run_dir.name,
                           "run_dir": run_dir.name, "status": record.get("status", "incomplete"),
                           "error": record.get("error")}
    comp = _json(run_dir / "compliance.json")
    if isinstance(comp, dict):
        out.update(score_compliance(comp, requirements_of(run_dir, request.get("request"))))
    else:
        out.update({"verdict": None, "checks": {}})
    trace = _trace_stats(run_dir / "trace.jsonl")
    run_json = _json(run_dir / "run.json")
    run_json = run_json if isinstance(run_json, dict) else {}
    # bench.json holds the client's totals (agent and report writer); run.json (when the run wrote one)
    # counts {prompt, completion, total}
    usage = record.get("usage") or {}
    prompt, completion = int(usage.get("prompt_tokens", 0) or 0), int(usage.get("completion_tokens", 0) or 0)
    if not usage and isinstance(run_json.get("tokens"), dict):
        prompt = int(run_json["tokens"].get("prompt", 0) or 0)
        completion = int(run_json["tokens"].get("completion", 0) or 0)
    tools = run_json.get("tools") if isinstance(run_json.get("tools"), dict) else None
    tool_errors = (sum(int(t.get("errors", 0) or 0) for t in tools.values() if isinstance(t, dict))
                   if tools else trace["tool_errors"])
    out.update({
        "turns": record.get("turns", run_json.get("turns", trace["turns"])),
        "tool_calls": record.get("tool_calls", run_json.get("tool_calls", trace["tool_calls"])),
        "tool_errors": tool_errors,
        "llm_errors": run_json.get("llm_errors", trace["llm_errors"]),
        "wall_s": record.get("wall_s", run_json.get("duration_s")),
        "tokens": {"prompt": prompt, "completion": completion, "total": prompt + completion},
        "cost_usd": record.get("cost_usd", run_json.get("cost_usd")),
    })
    answer = task.get("answer") if task else None
    if answer is not None:
        answer_md = run_dir / "answer.md"
        texts = [answer_md.read_text(encoding="utf-8", errors="replace")] if answer_md.is_file() else []
        out["qa"] = qa_score(str(answer), [*texts, _report_text(run_dir, record)])
    return out
