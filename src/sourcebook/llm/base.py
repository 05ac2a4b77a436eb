"""Provider-independent half of a chat client: dialect handling, retries, usage and cost bookkeeping."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from .cost import PriceTable, default_price_table
from .dialects import (
    XML,
    ToolNameMap,
    check_dialect,
    count_prior_tool_calls,
    parse_xml_tool_calls,
    xml_tools_prompt,
)
from .messages import to_xml_dialect, with_system_suffix
from .retry import EmptyReplyError, RetryPolicy, call_with_retry
from .types import ChatResponse, ToolSpec, Usage

log = logging.getLogger("sourcebook.llm")


class BaseChatClient:
    """Implements :class:`~sourcebook.llm.types.ChatClient` on top of a provider's ``_complete``.

    ``usage`` / ``calls`` / ``cost_usd`` accumulate over the client's life (thread-safe).
    """

    provider = "base"
    key_env = ""  # environment variable read when no API key is given
    default_host = ""  # the provider's own endpoint, named in the log when no key is configured

    def __init__(
        self,
        model: str,
        *,
        dialect: str = "native",
        temperature: float | None = 0.3,
        max_tokens: int = 4096,
        timeout_s: float = 120.0,
        retry: RetryPolicy | None = None,
        stream: bool = False,
        retry_empty: bool = False,
        prices: PriceTable | None = None,
        sleep: Callable[[float], Any] = time.sleep,
    ) -> None:
        if not model:
            raise ValueError("no model name given")
        self.model = model
        self.dialect = check_dialect(dialect)
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self.stream = stream
        self.retry_empty = retry_empty
        self.prices = prices if prices is not None else default_price_table()
        self._sleep = sleep
        self._lock = threading.Lock()
        self.usage = Usage()
        self.calls = 0
        self.cost_usd: float | None = None

    def __repr__(self) -> str:  # never shows the key
        return f"{type(self).__name__}(model={self.model!r}, dialect={self.dialect!r}, stream={self.stream})"

    def _api_key(self, api_key: str | None, base_url: str | None) -> str:
        """``api_key``, else ``$key_env``, else a placeholder: local servers (vLLM, Ollama, llama.cpp) accept
        any key, the provider itself will answer 401."""
        key = api_key or (os.environ.get(self.key_env) if self.key_env else None)
        if key:
            return key
        log.debug("no API key configured for %s; sending a placeholder", base_url or self.default_host)
        return "EMPTY"

    # -- to implement per provider ----------------------------------------------------------------------
    def _complete(
        self,
        messages: list[dict[str, Any]],
        tools: list[ToolSpec] | None,
        names: ToolNameMap,
        temperature: float | None,
        max_tokens: int,
    ) -> ChatResponse:
        raise NotImplementedError

    # -- public -----------------------------------------------------------------------------------------
    def chat(
        self,
        messages: list[dict[str, Any]],
        tools: list[ToolSpec] | None = None,
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> ChatResponse:
        """Send the conversation (internal OpenAI shape) and return the reply with decoded tool calls.

        Raises :class:`~sourcebook.llm.retry.LLMError` when the call fails for good.
        """
        tools = list(tools or [])
        names = ToolNameMap(tools)
        temperature = self.temperature if temperature is None else temperature
        max_tokens = max_tokens or self.max_tokens
        if self.dialect == XML:
            wire_messages = to_xml_dialect(messages, names)
            if tools:
                wire_messages = with_system_suffix(wire_messages, xml_tools_prompt(tools))
            wire_tools: list[ToolSpec] | None = None
        else:
            wire_messages, wire_tools = messages, (tools or None)

        last_empty: list[ChatResponse] = []

        def attempt() -> ChatResponse:
            reply = self._complete(wire_messages, wire_tools, names, temperature, max_tokens)
            if self.retry_empty and not reply.text.strip() and not reply.tool_calls:
                last_empty[:] = [reply]
                raise EmptyReplyError("empty reply (no text, no tool calls)", retryable=True)
            return reply

        started = time.monotonic()
        try:
            reply, attempts = call_with_retry(
                attempt, self.retry, what=f"{self.provider} {self.model}", sleep=self._sleep
            )
        except EmptyReplyError as exc:
            reply, attempts = last_empty[0], exc.attempts
        reply.attempts = attempts
        reply.duration_s = time.monotonic() - started
        if self.dialect == XML and tools:
            reply.tool_calls = parse_xml_tool_calls(reply.text, start=count_prior_tool_calls(messages) + 1)
            if reply.tool_calls and reply.finish_reason in ("", "stop"):
                reply.finish_reason = "tool_calls"
        reply.model = reply.model or self.model
        reply.cost_usd = self.prices.cost(reply.model, reply.usage)
        if reply.cost_usd is None:
            reply.cost_usd = self.prices.cost(self.model, reply.usage)
        with self._lock:
            self.calls += 1
            self.usage = self.usage + reply.usage
            if reply.cost_usd is not None:
                self.cost_usd = (self.cost_usd or 0.0) + reply.cost_usd
        log.info(
            "%s %s: %d+%d tokens, %d tool call(s), %s, %.2fs, %d attempt(s)",
            self.provider,
            reply.model,
            reply.usage.prompt_tokens,
            reply.usage.completion_tokens,
            len(reply.tool_calls),
            reply.finish_reason or "-",
            reply.duration_s,
            attempts,
        )
        return reply
