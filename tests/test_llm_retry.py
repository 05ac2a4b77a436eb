"""Retry classification and Retry-After parsing on real SDK exception objects."""

from __future__ import annotations

import email.utils
import threading
import time

import anthropic
import openai
import pytest

try:  # the SDKs' HTTP layer (httpx2 in current releases, httpx before)
    import httpx2
except ImportError:  # pragma: no cover
    import httpx as httpx2

from sourcebook.llm.messages import with_system_suffix
from sourcebook.llm.openai_client import OpenAIClient
from sourcebook.llm.retry import RetryPolicy, is_retryable, retry_after_s
from sourcebook.llm.scripted import ScriptedServer

REQUEST = httpx2.Request("POST", "http://127.0.0.1/v1/chat/completions")


def status_error(sdk, status: int, headers: dict[str, str] | None = None):
    response = httpx2.Response(status, headers=headers or {}, request=REQUEST)
    return sdk.APIStatusError(f"status {status}", response=response, body=None)


@pytest.mark.parametrize("sdk", [openai, anthropic])
def test_retry_after_forms(sdk):
    assert retry_after_s(status_error(sdk, 429, {"retry-after": "3"})) == 3.0
    assert retry_after_s(status_error(sdk, 429, {"retry-after": "0.5"})) == 0.5
    assert retry_after_s(status_error(sdk, 429, {"retry-after-ms": "250", "retry-after": "9"})) == 0.25
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= (retry_after_s(status_error(sdk, 503, {"retry-after": future})) or 0) <= 31
    assert retry_after_s(status_error(sdk, 429, {"retry-after": "soon"})) is None
    assert retry_after_s(status_error(sdk, 429)) is None


@pytest.mark.parametrize("sdk", [openai, anthropic])
def test_what_is_retried(sdk):
    for status in (408, 429, 500, 502, 503, 529):
        assert is_retryable(status_error(sdk, status)), status
    for status in (400, 401, 403, 404, 422):
        assert not is_retryable(status_error(sdk, status)), status
    assert is_retryable(sdk.APITimeoutError(request=REQUEST))
    assert is_retryable(sdk.APIConnectionError(request=REQUEST))
    assert not is_retryable(ValueError("bug"))


def test_backoff_is_capped():
    policy = RetryPolicy(base_delay_s=1, max_delay_s=4, jitter=0)
    assert [policy.backoff(n) for n in range(1, 6)] == [1, 2, 4, 4, 4]


def test_long_retry_after_is_capped():
    waits: list[float] = []
    policy = RetryPolicy(max_retries=1, max_retry_after_s=0.5)
    with ScriptedServer([{"fault": 429, "retry_after": 3600}, {"text": "ok"}]) as srv:
        client = OpenAIClient("m", base_url=srv.openai_base_url, api_key="k", retry=policy, sleep=waits.append)
        assert client.chat([{"role": "user", "content": "q"}]).text == "ok"
    assert waits == [0.5]


def test_system_suffix_added_or_appended():
    assert with_system_suffix([{"role": "user", "content": "q"}], "TOOLS") == [
        {"role": "system", "content": "TOOLS"}, {"role": "user", "content": "q"}]
    original = [{"role": "system", "content": "Base."}, {"role": "user", "content": "q"}]
    assert with_system_suffix(original, "TOOLS")[0]["content"] == "Base.\n\nTOOLS"
    assert original[0]["content"] == "Base."


def test_one_client_shared_by_threads_sums_usage():
    turns = [{"text": f"reply {i}", "usage": {"prompt_tokens": 10 + i, "completion_tokens": i}} for i in range(12)]
    with ScriptedServer(turns) as srv:
        client = OpenAIClient("m", base_url=srv.openai_base_url, api_key="k")
        threads = [threading.Thread(target=lambda: [client.chat([{"role": "user", "content": "q"}])
                                                    for _ in range(3)]) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert client.calls == 12
    assert client.usage.prompt_tokens == sum(10 + i for i in range(12))
    assert client.usage.completion_tokens == sum(range(12))
