"""Provider-neutral chat types. Messages use the OpenAI chat shape as the internal format
(``{"role": ..., "content": ..., "tool_calls": [...], "tool_call_id": ...}``); clients convert to
and from each provider's wire format."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class ToolSpec:
    """A tool as offered to the model: ``server`` groups tools under the old MCP server names."""

    server: str
    name: str
    description: str
    parameters: dict[str, Any]  # JSON schema of the arguments object


@dataclass
class ToolCall:
    """A tool call the model asked for. ``error`` is set when the call could not be parsed; it is sent
    back to the model instead of running anything."""

    id: str
    server: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def to_message(self) -> dict[str, Any]:
        """This call as an entry of an assistant message's ``tool_calls`` (internal OpenAI shape)."""
        from .dialects import encode_tool_name

        return {
            "id": self.id,
            "type": "function",
            "function": {
                "name": encode_tool_name(self.server, self.name) if self.name else "unknown",
                "arguments": json.dumps(self.arguments, ensure_ascii=False),
            },
        }


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.prompt_tokens + other.prompt_tokens, self.completion_tokens + other.completion_tokens)


@dataclass
class ChatResponse:
    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    finish_reason: str = ""  # stop | tool_calls | length | content_filter | ... (OpenAI vocabulary)
    reasoning: str = ""  # separate reasoning text when the server returns one (e.g. ``reasoning_content``)
    attempts: int = 1  # HTTP attempts this reply took (retries + 1)
    duration_s: float = 0.0
    cost_usd: float | None = None  # from the price table, when the model has a price

    def to_message(self) -> dict[str, Any]:
        """The assistant turn to append to the conversation (internal OpenAI shape)."""
        message: dict[str, Any] = {"role": "assistant", "content": self.text}
        if self.tool_calls:
            message["tool_calls"] = [call.to_message() for call in self.tool_calls]
        return message


def tool_result_message(call: ToolCall, content: str) -> dict[str, Any]:
    """The ``role: tool`` message answering ``call`` (internal OpenAI shape)."""
    return {"role": "tool", "tool_call_id": call.id, "content": content}


class ChatClient(Protocol):
    """What the agent loop and the LLM writer need from a model."""

    model: str

    def chat(
        self,
        messages: list[dict[str, Any]],
        tools: list[ToolSpec] | None = None,
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> ChatResponse: ...
