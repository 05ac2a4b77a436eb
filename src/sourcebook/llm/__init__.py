"""LLM access: provider clients (OpenAI-compatible, Anthropic), tool-call dialects (native, xml),
retries, usage/cost accounting, and a scripted local server for tests and benchmarks.

The provider SDKs are imported only when a client is built, so importing this package is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .retry import LLMError, RetryPolicy
from .types import ChatClient, ChatResponse, ToolCall, ToolSpec, Usage, tool_result_message

if TYPE_CHECKING:
    from .base import BaseChatClient
    from .factory import make_client

__all__ = [
    "BaseChatClient",
    "ChatClient",
    "ChatResponse",
    "LLMError",
    "RetryPolicy",
    "ToolCall",
    "ToolSpec",
    "Usage",
    "make_client",
    "tool_result_message",
]


def __getattr__(name: str) -> Any:
    if name == "make_client":
        from .factory import make_client

        return make_client
    if name == "BaseChatClient":
        from .base import BaseChatClient

        return BaseChatClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
