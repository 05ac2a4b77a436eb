"""The scorecard of a results directory: one row per task and totals, as ``scorecard.json`` and
``scorecard.md``; and the differences between two scorecards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sourcebook.bench.metrics import UNMEASURED, VERDICTS, ratio, score_run

RUNS = "runs"


def run_dirs(results: Path) -> list[Path]:
    """The task run directories of a results directory (staging directories excluded), by name."""
    root = Path(results) / RUNS
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _sum_ratio(rows: list[dict[str, Any]], key: str) -> str | None:
    parts = [ratio(r.get(key, {}).get("measured")) for r in rows if isinstance(r.get(key), dict)]
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    return f"{sum(a for a, _ in parts)}/{sum(b for _, b in parts)}"


def _count(rows: list[dict[str, Any]], get) -> dict[str, int]:
    vals = [get(r) for r in rows]
    return {"passed": sum(v is True for v in vals), "failed": sum(v is False for v in vals),
            "unmeasured": sum(v is None for v in vals)}


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Suite totals over task rows (counts of pass/fail, sums of claims, tokens, time; means of scores)."""
    scored = [r for r in rows if r.get("checks")]
    lscores = [r["length"]["score"] for r in scored if r.get("length", {}).get("score") is not None]
    claims_rows = [r["claims"] for r in scored if isinstance(r.get("claims"), dict)]
    off = [r["off_topic_share"] for r in scored if isinstance(r.get("off_topic_share"), int | float)]
    qa = [r["qa"] for r in rows if r.get("qa")]
    costs = [r.get("cost_usd") for r in rows]
    return {
        "tasks": len(rows),
        "ok": sum(r.get("status") == "ok" for r in rows),
        "errors": sum(r.get("status") not in ("ok",) for r in rows),
        "verdicts": {v: sum(r.get("verdict") == v for r in rows) for v in ("pass", "fail", "unmeasured")},
        "length_in_range": _count(scored, lambda r: r["length"]["in_range"]),
        "length_score_mean": round(sum(lscores) / len(lscores), 2) if lscores else None,
        "sections_present": _count(scored, lambda r: r["sections"]["passed"]),
        "format": _count(scored, lambda r: r["format"]["passed"]),
        "claims": ({k: sum(c[k] for c in claims_rows) for k in VERDICTS} if claims_rows else UNMEASURED),
        "citations_resolvable": _sum_ratio(scored, "citations_resolvable"),
        "off_topic_share_mean": round(sum(off) / len(off), 4) if off else UNMEASURED,
        "inputs_used": _sum_ratio(scored, "inputs_used"),
        "near_empty": sum(r.get("near_empty") is True for r in scored),
        "turns": sum(int(r.get("turns") or 0) for r in rows),
        "wall_s": round(sum(float(r.get("wall_s") or 0) for r in rows), 3),
        "tokens": {k: sum(int(r.get("tokens", {}).get(k, 0)) for r in rows) for k in ("prompt", "completion", "total")},
        "cost_usd": (round(sum(c for c in costs if c is not None), 6) if any(c is not None for c in costs) else None),
        "tool_errors": sum(int(r.get("tool_errors") or 0) for r in rows),
        "qa": ({"tasks": len(qa), "exact_match": sum(q["match"] for q in qa),
                "accuracy": round(sum(q["match"] for q in qa) / len(qa), 4)} if qa else None),
    }


