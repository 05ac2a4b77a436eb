"""A chat client wrapper that reports every call's usage and cost to a run's record."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .types import ChatResponse, ToolSpec


class RecordingClient:
    """Wraps a :class:`~sourcebook.llm.types.ChatClient`; after each successful call, ``on_usage(prompt,
    completion, cost_usd)`` gets the usage the server reported. Everything else is passed through."""

    def __init__(self, inner: Any, on_usage: Callable[[int, int, float | None], None]) -> None:
        self.inner = inner
        self.on_usage = on_usage
        self.model = inner.model

    def chat(self, messages: list[dict[str, Any]], tools: list[ToolSpec] | None = None, *,
             temperature: float | None = None, max_tokens: int | None = None) -> ChatResponse:
        """Call the wrapped client and report the reply's usage."""
        reply = self.inner.chat(messages, tools, temperature=temperature, max_tokens=max_tokens)
        self.on_usage(reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.cost_usd)
        return reply

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        return f"RecordingClient({self.inner!r})"
