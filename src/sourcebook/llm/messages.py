"""Conversion of the internal (OpenAI-shaped) conversation into what each provider and dialect expects."""

from __future__ import annotations

import json
import re
from typing import Any

from .dialects import (
    ToolNameMap,
    encode_tool_name,
    format_xml_tool_call,
    format_xml_tool_result,
    parse_arguments,
)
from .types import ToolCall


def content_text(content: Any) -> str:
    """Plain text of a message ``content`` (a string or a list of OpenAI content parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and part.get("type") in ("text", "input_text"):
                parts.append(str(part.get("text", "")))
        return "\n".join(p for p in parts if p)
    return str(content)


def with_system_suffix(messages: list[dict[str, Any]], suffix: str) -> list[dict[str, Any]]:
    """Copy of ``messages`` whose first system message ends with ``suffix`` (one is added if missing)."""
    out = [dict(m) for m in messages]
    for message in out:
        if message.get("role") == "system":
            base = content_text(message.get("content"))
            message["content"] = f"{base}\n\n{suffix}" if base else suffix
            return out
    return [{"role": "system", "content": suffix}, *out]


def _calls_by_id(messages: list[dict[str, Any]], names: ToolNameMap) -> dict[str, ToolCall]:
    calls: dict[str, ToolCall] = {}
    for message in messages:
        if message.get("role") != "assistant":
            continue
        for raw in message.get("tool_calls") or []:
            function = raw.get("function") or {}
            server, name = names.decode(function.get("name", ""))
            arguments, _ = parse_arguments(function.get("arguments"))
            calls[raw.get("id", "")] = ToolCall(id=raw.get("id", ""), server=server, name=name, arguments=arguments)
    return calls


def _merge_same_role(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged: list[dict[str, Any]] = []
    for message in messages:
        if merged and merged[-1]["role"] == message["role"] and message["role"] in ("user", "assistant"):
            previous = merged[-1]
            previous["content"] = "\n\n".join(
                t for t in (content_text(previous["content"]), content_text(message["content"])) if t
            )
        else:
            merged.append(dict(message))
    return merged


def to_xml_dialect(messages: list[dict[str, Any]], names: ToolNameMap) -> list[dict[str, Any]]:
    """Internal messages → plain text turns for the ``xml`` dialect.

    Assistant ``tool_calls`` become ``<use_mcp_tool>`` text (unless the content already carries them, as it
    does for replies produced in this dialect); ``role: tool`` messages become user messages; consecutive
    same-role turns are merged.
    """
    calls = _calls_by_id(messages, names)
    out: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        if role == "assistant":
            text = content_text(message.get("content"))
            raw_calls = message.get("tool_calls") or []
            if raw_calls and "<use_mcp_tool>" not in text:
                rendered = [
                    format_xml_tool_call(calls[c.get("id", "")]) for c in raw_calls if c.get("id", "") in calls
                ]
                text = "\n\n".join(t for t in (text, *rendered) if t)
            out.append({"role": "assistant", "content": text})
        elif role == "tool":
            call = calls.get(message.get("tool_call_id", ""))
            server, name = (call.server, call.name) if call else ("", "tool")
            out.append(
                {"role": "user", "content": format_xml_tool_result(server, name, content_text(message.get("content")))}
            )
        else:
            out.append({k: v for k, v in message.items() if k in ("role", "content", "name")})
    return _merge_same_role(out)


def wire_name(name: str, names: ToolNameMap) -> str:
    """A tool name from the conversation, normalised to a valid wire name (``server__name``, sanitised)."""
    server, tool = names.decode(name)
    return encode_tool_name(server, tool) if tool else "unknown"


def to_openai_native(messages: list[dict[str, Any]], names: ToolNameMap | None = None) -> list[dict[str, Any]]:
    """Internal messages → OpenAI wire messages: tool names normalised to valid wire names, arguments
    that are not a JSON object sent as ``{}``."""
    names = names or ToolNameMap()
    out: list[dict[str, Any]] = []
    for message in messages:
        message = dict(message)
        if message.get("role") == "assistant" and message.get("tool_calls"):
            fixed = []
            for raw in message["tool_calls"]:
                function = dict(raw.get("function") or {})
                arguments, error = parse_arguments(function.get("arguments"))
                if error or not isinstance(function.get("arguments"), str):
                    function["arguments"] = json.dumps(arguments, ensure_ascii=False)
                function["name"] = wire_name(str(function.get("name") or ""), names)
                fixed.append({"id": raw.get("id"), "type": "function", "function": function})
            message["tool_calls"] = fixed
            if message.get("content") is None:
                message["content"] = ""
        out.append(message)
    return out


_DATA_URL = re.compile(r"^data:(?P<media>[\w/+.-]+);base64,(?P<data>.*)$", flags=re.S)


def _anthropic_part(part: Any) -> dict[str, Any] | None:
    if isinstance(part, str):
        return {"type": "text", "text": part} if part else None
    if not isinstance(part, dict):
        return None
    kind = part.get("type")
    if kind in ("text", "input_text"):
        text = str(part.get("text", ""))
        return {"type": "text", "text": text} if text else None
    if kind == "image_url":
        url = (part.get("image_url") or {}).get("url", "")
        match = _DATA_URL.match(url)
        if match:
            return {
                "type": "image",
                "source": {"type": "base64", "media_type": match["media"], "data": match["data"]},
            }
        return {"type": "image", "source": {"type": "url", "url": url}}
    if kind in ("image", "tool_use", "tool_result", "document"):
        return part  # already Anthropic-shaped
    return None


def _anthropic_blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, list):
        return [b for b in (_anthropic_part(p) for p in content) if b]
    block = _anthropic_part(content_text(content))
    return [block] if block else []


def to_anthropic(messages: list[dict[str, Any]], names: ToolNameMap) -> tuple[str, list[dict[str, Any]]]:
    """Internal messages → ``(system, messages)`` for the Anthropic Messages API (native dialect).

    System messages join into ``system``; assistant ``tool_calls`` become ``tool_use`` blocks; ``role: tool``
    messages become ``tool_result`` blocks in a user turn; consecutive same-role turns are merged, and the
    conversation is made to start with a user turn.
    """
    system_parts: list[str] = []
    turns: list[dict[str, Any]] = []

    def add(role: str, blocks: list[dict[str, Any]]) -> None:
        if not blocks:
            return
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": list(blocks)})

    for message in messages:
        role = message.get("role")
        if role in ("system", "developer"):
            text = content_text(message.get("content"))
            if text:
                system_parts.append(text)
        elif role == "assistant":
            blocks = _anthropic_blocks(message.get("content"))
            for raw in message.get("tool_calls") or []:
                function = raw.get("function") or {}
                arguments, _ = parse_arguments(function.get("arguments"))
                blocks.append(
                    {
                        "type": "tool_use",
                        "id": raw.get("id", ""),
                        "name": wire_name(str(function.get("name") or ""), names),
                        "input": arguments,
                    }
                )
            add("assistant", blocks)
        elif role == "tool":
            text = content_text(message.get("content"))
            block: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": message.get("tool_call_id", ""),
                "content": text or "(empty result)",
            }
            if message.get("is_error"):
                block["is_error"] = True
            add("user", [block])
        else:
            add("user", _anthropic_blocks(message.get("content")))
    if not turns or turns[0]["role"] != "user":
        turns.insert(0, {"role": "user", "content": [{"type": "text", "text": "(continue)"}]})
    # tool_result blocks must open a user turn
    for turn in turns:
        if turn["role"] == "user":
            turn["content"].sort(key=lambda b: 0 if b.get("type") == "tool_result" else 1)
    return "\n\n".join(system_parts), turns

