"""Build the configured chat client from :class:`~sourcebook.config.LLMSettings`."""

from __future__ import annotations

from typing import Any

from ..config import LLMSettings
from .base import BaseChatClient
from .cost import PriceTable
from .retry import RetryPolicy

OPENAI_COMPATIBLE = {
    "openai", "openai-compatible", "vllm", "sglang", "ollama", "llamacpp", "llama.cpp", "dashscope",
    "openrouter", "deepseek", "lmstudio",
}
ANTHROPIC = {"anthropic", "claude"}


def make_client(llm: LLMSettings, *, model: str | None = None, **options: Any) -> BaseChatClient | None:
    """Chat client for ``llm`` (``None`` when no model is configured).

    ``model`` overrides ``llm.model`` (e.g. ``llm.vision_model``); ``options`` go to the client
    (``stream``, ``retry_empty``, ``prices``, ``retry``, ``sleep``, ``extra_body`` for OpenAI-compatible).
    Raises ``ValueError`` for an unknown provider or dialect.
    """
    name = (model if model is not None else llm.model or "").strip()
    if not name:
        return None
    provider = (llm.provider or "openai").strip().lower()
    key = llm.api_key.get_secret_value() if llm.api_key is not None else None
    prices: PriceTable | None = options.pop("prices", None)
    common: dict[str, Any] = {
        "dialect": llm.dialect,
        "temperature": llm.temperature,
        "max_tokens": llm.max_tokens,
        "timeout_s": llm.timeout_s,
        "retry": options.pop("retry", None) or RetryPolicy(max_retries=max(0, llm.max_retries)),
        "prices": prices,
        **options,
    }
    if provider in OPENAI_COMPATIBLE:
        from .openai_client import OpenAIClient  # SDKs load on first use

        return OpenAIClient(name, base_url=llm.base_url, api_key=key, **common)
    if provider in ANTHROPIC:
        from .anthropic_client import AnthropicClient

        return AnthropicClient(name, base_url=llm.base_url, api_key=key, **common)
    known = ", ".join(sorted(OPENAI_COMPATIBLE | ANTHROPIC))
    raise ValueError(f"unknown LLM provider {llm.provider!r}; expected one of: {known}")