def build_scorecard(results: Path, order: list[str] | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Score every run directory of ``results`` (in ``order`` of task ids when given)."""
    rows = [score_run(p) for p in run_dirs(results)]
    if order:
        pos = {t: i for i, t in enumerate(order)}
        rows.sort(key=lambda r: (pos.get(r["task"], len(pos)), r["task"]))
    manifest_path = Path(results) / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
    return {"identity": manifest.get("identity"), **(extra or {}), "totals": totals(rows), "tasks": rows}


def _flag(v: Any) -> str:
    return {True: "✓", False: "✗", None: "—"}.get(v, str(v)) if isinstance(v, bool) or v is None else str(v)


def _v(value: Any) -> str:
    return "—" if value is None else str(value)


def _claims_text(c: Any) -> str:
    return "/".join(str(c[k]) for k in VERDICTS) if isinstance(c, dict) else "unmeasured"


def render_markdown(card: dict[str, Any]) -> str:
    """``scorecard.md``: identity, totals, and one table row per task."""
    ident = card.get("identity") or {}
    who = "extractive (no LLM)" if ident.get("extractive", not ident.get("model")) else f"model `{ident.get('model')}`"
    t = card["totals"]
    lines = [f"# Scorecard — {who}", ""]
    if card.get("suite_wall_s") is not None:
        lines += [f"Suite wall time: {card['suite_wall_s']} s ({card.get('executor', '')}, "
                  f"{card.get('workers', '')} workers)", ""]
    lir = t["length_in_range"]
    lines += [
        "| total | value |", "|---|---|",
        f"| tasks (ok / errors) | {t['tasks']} ({t['ok']} / {t['errors']}) |",
        f"| verdict pass / fail | {t['verdicts']['pass']} / {t['verdicts']['fail']} |",
        f"| length in range | {lir['passed']} of {lir['passed'] + lir['failed']} |",
        f"| length score (LongBench-Write, mean) | {t['length_score_mean']} |",
        f"| sections present | {t['sections_present']['passed']} |",
        f"| format ok | {t['format']['passed']} |",
        f"| claims quoted/supported/contradicted/unsupported | {_claims_text(t['claims'])} |",
        f"| citations resolvable | {t['citations_resolvable']} |",
        f"| off-topic share (mean) | {t['off_topic_share_mean']} |",
        f"| inputs used | {t['inputs_used']} |",
        f"| near-empty reports | {t['near_empty']} |",
        f"| turns | {t['turns']} |",
        f"| task wall time (sum, s) | {t['wall_s']} |",
        f"| tokens (prompt + completion) | {t['tokens']['prompt']} + {t['tokens']['completion']} = {t['tokens']['total']} |",
        f"| cost (USD) | {t['cost_usd'] if t['cost_usd'] is not None else 'unpriced'} |",
        f"| tool errors | {t['tool_errors']} |",
    ]
    if t.get("qa"):
        lines.append(f"| QA exact match | {t['qa']['exact_match']}/{t['qa']['tasks']} |")
    lines += ["", "| task | status | verdict | length | in range | S_l | sections | format | claims q/s/c/u | "
              "cites resolvable | inputs | near-empty | turns | wall s | tokens | tool err | QA |",
              "|" + "---|" * 17]
    for r in card["tasks"]:
        if not r.get("checks"):
            lines.append(f"| {r['task']} | {r['status']} | — | | | | | | | | | | {r.get('turns', 0)} | "
                         f"{r.get('wall_s')} | {r.get('tokens', {}).get('total', 0)} | {r.get('tool_errors', 0)} | "
                         f"{(r.get('error') or '')[:80]} |")
            continue
        ln = r["length"]
        rng = f"{ln['min']}–{ln['max']}" if ln["min"] or ln["max"] else ""
        qa = r.get("qa")
        qa_text = ("✓" if qa["match"] else f"✗ ({qa['got']!s:.20})") if qa else ""
        lines.append(
            f"| {r['task']} | {r['status']} | {r['verdict']} | {ln['measured']} ({rng}) | {_flag(ln['in_range'])} | "
            f"{ln['score']} | {r['sections']['present']} | {_flag(r['format']['passed'])} | "
            f"{_claims_text(r['claims'])} | {r['citations_resolvable']['measured'] or '—'} | "
            f"{r['inputs_used']['measured'] or '—'} | {_flag(r['near_empty'])} | {r['turns']} | {r['wall_s']} | "
            f"{r['tokens']['total']} | {r['tool_errors']} | {qa_text} |")
    return "\n".join(lines) + "\n"


def write_scorecard(results: Path, card: dict[str, Any], stem: str = "scorecard") -> tuple[Path, Path]:
    """Write ``<stem>.json`` and ``<stem>.md`` into ``results``."""
    results = Path(results)
    pj, pm = results / f"{stem}.json", results / f"{stem}.md"
    pj.write_text(json.dumps(card, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    pm.write_text(render_markdown(card), encoding="utf-8")
    return pj, pm


# ------------------------------------------------------------------------------------------------ compare

_TASK_FIELDS = (
    ("status", lambda r: r.get("status")),
    ("verdict", lambda r: r.get("verdict")),
    ("length", lambda r: r.get("length", {}).get("measured")),
    ("length in range", lambda r: r.get("length", {}).get("in_range")),
    ("length score", lambda r: r.get("length", {}).get("score")),
    ("sections", lambda r: r.get("sections", {}).get("present")),
    ("format", lambda r: r.get("format", {}).get("passed")),
    ("claims", lambda r: _claims_text(r.get("claims")) if r.get("checks") else None),
    ("citations resolvable", lambda r: r.get("citations_resolvable", {}).get("measured")),
    ("off-topic share", lambda r: r.get("off_topic_share")),
    ("inputs used", lambda r: r.get("inputs_used", {}).get("measured")),
    ("near-empty", lambda r: r.get("near_empty")),
    ("turns", lambda r: r.get("turns")),
    ("tokens", lambda r: r.get("tokens", {}).get("total")),
    ("tool errors", lambda r: r.get("tool_errors")),
    ("QA match", lambda r: (r.get("qa") or {}).get("match")),
)


def load_scorecard(path: Path) -> dict[str, Any]:
    """A scorecard from a results directory or a ``scorecard.json`` path. Raises ``ValueError`` naming the
    file and the reason."""
    p = Path(path)
    if p.is_dir():
        p = p / "scorecard.json"
    try:
        card = json.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise ValueError(f"{p}: cannot read the scorecard ({e.strerror or e})") from e
    except ValueError as e:
        raise ValueError(f"{p}: not a JSON scorecard ({e})") from e
    if not isinstance(card, dict) or "tasks" not in card or "totals" not in card:
        raise ValueError(f"{p}: not a scorecard (no 'tasks' and 'totals')")
    return card


def _flat_totals(t: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for k, v in t.items():
        if isinstance(v, dict):
            for k2, v2 in v.items():
                flat[f"{k}.{k2}"] = v2
        else:
            flat[k] = v
    return flat


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Differences between two scorecards: identity, totals and per-task fields (only what differs)."""
    ia, ib = a.get("identity") or {}, b.get("identity") or {}
    identity = {k: (ia.get(k), ib.get(k)) for k in sorted(set(ia) | set(ib)) if ia.get(k) != ib.get(k)}
    fa, fb = _flat_totals(a["totals"]), _flat_totals(b["totals"])
    tot = {k: (fa.get(k), fb.get(k)) for k in [*fa, *[k for k in fb if k not in fa]]
           if fa.get(k) != fb.get(k) and k != "wall_s"}
    ra, rb = {r["task"]: r for r in a["tasks"]}, {r["task"]: r for r in b["tasks"]}
    tasks: dict[str, dict[str, tuple[Any, Any]]] = {}
    for task in [*ra, *[t for t in rb if t not in ra]]:
        if task not in ra or task not in rb:
            tasks[task] = {"present": (task in ra, task in rb)}
            continue
        diff = {name: (get(ra[task]), get(rb[task])) for name, get in _TASK_FIELDS
                if get(ra[task]) != get(rb[task])}
        if diff:
            tasks[task] = diff
    return {"identity": identity, "totals": tot, "tasks": tasks}
