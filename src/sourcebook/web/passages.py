"""A cited passage in context for the web view: the aligned span of a claim, the claim's verdict, and
what each kind of source shows (page, slide, sheet cells, keyframe + transcript, image + OCR text)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

_SPLIT = re.compile(r"[^。！？；.!?;\n]+[。！？；.!?;]?")
_CITE = re.compile(r"\[@?[A-Za-z0-9_\-:.]+\]|\[\d+\]")
MIN_ALIGN = 0.15


def align_span(claim: str, text: str) -> tuple[int, int] | None:
    """Character range of the stretch of ``text`` that best matches ``claim`` (a sentence, or two adjacent
    sentences when that matches better); None when nothing shares enough words with it."""
    from sourcebook.report.terms import lexical_recall

    claim = _CITE.sub("", claim or "").strip()
    if not claim or not text:
        return None
    spans = [(m.start(), m.end()) for m in _SPLIT.finditer(text) if m.group(0).strip()]
    best: tuple[float, int, int] | None = None
    for i, (s, _e) in enumerate(spans):
        for j in (i, i + 1):
            if j >= len(spans):
                continue
            end = spans[j][1]
            score = lexical_recall(claim, text[s:end]) - (0.02 if j > i else 0.0)
            if best is None or score > best[0]:
                best = (score, s, end)
    if best is None or best[0] < MIN_ALIGN:
        return None
    s, e = best[1], best[2]
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def highlighted(text: str, span: tuple[int, int] | None) -> Markup:
    """``text`` escaped, with ``span`` wrapped in ``<mark class="aligned">``."""
    if not span:
        return escape(text)
    s, e = span
    return escape(text[:s]) + Markup('<mark class="aligned">') + escape(text[s:e]) + Markup("</mark>") + \
        escape(text[e:])


def _similar(a: str, b: str) -> float:
    from sourcebook.report.terms import lexical_recall

    a, b = _CITE.sub("", a or ""), _CITE.sub("", b or "")
    return max(lexical_recall(a, b), lexical_recall(b, a)) if a and b else 0.0


def _ids_of(entry: dict[str, Any]) -> set[str]:
    ids: set[str] = set()
    for key in ("passage_id", "passage", "id"):
        if isinstance(entry.get(key), str):
            ids.add(entry[key])
    for key in ("passage_ids", "citations", "cited", "passages"):
        v = entry.get(key)
        if isinstance(v, list):
            ids.update(str(x.get("passage_id") if isinstance(x, dict) else x) for x in v)
    return ids


def claim_verdict(run_dir: Path, passage_id: str, claim: str) -> dict[str, Any] | None:
    """The verdict recorded for ``claim`` citing ``passage_id``: from ``compliance.json``'s ``claims`` when
    present, else the measured support in ``evidence.json``. None when the run records neither."""
    def load(name: str) -> Any:
        try:
            return json.loads((run_dir / name).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None

    comp = load("compliance.json")
    claims = None
    if isinstance(comp, dict):  # the pipeline's list is ``claims_detail``; ``check --json`` writes ``claims``
        claims = comp.get("claims_detail") if isinstance(comp.get("claims_detail"), list) else comp.get("claims")
    if isinstance(claims, list):
        cands = [c for c in claims if isinstance(c, dict) and (passage_id in _ids_of(c) or not _ids_of(c))]
        if cands:
            best = max(cands, key=lambda c: _similar(claim, str(c.get("claim") or c.get("sentence") or c.get("text"))))
            verdict = best.get("verdict") or best.get("label") or best.get("status")
            return {"source": "claims", "verdict": str(verdict) if verdict is not None else "—",
                    "score": best.get("score"), "claim": best.get("claim") or best.get("sentence") or "",
                    "reason": best.get("reason") or best.get("explanation") or "", "span": best.get("span")}
    ev = load("evidence.json")
    rows = ev.get("support") if isinstance(ev, dict) else None
    if isinstance(rows, list):
        cands = [r for r in rows if isinstance(r, dict) and r.get("passage_id") == passage_id]
        if cands:
            best = max(cands, key=lambda r: _similar(claim, str(r.get("sentence") or "")))
            sup = best.get("supported")
            verdict = "supported" if sup else ("not supported" if sup is False else "not measured")
            return {"source": "support", "verdict": verdict, "score": best.get("score"),
                    "claim": best.get("sentence") or "", "reason": "", "span": None}
    return None


@dataclass
class PassageView:
    """What the template shows for one passage."""

    id: str
    source: str
    kind: str
    label: str
    locator: str
    title: str
    text: Markup
    heading: str = ""                      # "p. 3", "slide 5", "Sheet1!A2:G40", "00:12–00:30"
    image_url: str | None = None           # keyframe or image
    table: list[list[str]] | None = None   # sheet cells
    neighbours: list[dict[str, Any]] = field(default_factory=list)
    verdict: dict[str, Any] | None = None


def _table(text: str) -> list[list[str]] | None:
    rows = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("|")]
    if len(rows) < 2:
        return None
    out = []
    for r in rows:
        cells = [c.strip() for c in r.strip("|").split("|")]
        if all(set(c) <= set("-: ") for c in cells):
            continue
        out.append(cells)
    return out or None


def _heading(p: Any) -> str:
    loc = p.loc or {}
    if p.kind == "pdf" and loc.get("page"):
        return f"page {loc['page']}"
    if p.kind == "pptx" and loc.get("slide"):
        return f"slide {loc['slide']}"
    if loc.get("sheet"):
        rng = loc.get("range")
        return f"sheet {loc['sheet']}" + (f" · cells {', '.join(rng) if isinstance(rng, list) else rng}" if rng else "")
    if "start_s" in loc:
        return f"{p.locator} (keyframe)" if loc.get("keyframe") else p.locator
    return p.locator or ""


def passage_view(store: Any, pid: str, claim: str = "", media_url: str | None = None,
                 run_dir: Path | None = None, neighbours: int = 1) -> PassageView | None:
    """The passage ``pid`` with its neighbours, the span aligned to ``claim`` and (with ``run_dir``) the
    claim's verdict. ``media_url`` is where its keyframe or image is served."""
    p = store.get_passage(pid)
    if p is None:
        return None
    verdict = claim_verdict(run_dir, pid, claim) if run_dir is not None and claim else None
    span = None
    if verdict and isinstance(verdict.get("span"), list | tuple) and len(verdict["span"]) == 2:
        try:
            span = (int(verdict["span"][0]), int(verdict["span"][1]))
        except (TypeError, ValueError):
            span = None
    if span is None and claim:
        span = align_span(claim, p.text)
    loc = p.loc or {}
    has_media = bool(loc.get("keyframe")) or p.kind == "image"
    near = []
    for q in store.neighbours(pid, neighbours, neighbours) if neighbours else []:
        if q.id != pid:
            near.append({"id": q.id, "locator": q.locator, "text": q.text, "before": q.ordinal < p.ordinal})
    return PassageView(
        id=p.id, source=p.source, kind=p.kind, label=p.label, locator=p.locator, title=p.title or "",
        text=highlighted(p.text, span), heading=_heading(p), image_url=media_url if has_media else None,
        table=_table(p.text) if p.kind in ("sheet", "csv") else None, neighbours=near, verdict=verdict,
    )
