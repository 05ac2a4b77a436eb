"""Data facts and charts in a draft.

Without a model, each data table's computed facts (the ``(facts)`` passage written at ingest) are stated in the
section that uses that table, cited to the facts passage, and its default chart is drawn, registered as a
figure passage and cited next to them. Charts the agent saved with ``run_python_code`` and that no section
cites are placed the same way. Every cited figure passage ends up in its section's ``figures`` for the
renderer, with a caption naming the source data.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from sourcebook.report.evidence import EvidenceItem, SectionEvidence, usable
from sourcebook.report.extractive import with_marker
from sourcebook.report.types import Draft, DraftSection
from sourcebook.sandbox.figures import FIGURE_KIND, figure_entry, register_figure

log = logging.getLogger(__name__)

DATA_KINDS = ("csv", "sheet")
MAX_FACTS = 3           # facts stated per table
MAX_TABLES = 6          # tables described per report
_DATA_WORDS = re.compile(r"数据|分析|趋势|统计|变化|图表|可视化|data|analys|trend|statistic|chart", re.I)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_CID = re.compile(r"\[@([A-Za-z0-9_\-:.]+)\]")
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "Droid Sans Fallback")


def _content(draft: Draft) -> list[int]:
    return [i for i, s in enumerate(draft.sections) if not s.is_references]


def _section_for(draft: Draft, evidence: list[SectionEvidence], source: str) -> int | None:
    """The content section whose evidence uses ``source`` most; else one about data; else the first."""
    content = _content(draft)
    if not content:
        return None
    best = max(content, key=lambda i: sum(it.source == source for it in evidence[i].items))
    if any(it.source == source for it in evidence[best].items):
        return best
    return next((i for i in content if _DATA_WORDS.search(draft.sections[i].title)), content[0])


def _append(sec: DraftSection, ev: SectionEvidence | None, passage: Any, sentences: list[str]) -> None:
    sep = "" if sentences and _CJK.search(sentences[0]) else " "
    para = sep.join(with_marker(s, passage.id) for s in sentences).strip()
    sec.body = (sec.body.rstrip() + "\n\n" + para).strip()
    if ev is not None and passage.id not in ev.ids():
        ev.items.append(EvidenceItem(passage.id, passage.source, passage.label, passage.text, 0.0, "facts"))


def _rc() -> dict[str, Any]:
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return {"font.family": "sans-serif", "axes.unicode_minus": False,
            "font.sans-serif": [n for n in CJK_FONTS if n in names] + ["DejaVu Sans"]}


def localized(spec: dict[str, Any], zh: bool) -> dict[str, Any]:
    """The chart spec with its Chinese title and axis names when the report is in Chinese."""
    if not zh:
        return spec
    return dict(spec, **{k: spec[f"{k}_zh"] for k in ("title", "x", "y") if spec.get(f"{k}_zh")})


def draw_chart(spec: dict[str, Any], path: Path) -> str:
    """Draw a default chart (``line`` over dates or ``bar`` per label) to ``path``; returns a text summary of
    what it plots."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    pts = [(str(x), float(y)) for x, y in spec["points"]]
    with plt.rc_context(_rc()):
        fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
        try:
            if spec["type"] == "line":
                import datetime as dt

                xs = [dt.datetime.fromisoformat(x[:10]) for x, _ in pts]
                ax.plot(xs, [y for _, y in pts], color="#1a5fb4")
                ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
            else:
                labels = [x if len(x) <= 40 else x[:39] + "…" for x, _ in pts]
                bars = ax.barh(range(len(pts)), [y for _, y in pts], color="#1a5fb4")
                ax.set_yticks(range(len(pts)), labels, fontsize=8)
                ax.invert_yaxis()
                ax.bar_label(bars, fmt="%g", fontsize=8)
            ax.set_title(spec["title"])
            horizontal = spec["type"] != "line"
            ax.set_xlabel(spec.get("y" if horizontal else "x", ""))
            ax.set_ylabel(spec.get("x" if horizontal else "y", ""))
            ax.grid(alpha=0.3)
            fig.tight_layout()
            path.parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(path)
        finally:
            plt.close(fig)
    hi = max(pts, key=lambda p: p[1])
    lo = min(pts, key=lambda p: p[1])
    if spec["type"] == "line":
        return (f"line {spec.get('y', '')}: {len(pts)} points from {pts[0][0]} to {pts[-1][0]}; first "
                f"{pts[0][1]:g}, last {pts[-1][1]:g}, max {hi[1]:g} at {hi[0]}, min {lo[1]:g} at {lo[0]}")
    return "bars: " + ", ".join(f"{x}={y:g}" for x, y in pts[:12])


