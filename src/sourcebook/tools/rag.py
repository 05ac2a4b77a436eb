"""``tool-rag``: search the evidence store and read around a passage. Every result carries the passage id,
its citation label and locator so the model can cite exactly what it read."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sourcebook.tools.registry import ToolError

SNIPPET_CHARS = 700


def _clip(text: str, n: int = SNIPPET_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n] + "…"


class RagTools:
    """The retrieval tools over one store."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def rag_search(self, query: str, k: int = 10, diverse: bool = True) -> dict[str, Any]:
        """Search all sources of the task folder (keyword + semantic) and return the best passages.

        Args:
            query: what to look for; a short phrase or question works best (Chinese or English).
            k: number of passages to return (1-30).
            diverse: spread results over different sources instead of many hits from one file.
        """
        if not query or not query.strip():
            raise ToolError("query is empty")
        k = max(1, min(int(k), 30))
        hits = self.store.search(query, k=k, diverse=diverse)
        return {
            "query": query,
            "hits": [
                {
                    "passage_id": h.passage_id,
                    "label": h.label,
                    "source": h.source,
                    "locator": h.locator,
                    "score": round(float(h.score), 4),
                    "text": _clip(h.text),
                }
                for h in hits
            ],
            "note": "cite with the label; use rag_get_context(passage_id) to read around a hit",
        }

    def rag_get_context(self, passage_id: str, window: int = 1) -> dict[str, Any]:
        """Return a passage in full together with its neighbours in the same source.

        Args:
            passage_id: the id of a passage from rag_search.
            window: how many passages before and after to include (0-5).
        """
        window = max(0, min(int(window), 5))
        p = self.store.get_passage(passage_id)
        if p is None:
            raise ToolError(f"no passage with id {passage_id!r}")
        ctx = self.store.neighbours(passage_id, before=window, after=window) if window else [p]
        if not any(q.id == p.id for q in ctx):
            ctx = [p]
        return {
            "passage_id": p.id,
            "source": p.source,
            "passages": [
                {"passage_id": q.id, "label": q.label, "locator": q.locator, "title": q.title,
                 "text": q.text, "is_target": q.id == p.id}
                for q in ctx
            ],
        }

    def rag_document_stats(self) -> dict[str, Any]:
        """List the files of the task folder: kind, status, number of passages and key facts (pages, duration...)."""
        rows = []
        kinds: Counter[str] = Counter()
        total = 0
        for s in self.store.sources():
            kinds[s.kind] += 1
            total += s.passages
            facts = {k: v for k, v in (s.meta or {}).items()
                     if k in ("pages", "slides", "sheets", "articles", "duration_s", "title", "width", "height",
                              "authors", "language") and v not in (None, "", [])}
            row: dict[str, Any] = {"path": s.path, "kind": s.kind, "status": s.status, "passages": s.passages}
            if s.reason:
                row["reason"] = s.reason
            if facts:
                row["facts"] = facts
            rows.append(row)
        return {"files": len(rows), "passages": total, "kinds": dict(kinds), "sources": rows}
