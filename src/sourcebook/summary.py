"""The folder summary the LLM sees instead of whole files: bounded, one line per file, short previews."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sourcebook.models import SourceRecord
    from sourcebook.store import Store

MAX_CHARS = 64_000
PREVIEW_CHARS = 240
MAX_LISTED = 400  # files listed one per line; beyond that, grouped per directory


def _human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _facts(s: SourceRecord) -> str:
    m = s.meta or {}
    parts: list[str] = []
    for key, label in (("pages", "pages"), ("slides", "slides"), ("sheets", "sheets"), ("articles", "articles"),
                       ("rows", "rows"), ("scenes", "scenes")):
        v = m.get(key)
        if isinstance(v, list):
            v = len(v)
        if v:
            parts.append(f"{v} {label}")
    dur = m.get("duration_s")
    if dur:
        parts.append(f"{int(dur) // 60}:{int(dur) % 60:02d} min")
    if m.get("width") and m.get("height"):
        parts.append(f"{m['width']}×{m['height']}")
    parts.append(f"{s.passages} passages")
    return ", ".join(parts)


def _line(s: SourceRecord) -> str:
    status = s.status if not s.reason else f"{s.status}: {s.reason}"
    title = (s.meta or {}).get("title")
    t = f' "{str(title)[:80]}"' if title else ""
    return f"- {s.path} [{s.kind}, {_human_size(s.size)}, {_facts(s)}; {status}]{t}"


def _preview(store: Store, s: SourceRecord) -> str:
    if s.kind == "corpus":
        titles = (s.meta or {}).get("sample_titles") or []
        if titles:
            return "  sample titles: " + " | ".join(str(t)[:40] for t in titles[:6])
        return ""
    for p in store.passages(s.path):
        text = " ".join(p.text.split())
        return f"  preview ({p.locator}): {text[:PREVIEW_CHARS]}{'…' if len(text) > PREVIEW_CHARS else ''}"
    return ""


def folder_summary(store: Store, max_chars: int = MAX_CHARS) -> str:
    """Describe the folder for the LLM in at most ``max_chars`` characters."""
    sources = store.sources()
    kinds = Counter(s.kind for s in sources)
    statuses = Counter(s.status for s in sources)
    head = [
        f"Folder: {store.folder.name} — {len(sources)} files, {sum(s.passages for s in sources)} passages",
        "Kinds: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()),
        "Status: " + ", ".join(f"{k} {n}" for k, n in statuses.most_common()),
        "Use the search tools to read evidence; cite passages by id.",
        "",
        "Files:",
    ]
    out = "\n".join(head)
    listed = sources[:MAX_LISTED]
    lines: list[str] = []
    for s in listed:
        lines.append(_line(s))
        prev = _preview(store, s)
        if prev:
            lines.append(prev)
    if len(sources) > MAX_LISTED:
        rest = Counter(s.path.rsplit("/", 1)[0] if "/" in s.path else "." for s in sources[MAX_LISTED:])
        lines.append(f"… and {len(sources) - MAX_LISTED} more files: "
                     + ", ".join(f"{d}/ ({n})" for d, n in rest.most_common(20)))
    body = "\n".join(lines)
    text = out + "\n" + body
    if len(text) <= max_chars:
        return text
    # too long: drop previews, then cut lines
    lines = [ln for ln in lines if not ln.startswith("  preview")]
    text = out + "\n" + "\n".join(lines)
    if len(text) <= max_chars:
        return text
    note = "\n… (summary cut to stay within the size limit)"
    return text[: max_chars - len(note)] + note
