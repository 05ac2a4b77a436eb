"""Charts as evidence: a saved chart becomes a passage (locator ``figure N``) holding the image path, the code
that drew it, the input files/sheets/columns it read and a text summary of what it plots, so a report can
cite it and embed it."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sourcebook.models import Passage

FIGURE_KIND = "figure"
STATUS_DERIVED = "derived"   # made during a run from the task's data, not a file of the task folder


def inputs_text(inputs: list[dict[str, Any]]) -> str:
    """``a.csv (columns x, y); b.xlsx [Sheet1] (columns z)``."""
    parts = []
    for i in inputs:
        s = str(i.get("file", ""))
        if i.get("sheets"):
            s += " [" + ", ".join(i["sheets"]) + "]"
        if i.get("columns"):
            s += " (columns " + ", ".join(i["columns"]) + ")"
        parts.append(s)
    return "; ".join(parts)


def caption_of(summary: str, path: Path) -> str:
    """The chart's own title (first ``title:`` or axes title in the summary), else the file name."""
    for line in summary.splitlines():
        if line.startswith("title: "):
            return line[7:].strip()
        if line.startswith("axes '"):
            return line[6:].split("'", 1)[0]
    return path.stem


def figure_passage_text(number: int, caption: str, summary: str, inputs: list[dict[str, Any]], code: str) -> str:
    """The passage text: caption, data read, what is plotted, and the code."""
    lines = [f"图{number}：{caption}。", f"Figure {number}: {caption}."]
    if inputs:
        lines.append(f"Data: {inputs_text(inputs)}.")
    if summary:
        lines.append("Plotted: " + summary.replace("\n", "; "))
    if code:
        lines.append("Code:\n" + code.strip()[:4000])
    return "\n".join(lines)


def register_figure(store: Any, path: Path, summary: str = "", code: str = "",
                    inputs: list[dict[str, Any]] | None = None, caption: str | None = None) -> Passage:
    """Add a chart file to ``store`` as a one-passage derived source; returns the passage (cite its id)."""
    path = Path(path).resolve()
    inputs = inputs or []
    existing = [s for s in store.sources() if s.kind == FIGURE_KIND]
    key = str(path)
    for s in existing:
        if s.path == key:  # the same file saved again (redrawn): replace, keep its number
            number = int(s.meta.get("figure", len(existing)))
            break
    else:
        number = len(existing) + 1
    caption = caption or caption_of(summary, path)
    text = figure_passage_text(number, caption, summary, inputs, code)
    data = path.read_bytes()
    from sourcebook.models import SourceRecord

    meta = {"figure": number, "inputs": inputs}
    rec = SourceRecord(key, FIGURE_KIND, len(data), hashlib.sha256(data).hexdigest(), STATUS_DERIVED, "", meta, 1)
    sid = store.upsert_source(rec, "figure-1")
    loc = {"figure": number, "path": key, "caption": caption, "code": code, "inputs": inputs, "summary": summary}
    store.add_passages(sid, key, [(0, f"figure {number}", loc, caption, text)])
    store.conn.commit()
    passage = next(iter(store.passages(key)))
    return passage


def figure_entry(passage: Passage) -> dict[str, Any] | None:
    """The renderer's figure dict (path, caption, provenance) for a figure passage, else None."""
    if passage.kind != FIGURE_KIND or not passage.loc.get("path"):
        return None
    loc = passage.loc
    inputs = [inputs_text([i]) for i in loc.get("inputs") or []]
    return {"path": loc["path"], "caption": loc.get("caption") or passage.title, "passage_id": passage.id,
            "provenance": {"inputs": inputs, "code": loc.get("code", "")}}
