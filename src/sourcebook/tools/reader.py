"""``tool-reader``: read a file of the task folder (whole or a page/slide range) from the store's passages.

Paths are relative to the task folder (a unique bare file name also works); nothing outside it is readable.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sourcebook.tools.registry import ToolError, confine_path

MAX_CHARS = 20_000
_RANGE = re.compile(r"^\s*(\d+)\s*(?:[-–~:]\s*(\d+))?\s*$")
_PAGE_KEYS = ("page", "slide", "article")


def parse_ranges(spec: str | int | None) -> list[tuple[int, int]] | None:
    """``"3-5,8"`` → ``[(3, 5), (8, 8)]``; ``None``/empty → ``None`` (everything). Non-numeric → ``[]``."""
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        return None
    if isinstance(spec, int):
        return [(spec, spec)]
    out: list[tuple[int, int]] = []
    for part in re.split(r"[,，;\s]+(?=\d)", str(spec).strip()):
        m = _RANGE.match(part)
        if not m:
            return []
        a = int(m.group(1))
        b = int(m.group(2) or a)
        if b < a:
            a, b = b, a
        out.append((a, b))
    return out


def _in(ranges: list[tuple[int, int]], n: int) -> bool:
    return any(a <= n <= b for a, b in ranges)


class ReaderTools:
    """File reading served from the evidence store."""

    def __init__(self, store: Any, folder: Path) -> None:
        self.store = store
        self.folder = Path(folder)

    # -- helpers ------------------------------------------------------------------------------------------
    def _source(self, path: str) -> Any:
        _abs, rel = confine_path(self.folder, path)
        rec = self.store.source(rel)
        if rec is None:
            name = Path(path).name
            same = [s for s in self.store.sources() if s.path.rsplit("/", 1)[-1] == name]
            if len(same) == 1:
                return same[0]
            known = ", ".join(s.path for s in self.store.sources()[:30])
            raise ToolError(f"{path}: not a file of the task folder; files: {known}")
        return rec

    def _select(self, path: str, pages: str | None) -> tuple[Any, list[Any], str]:
        rec = self._source(path)
        if rec.status in ("error", "skipped", "empty") and rec.passages == 0:
            raise ToolError(f"{rec.path}: {rec.status}" + (f" — {rec.reason}" if rec.reason else ""))
        passages = list(self.store.passages(rec.path))
        ranges = parse_ranges(pages)
        note = ""
        if ranges is None:
            return rec, passages, note
        if ranges == []:
            # sheet names or section titles
            want = str(pages).strip().lower()
            sel = [p for p in passages
                   if want in str(p.loc.get("sheet", "")).lower() or want in (p.title or "").lower()]
            if not sel:
                raise ToolError(f"{rec.path}: nothing matches pages={pages!r}")
            return rec, sel, note
        key = next((k for k in _PAGE_KEYS if any(k in p.loc for p in passages)), None)
        if key is None:
            sel = [p for i, p in enumerate(passages, 1) if _in(ranges, i)]
            note = f"({rec.path} has no pages; selected passages by position)"
        else:
            sel = [p for p in passages if isinstance(p.loc.get(key), int) and _in(ranges, p.loc[key])]
            if not sel:
                have = sorted({p.loc[key] for p in passages if isinstance(p.loc.get(key), int)})
                span = f"{have[0]}-{have[-1]}" if have else "none"
                raise ToolError(f"{rec.path}: no {key} in {pages} (available: {span})")
        return rec, sel, note

    @staticmethod
    def _cap(parts: list[str], note: str = "") -> str:
        out: list[str] = [note] if note else []
        used = 0
        for i, part in enumerate(parts):
            if used + len(part) > MAX_CHARS and out:
                out.append(f"…[{len(parts) - i} more passages not shown; ask for a page range]")
                break
            out.append(part)
            used += len(part)
        return "\n\n".join(out)

    # -- tools --------------------------------------------------------------------------------------------
    def read_file(self, path: str, pages: str | None = None) -> str:
        """Read a file of the task folder as text, each passage headed by its citation label and id.

        Args:
            path: file path relative to the task folder, e.g. "report.pdf" or "docs/notes.md".
            pages: optional page/slide range like "3-5" or "1,4-6" (for sheets: a sheet name).
        """
        rec, sel, note = self._select(path, pages)
        if not sel:
            return f"{rec.path}: no text content (status {rec.status}{', ' + rec.reason if rec.reason else ''})"
        parts = [f"{p.label} (passage_id: {p.id})\n{p.text}" for p in sel]
        return self._cap(parts, note)

    def convert_to_markdown(self, path: str, pages: str | None = None) -> str:
        """Convert a file of the task folder to Markdown, one heading per page/slide/sheet/section.

        Args:
            path: file path relative to the task folder.
            pages: optional page/slide range like "3-5" (for sheets: a sheet name).
        """
        rec, sel, note = self._select(path, pages)
        title = (rec.meta or {}).get("title") or rec.path
        parts = [f"# {title}"]
        last = None
        for p in sel:
            head = p.locator or p.title
            if head and head != last:
                parts.append(f"## {head}")
                last = head
            parts.append(f"{p.text}\n<!-- passage_id: {p.id} -->")
        return self._cap(parts, note)
