"""Tool-call dialects: how tools are offered to a model and how its tool calls are read back.

``native``
    Provider function calling (OpenAI ``tools`` / Anthropic ``tools`` + ``tool_use``). On the wire a tool is
    named ``f"{server}__{name}"`` (sanitised to ``^[a-zA-Z0-9_-]{1,64}$``) and decoded back into
    ``ToolCall(server, name, arguments)``.

``xml``
    MiroThinker / MiroFlow style: no ``tools`` parameter; the system prompt gets a tool description block
    (:func:`xml_tools_prompt`) and the model writes calls as text::

        <use_mcp_tool>
        <server_name>tool-rag</server_name>
        <tool_name>rag_search</tool_name>
        <arguments>{"query": "..."}</arguments>
        </use_mcp_tool>

    :func:`parse_xml_tool_calls` reads them (several per message allowed). Malformed calls become
    ``ToolCall``s with a precise ``error`` instead of raising.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any

from .types import ToolCall, ToolSpec

NATIVE = "native"
XML = "xml"
DIALECTS = (NATIVE, XML)

WIRE_SEPARATOR = "__"
_WIRE_OK = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_WIRE_BAD_CHARS = re.compile(r"[^a-zA-Z0-9_-]")


def check_dialect(dialect: str) -> str:
    """Normalise a dialect name; raise ``ValueError`` naming the valid ones when unknown."""
    value = (dialect or NATIVE).strip().lower()
    if value not in DIALECTS:
        raise ValueError(f"unknown tool-call dialect {dialect!r}; expected one of {', '.join(DIALECTS)}")
    return value


# ---------------------------------------------------------------------------------------------- native


def encode_tool_name(server: str, name: str) -> str:
    """Wire name of a tool: ``server__name``, sanitised and at most 64 characters (hash-suffixed if cut)."""
    raw = f"{server}{WIRE_SEPARATOR}{name}" if server else name
    wire = _WIRE_BAD_CHARS.sub("_", raw) or "tool"
    if len(wire) > 64:
        digest = hashlib.sha1(raw.encode()).hexdigest()[:8]
        wire = f"{wire[:55]}_{digest}"
    return wire


class ToolNameMap:
    """Decodes wire tool names back into ``(server, name)`` using the tools offered in this request."""

    def __init__(self, tools: Iterable[ToolSpec] | None = None) -> None:
        self.by_wire: dict[str, ToolSpec] = {}
        self.by_name: dict[str, list[ToolSpec]] = {}
        for tool in tools or ():
            self.by_wire[encode_tool_name(tool.server, tool.name)] = tool
            self.by_name.setdefault(tool.name, []).append(tool)

    def decode(self, wire: str) -> tuple[str, str]:
        """``(server, name)`` for a wire name; falls back to splitting at the first ``__``."""
        wire = (wire or "").strip()
        tool = self.by_wire.get(wire)
        if tool is not None:
            return tool.server, tool.name
        same_name = self.by_name.get(wire, [])
        if len(same_name) == 1:  # model dropped the server prefix
            return same_name[0].server, same_name[0].name
        if WIRE_SEPARATOR in wire:
            server, name = wire.split(WIRE_SEPARATOR, 1)
            return server, name
        return "", wire


def openai_tools(tools: Iterable[ToolSpec]) -> list[dict[str, Any]]:
    """OpenAI ``tools`` parameter for ``tools``."""
    return [
        {
            "type": "function",
            "function": {
                "name": encode_tool_name(t.server, t.name),
                "description": t.description,
                "parameters": t.parameters or {"type": "object", "properties": {}},
            },
        }
        for t in tools
    ]


def anthropic_tools(tools: Iterable[ToolSpec]) -> list[dict[str, Any]]:
    """Anthropic ``tools`` parameter for ``tools``."""
    return [
        {
            "name": encode_tool_name(t.server, t.name),
            "description": t.description,
            "input_schema": t.parameters or {"type": "object", "properties": {}},
        }
        for t in tools
    ]


def parse_arguments(raw: Any) -> tuple[dict[str, Any], str | None]:
    """Parse tool arguments (JSON text or an already-decoded object) into ``(arguments, error)``."""
    if isinstance(raw, dict):
        return raw, None
    if raw is None:
        return {}, None
    if not isinstance(raw, str):
        return {}, f"arguments must be a JSON object, got {type(raw).__name__}"
    text = _strip_code_fence(raw.strip())
    if not text:
        return {}, None
    try:
        value = json.loads(text, strict=False)
    except json.JSONDecodeError as exc:
        return {}, f"arguments are not valid JSON: {exc}"
    if not isinstance(value, dict):
        return {}, f"arguments must be a JSON object, got {type(value).__name__}"
    return value, None


def native_tool_call(call_id: str, wire_name: str, raw_arguments: Any, names: ToolNameMap) -> ToolCall:
    """Build a ``ToolCall`` from a native (function-calling) call."""
    server, name = names.decode(wire_name)
    arguments, error = parse_arguments(raw_arguments)
    if not name:
        error = error or "tool call has no tool name"
    return ToolCall(id=call_id, server=server, name=name, arguments=arguments, error=error)


def _strip_code_fence(text: str) -> str:
    match = re.fullmatch(r"```[a-zA-Z0-9_-]*\s*\n?(.*?)\n?\s*```", text, flags=re.S)
    return match.group(1).strip() if match else text


# ------------------------------------------------------------------------------------------------- xml

_OPEN = "<use_mcp_tool>"
_CLOSE = "</use_mcp_tool>"
_THINK = re.compile(r"<think>.*?</think>", flags=re.S | re.I)


def xml_tools_prompt(tools: Iterable[ToolSpec]) -> str:
    """Tool description block appended to the system message in the ``xml`` dialect."""
    by_server: dict[str, list[ToolSpec]] = {}
    for tool in tools:
        by_server.setdefault(tool.server, []).append(tool)
    lines = [
        "# Tool use",
        "",
        "You can call tools provided by MCP servers. To call a tool, write a block in exactly this format:",
        "",
        _OPEN,
        "<server_name>server name here</server_name>",
        "<tool_name>tool name here</tool_name>",
        "<arguments>",
        '{"param1": "value1", "param2": "value with \\"escaped\\" quotes"}',
        "</arguments>",
        _CLOSE,
        "",
        "Rules:",
        "- `arguments` must be one valid JSON object that follows the tool's input schema "
        "(escape quotes inside strings).",
        "- Put tool calls at the end of your message, at top level, not inside other tags or code blocks.",
        "- You may put several tool calls in one message; each result comes back in the next user message.",
        "- When you need no more tools, answer without any tool call.",
        "",
        "## Available tools",
    ]
    if not by_server:
        lines.append("(no tools are available)")
    for server, server_tools in by_server.items():
        lines += ["", f"### Server name: {server}"]
        for tool in server_tools:
            schema = json.dumps(tool.parameters or {"type": "object", "properties": {}}, ensure_ascii=False)
            lines += [
                f"#### Tool name: {tool.name}",
                f"Description: {tool.description.strip()}" if tool.description else "Description: (none)",
                f"Input JSON schema: {schema}",
            ]
    return "\n".join(lines)


def _tag(block: str, tag: str) -> tuple[str | None, str | None]:
    """Content of ``<tag>...</tag>`` in ``block`` → ``(content, error)``."""
    opening = re.search(rf"<{tag}\s*>", block)
    if opening is None:
        return None, f"missing <{tag}>"
    closing = block.find(f"</{tag}>", opening.end())
    if closing < 0:
        return None, f"<{tag}> is not closed (missing </{tag}>)"
    return block[opening.end():closing], None


def parse_xml_tool_calls(text: str, start: int = 1) -> list[ToolCall]:
    """All ``<use_mcp_tool>`` calls in ``text``, in order, with ids ``xml-<start>``, ``xml-<start+1>``...

    ``<think>...</think>`` sections are ignored. Problems (unclosed block, missing tag, bad JSON) are
    reported in ``ToolCall.error``; this function never raises on model output.
    """
    if not text or _OPEN not in text:
        return []
    body = _THINK.sub("", text)
    calls: list[ToolCall] = []
    position = 0
    number = start
    while True:
        opening = body.find(_OPEN, position)
        if opening < 0:
            break
        content_start = opening + len(_OPEN)
        closing = body.find(_CLOSE, content_start)
        next_open = body.find(_OPEN, content_start)
        unclosed = closing < 0 or (0 <= next_open < closing)
        if unclosed:
            end = next_open if next_open >= 0 else len(body)
            block = body[content_start:end]
            position = end
        else:
            block = body[content_start:closing]
            position = closing + len(_CLOSE)
        calls.append(_xml_call(f"xml-{number}", block, unclosed))
        number += 1
    return calls


def _xml_call(call_id: str, block: str, unclosed: bool) -> ToolCall:
    server, server_error = _tag(block, "server_name")
    name, name_error = _tag(block, "tool_name")
    raw_args, args_error = _tag(block, "arguments")
    server = (server or "").strip()
    name = (name or "").strip()
    problems: list[str] = []
    if unclosed:
        problems.append(f"{_OPEN} block is not closed (missing {_CLOSE})")
    problems += [e for e in (server_error, name_error) if e]
    if server_error is None and not server:
        problems.append("<server_name> is empty")
    if name_error is None and not name:
        problems.append("<tool_name> is empty")
    arguments: dict[str, Any] = {}
    if args_error:
        problems.append(args_error)
    else:
        arguments, json_error = parse_arguments(raw_args)
        if json_error:
            problems.append(json_error)
    error = "malformed tool call: " + "; ".join(problems) if problems else None
    return ToolCall(id=call_id, server=server, name=name, arguments=arguments, error=error)


def format_xml_tool_call(call: ToolCall) -> str:
    """Render a tool call as a ``<use_mcp_tool>`` block (used for assistant turns sent back on the wire)."""
    arguments = json.dumps(call.arguments, ensure_ascii=False)
    return (
        f"{_OPEN}\n<server_name>{call.server}</server_name>\n<tool_name>{call.name}</tool_name>\n"
        f"<arguments>\n{arguments}\n</arguments>\n{_CLOSE}"
    )


def format_xml_tool_result(server: str, name: str, content: str) -> str:
    """Text of a tool result as sent back to the model in the ``xml`` dialect (as a user message)."""
    label = f"{server}/{name}" if server else (name or "tool")
    return f"<tool_result tool=\"{label}\">\n{content}\n</tool_result>"


def strip_xml_tool_calls(text: str) -> str:
    """``text`` without its ``<use_mcp_tool>`` blocks (for display)."""
    stripped = re.sub(r"<use_mcp_tool>.*?(</use_mcp_tool>|$)", "", text or "", flags=re.S)
    return stripped.strip()


def count_prior_tool_calls(messages: Iterable[dict[str, Any]]) -> int:
    """How many tool calls the assistant made so far in ``messages`` (for stable ``xml-<n>`` ids)."""
    return sum(len(m.get("tool_calls") or []) for m in messages if m.get("role") == "assistant")