def add_data_facts(draft: Draft, evidence: list[SectionEvidence], store: Any, out_dir: Path) -> list[str]:
    """State each data table's computed facts (cited to its facts passage) and add its default chart (a
    figure passage). Returns the figure passage ids."""
    zh = draft.language == "zh"
    figure_ids: list[str] = []
    tables = 0
    for src in store.sources():
        if src.kind not in DATA_KINDS or not usable(src):
            continue
        for p in store.passages(src.path):
            if not p.locator.endswith("(facts)") or tables >= MAX_TABLES:
                continue
            facts = p.loc.get("facts") or []
            if not facts:
                continue
            si = _section_for(draft, evidence, src.path)
            if si is None:
                return figure_ids
            tables += 1
            sec, ev = draft.sections[si], evidence[si]
            _append(sec, ev, p, [f["zh" if zh else "en"] for f in facts[:MAX_FACTS]])
            spec = p.loc.get("chart")
            if not spec or not spec.get("points"):
                continue
            spec = localized(spec, zh)
            stem = Path(src.path).stem + (f"-{p.loc.get('sheet', '')}" if src.kind == "sheet" else "")
            stem = re.sub(r"[^\w.-]+", "_", stem)[:60]
            png = Path(out_dir) / "evidence" / f"chart-{stem}.png"
            try:
                summary = draw_chart(spec, png)
            except Exception as e:  # noqa: BLE001 - a chart that cannot be drawn leaves the facts in place
                log.warning("%s: default chart not drawn: %s", src.path, e)
                continue
            inputs = [{"file": src.path, "sheets": [p.loc["sheet"]] if src.kind == "sheet" else [],
                       "columns": [str(c) for c in spec.get("columns", [])]}]
            code = f"default chart of {src.path} ({p.locator}): {spec['type']} of cells {spec.get('cells', '')}"
            fig = register_figure(store, png, summary, code, inputs, caption=spec["title"])
            figure_ids.append(fig.id)
            lines = fig.text.splitlines()
            _append(sec, None, fig, [lines[0] if zh else lines[1]])
    return figure_ids


def place_figures(draft: Draft, evidence: list[SectionEvidence], store: Any, ids: list[str]) -> list[str]:
    """Figure passages among ``ids`` (e.g. charts the agent saved) that no section cites get a cited caption
    sentence in the section that uses their input data. Returns the ids placed."""
    zh = draft.language == "zh"
    cited = {m for s in draft.sections for m in _CID.findall(s.body)}
    placed = []
    for pid in dict.fromkeys(ids):
        p = store.get_passage(pid)
        if p is None or p.kind != FIGURE_KIND or pid in cited or not Path(p.loc.get("path", "")).is_file():
            continue
        inputs = p.loc.get("inputs") or []
        si = _section_for(draft, evidence, inputs[0]["file"] if inputs else "")
        if si is None:
            break
        lines = p.text.splitlines()
        _append(draft.sections[si], None, p, [lines[0] if zh else lines[1]])
        placed.append(pid)
    return placed


def attach_figures(draft: Draft, store: Any) -> None:
    """Every figure passage a section cites goes into that section's ``figures`` (once per report)."""
    seen: set[str] = set()
    for sec in draft.sections:
        for pid in dict.fromkeys(_CID.findall(sec.body)):
            p = store.get_passage(pid)
            entry = figure_entry(p) if p is not None else None
            if entry is None or pid in seen:
                continue
            seen.add(pid)
            if all(f.get("passage_id") != pid for f in sec.figures):
                sec.figures.append(entry)
