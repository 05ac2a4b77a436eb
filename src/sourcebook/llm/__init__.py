"""LLM access: provider clients (OpenAI-compatible, Anthropic), tool-call dialects (native, xml),
retries, usage/cost accounting, and a scripted local server for tests and benchmarks."""

from .base import BaseChatClient
from .factory import make_client
from .retry import LLMError, RetryPolicy
from .types import ChatClient, ChatResponse, ToolCall, ToolSpec, Usage, tool_result_message

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
