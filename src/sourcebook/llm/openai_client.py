"""Chat client for OpenAI-compatible endpoints (OpenAI, vLLM, SGLang, Ollama, llama.cpp server, DashScope,
OpenRouter, ...) through the ``openai`` SDK."""

from __future__ import annotations

import re
from typing import Any

import openai

from .base import BaseChatClient
from .dialects import ToolNameMap, native_tool_call, openai_tools
from .messages import to_openai_native
from .retry import LLMError
from .types import ChatResponse, ToolCall, ToolSpec, Usage

# Reasoning models that take ``max_completion_tokens`` and no ``temperature``.
_REASONING_MODEL = re.compile(r"^(openai/)?(o\d|gpt-5)", flags=re.I)


class OpenAIClient(BaseChatClient):
    """``ChatClient`` over the OpenAI chat-completions API."""

    provider = "openai"
    key_env = "OPENAI_API_KEY"
    default_host = "api.openai.com"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        extra_body: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(model, **options)
        self.base_url = base_url
        self.extra_body = extra_body or {}
        self._sdk = openai.OpenAI(
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
        params: dict[str, Any] = {"model": self.model, "messages": to_openai_native(messages, names)}
        if _REASONING_MODEL.match(self.model):
            params["max_completion_tokens"] = max_tokens
        else:
            params["max_tokens"] = max_tokens
            if temperature is not None:
                params["temperature"] = temperature
        if tools:
            params["tools"] = openai_tools(tools)
        if self.extra_body:
            params["extra_body"] = self.extra_body
        if self.stream:
            return self._complete_stream(params, names)
        completion = self._sdk.chat.completions.create(**params)
        usage = _usage(getattr(completion, "usage", None))
        if not completion.choices:
            return ChatResponse(text="", usage=usage, model=completion.model or "", finish_reason="")
        choice = completion.choices[0]
        message = choice.message
        calls = [
            native_tool_call(c.id or f"call-{i}", c.function.name, c.function.arguments, names)
            for i, c in enumerate(message.tool_calls or [])
            if getattr(c, "function", None) is not None
        ]
        return ChatResponse(
            text=message.content or "",
            tool_calls=calls,
            usage=usage,
            model=completion.model or "",
            finish_reason=choice.finish_reason or "",
            reasoning=_reasoning(message),
        )

    def _complete_stream(self, params: dict[str, Any], names: ToolNameMap) -> ChatResponse:
        stream = self._sdk.chat.completions.create(
            **params, stream=True, stream_options={"include_usage": True}
        )
        text: list[str] = []
        reasoning: list[str] = []
        partial: dict[int, dict[str, Any]] = {}
        usage = Usage()
        model = ""
        finish = ""
        with stream:
            for chunk in stream:
                model = chunk.model or model
                if getattr(chunk, "usage", None):
                    usage = _usage(chunk.usage)
                for choice in chunk.choices or []:
                    if choice.index not in (0, None):
                        continue
                    delta = choice.delta
                    if delta is not None:
                        if delta.content:
                            text.append(delta.content)
                        piece = _reasoning(delta)
                        if piece:
                            reasoning.append(piece)
                        for tc in delta.tool_calls or []:
                            slot = partial.setdefault(tc.index, {"id": "", "name": "", "arguments": []})
                            if tc.id:
                                slot["id"] = tc.id
                            if tc.function is not None:
                                if tc.function.name:
                                    slot["name"] += tc.function.name
                                if tc.function.arguments:
                                    slot["arguments"].append(tc.function.arguments)
                    if choice.finish_reason:
                        finish = choice.finish_reason
        if not finish:
            raise LLMError("stream ended before the reply was complete (no finish_reason)", retryable=True)
        calls: list[ToolCall] = [
            native_tool_call(slot["id"] or f"call-{index}", slot["name"], "".join(slot["arguments"]), names)
            for index, slot in sorted(partial.items())
        ]
        return ChatResponse(
            text="".join(text),
            tool_calls=calls,
            usage=usage,
            model=model,
            finish_reason=finish,
            reasoning="".join(reasoning),
        )


def _usage(raw: Any) -> Usage:
    if raw is None:
        return Usage()
    return Usage(int(getattr(raw, "prompt_tokens", 0) or 0), int(getattr(raw, "completion_tokens", 0) or 0))


def _reasoning(message: Any) -> str:
    for attribute in ("reasoning_content", "reasoning"):
        value = getattr(message, attribute, None)
        if value is None:
            value = (getattr(message, "model_extra", None) or {}).get(attribute)
        if isinstance(value, str) and value:
            return value
    return ""
