"""Keep the conversation small: older tool results are replaced by a one-line summary that lists the passage
ids they contained, so the model can still cite them or reread them with ``rag_get_context``.

Compaction is a pure function of the message list (the full history is kept and traced), so a resumed run
sends exactly what the original run would have sent.
"""

from __future__ import annotations

import json
from typing import Any

from sourcebook.tools.registry import passage_ids_in

MAX_IDS = 24


def _calls_by_id(messages: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for m in messages:
        for c in m.get("tool_calls") or []:
            fn = c.get("function", {})
            out[c.get("id", "")] = (fn.get("name", "?"), fn.get("arguments", ""))
    return out


def _short(args: str, n: int = 80) -> str:
    try:
        obj = json.loads(args) if args else {}
        args = ", ".join(f"{k}={v!r}" for k, v in obj.items()) if isinstance(obj, dict) else str(obj)
    except (json.JSONDecodeError, TypeError):
        pass
    return args if len(args) <= n else args[:n] + "…"


def summarize_result(name: str, args: str, content: str) -> str:
    """The short stand-in for an old tool result."""
    ids = passage_ids_in(content)
    shown = ", ".join(ids[:MAX_IDS]) + (f" (+{len(ids) - MAX_IDS} more)" if len(ids) > MAX_IDS else "")
    head = f"[compacted earlier result of {name.replace('__', '/')}({_short(args)}): {len(content)} chars"
    if ids:
        return head + f"; passages: {shown}. Reread any with tool-rag/rag_get_context.]"
    first = " ".join(content.split())[:160]
    return head + f"; began: {first}…]"


def compact(messages: list[dict[str, Any]], keep_last: int = 4, min_chars: int = 400) -> tuple[list[dict[str, Any]], int]:
    """Return (messages to send, how many tool results were compacted).

    The last ``keep_last`` tool results stay in full; older ones longer than ``min_chars`` are summarized.
    """
    tool_idx = [i for i, m in enumerate(messages) if m.get("role") == "tool"]
    old = set(tool_idx[:-keep_last] if keep_last > 0 else tool_idx)
    if not old:
        return list(messages), 0
    calls = _calls_by_id(messages)
    out: list[dict[str, Any]] = []
    n = 0
    for i, m in enumerate(messages):
        content = m.get("content") or ""
        if i in old and isinstance(content, str) and len(content) > min_chars:
            name, args = calls.get(m.get("tool_call_id", ""), ("tool", ""))
            m = {**m, "content": summarize_result(name, args, content)}
            n += 1
        out.append(m)
    return out, n
