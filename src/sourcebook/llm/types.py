"""Provider-neutral chat types. Messages use the OpenAI chat shape as the internal format
(``{"role": ..., "content": ..., "tool_calls": [...], "tool_call_id": ...}``); clients convert to
and from each provider's wire format."""

from __future__ import annotations

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


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class ChatResponse:
    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    finish_reason: str = ""


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
