"""Chat client for the Anthropic Messages API through the ``anthropic`` SDK."""

from __future__ import annotations

from typing import Any

import anthropic

from .base import BaseChatClient
from .dialects import ToolNameMap, anthropic_tools, native_tool_call
from .messages import to_anthropic
from .retry import LLMError
from .types import ChatResponse, ToolCall, ToolSpec, Usage

_STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "refusal": "content_filter",
    "pause_turn": "stop",
}


class AnthropicClient(BaseChatClient):
    """``ChatClient`` over Anthropic's Messages API. Internal OpenAI-shaped messages are converted on the
    way out (system → ``system=``, tool calls → ``tool_use``, tool messages → ``tool_result``)."""

    provider = "anthropic"
    key_env = "ANTHROPIC_API_KEY"
    default_host = "api.anthropic.com"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        send_temperature: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(model, **options)
        # Newer Claude models reject ``temperature`` (and the SDK no longer has it), so it is only sent
        # on request, for older models or Anthropic-compatible servers that still honour it.
        self.send_temperature = send_temperature
        self.base_url = base_url
        self._sdk = anthropic.Anthropic(
            api_key=self._api_key(api_key, base_url), base_url=base_url, max_retries=0, timeout=self.timeout_s
        )

    def _complete(
        self,
        messages: list[dict[str, Any]],
        tools: list[ToolSpec] | None,
        names: ToolNameMap,
        temperature: float | None,
        max_tokens: int,
    ) -> ChatResponse:
        system, wire = to_anthropic(messages, names)
        params: dict[str, Any] = {"model": self.model, "max_tokens": max_tokens, "messages": wire}
        if system:
            params["system"] = system
        if self.send_temperature and temperature is not None:
            params["extra_body"] = {"temperature": temperature}
        if tools:
            params["tools"] = anthropic_tools(tools)
        if self.stream:
            return self._complete_stream(params, names)
        message = self._sdk.messages.create(**params)
        text: list[str] = []
        reasoning: list[str] = []
        calls: list[ToolCall] = []
        for block in message.content or []:
            kind = getattr(block, "type", "")
            if kind == "text":
                text.append(block.text or "")
            elif kind == "tool_use":
                calls.append(native_tool_call(block.id, block.name, block.input, names))
            elif kind == "thinking":
                reasoning.append(getattr(block, "thinking", "") or "")
        return ChatResponse(
            text="".join(text),
            tool_calls=calls,
            usage=_usage(message.usage),
            model=message.model or "",
            finish_reason=_STOP_REASONS.get(message.stop_reason or "", message.stop_reason or ""),
            reasoning="".join(reasoning),
        )

    def _complete_stream(self, params: dict[str, Any], names: ToolNameMap) -> ChatResponse:
        text: list[str] = []
        reasoning: list[str] = []
        blocks: dict[int, dict[str, Any]] = {}
        prompt_tokens = completion_tokens = 0
        model = ""
        stop_reason = ""
        complete = False
        stream = self._sdk.messages.create(**params, stream=True)
        with stream:
            for event in stream:
                kind = event.type
                if kind == "message_start":
                    model = event.message.model or ""
                    start = _usage(event.message.usage)
                    prompt_tokens, completion_tokens = start.prompt_tokens, start.completion_tokens
                elif kind == "content_block_start":
                    block = event.content_block
                    if block.type == "tool_use":
                        blocks[event.index] = {"id": block.id, "name": block.name, "json": [], "input": block.input}
                    elif block.type == "text" and block.text:
                        text.append(block.text)
                elif kind == "content_block_delta":
                    delta = event.delta
                    if delta.type == "text_delta":
                        text.append(delta.text)
                    elif delta.type == "input_json_delta" and event.index in blocks:
                        blocks[event.index]["json"].append(delta.partial_json)
                    elif delta.type == "thinking_delta":
                        reasoning.append(delta.thinking)
                elif kind == "message_stop":
                    complete = True
                elif kind == "message_delta":
                    stop_reason = event.delta.stop_reason or stop_reason
                    if event.usage is not None:
                        delta_usage = _usage(event.usage)
                        completion_tokens = delta_usage.completion_tokens or completion_tokens
                        prompt_tokens = max(prompt_tokens, delta_usage.prompt_tokens)
        if not complete:
            raise LLMError("stream ended before the reply was complete (no message_stop)", retryable=True)
        calls = []
        for _, block in sorted(blocks.items()):
            raw: Any = "".join(block["json"]) if block["json"] else block["input"]
            calls.append(native_tool_call(block["id"], block["name"], raw, names))
        return ChatResponse(
            text="".join(text),
            tool_calls=calls,
            usage=Usage(prompt_tokens, completion_tokens),
            model=model,
            finish_reason=_STOP_REASONS.get(stop_reason, stop_reason),
            reasoning="".join(reasoning),
        )


def _usage(raw: Any) -> Usage:
    """Exact usage: prompt = input + cache writes + cache reads."""
    if raw is None:
        return Usage()
    prompt = sum(
        int(getattr(raw, name, 0) or 0)
        for name in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )
    return Usage(prompt, int(getattr(raw, "output_tokens", 0) or 0))

