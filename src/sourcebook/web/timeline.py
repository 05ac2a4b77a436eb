"""A run's trace as a timeline for the run page, and one-line summaries for the live progress stream."""

from __future__ import annotations

import json
from typing import Any


def _pretty(obj: Any) -> str:
    if isinstance(obj, str):
        return obj
    return json.dumps(obj, ensure_ascii=False, indent=2, default=str)


def timeline(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items for the template: ``stage``, ``start``, ``turn`` (with its tool calls and their results),
    ``llm_error`` and ``final``; texts are left raw (the template escapes them)."""
    items: list[dict[str, Any]] = []
    calls: dict[str, dict[str, Any]] = {}
    for e in events:
        kind = e.get("type")
        if kind == "stage":
            items.append({"kind": "stage", "stage": e.get("stage"), "detail": e.get("detail") or ""})
        elif kind == "start":
            items.append({"kind": "start", "system": e.get("system") or "", "tools": e.get("tools") or [],
                          "model": e.get("model") or ""})
        elif kind == "turn":
            r = e.get("response") or {}
            u = e.get("usage") or {}
            turn = {"kind": "turn", "turn": e.get("turn"), "phase": e.get("phase"), "text": r.get("text") or "",
                    "prompt_tokens": int(u.get("prompt_tokens") or 0),
                    "completion_tokens": int(u.get("completion_tokens") or 0), "llm_s": e.get("llm_s") or 0,
                    "user": [m.get("content") for m in e.get("messages_delta") or []
                             if m.get("role") == "user" and isinstance(m.get("content"), str)],
                    "calls": []}
            for c in r.get("tool_calls") or []:
                call = {"id": c.get("id"), "name": f"{c.get('server')}/{c.get('name')}",
                        "arguments": _pretty(c.get("arguments") or {}), "error": c.get("error"), "result": None,
                        "elapsed_s": None, "cached": False, "passages": 0}
                calls[str(c.get("id"))] = call
                turn["calls"].append(call)
            items.append(turn)
        elif kind == "tool":
            call = calls.get(str(e.get("call_id")))
            if call is None:
                call = {"id": e.get("call_id"), "name": f"{e.get('server')}/{e.get('name')}",
                        "arguments": _pretty(e.get("arguments") or {}), "error": None}
                items.append({"kind": "turn", "turn": e.get("turn"), "phase": "replayed", "text": "",
                              "prompt_tokens": 0, "completion_tokens": 0, "llm_s": 0, "user": [], "calls": [call]})
            call.update(result=e.get("result") or "", error=e.get("error") or call.get("error"),
                        elapsed_s=e.get("elapsed_s"), cached=bool(e.get("cached")),
                        passages=len(e.get("passage_ids") or []))
        elif kind == "llm_error":
            items.append({"kind": "llm_error", "turn": e.get("turn"), "error": e.get("error") or ""})
        elif kind == "final":
            items.append({"kind": "final", "stopped": e.get("stopped"), "text": e.get("final_text") or "",
                          "extractive": bool(e.get("extractive"))})
    return items


def event_line(e: dict[str, Any]) -> dict[str, Any]:
    """A trace event as ``{type, text, error}`` for the live progress list (plain text, shown as text)."""
    kind = e.get("type")
    text = kind or "event"
    error = False
    if kind == "stage":
        text = f"stage: {e.get('stage')}" + (f" — {e.get('detail')}" if e.get("detail") else "")
    elif kind == "start":
        text = f"agent started with {len(e.get('tools') or [])} tools"
    elif kind == "turn":
        u = e.get("usage") or {}
        calls = [c.get("name") for c in (e.get("response") or {}).get("tool_calls") or []]
        text = (f"turn {e.get('turn')}: {int(u.get('prompt_tokens') or 0) + int(u.get('completion_tokens') or 0):,}"
                f" tokens · " + (("calls " + ", ".join(map(str, calls))) if calls else "answer"))
    elif kind == "tool":
        error = bool(e.get("error"))
        text = (f"  {e.get('server')}/{e.get('name')} · {float(e.get('elapsed_s') or 0):.2f} s · "
                f"{len(e.get('passage_ids') or [])} passages" + (f" · ERROR {e.get('error')}" if error else ""))
    elif kind == "llm_error":
        error = True
        text = f"model call failed: {e.get('error')}"
    elif kind == "final":
        text = f"agent finished: {e.get('stopped')}"
    return {"type": kind, "text": str(text)[:500], "error": error}
