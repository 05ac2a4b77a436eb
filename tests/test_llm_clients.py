"""Both clients against the scripted server, through the real ``openai`` and ``anthropic`` SDKs."""

from __future__ import annotations

import logging
import time

import pytest

from sourcebook.config import LLMSettings
from sourcebook.llm import LLMError, RetryPolicy, ToolSpec, make_client, tool_result_message
from sourcebook.llm.anthropic_client import AnthropicClient
from sourcebook.llm.base import BaseChatClient
from sourcebook.llm.cost import PriceTable
from sourcebook.llm.openai_client import OpenAIClient
from sourcebook.llm.scripted import ScriptedServer

PROVIDERS = ["openai", "anthropic"]
SECRET = "sk-test-7f3a9c1e5b2d4680"
TOOLS = [
    ToolSpec("tool-rag", "rag_search", "Search passages.", {
        "type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}),
    ToolSpec("tool-rag", "get_passage", "Fetch a passage.", {
        "type": "object", "properties": {"id": {"type": "string"}}}),
]
QUESTION = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is in the folder?"}]
FAST = RetryPolicy(max_retries=3, base_delay_s=0.01, max_delay_s=0.05)


def client_for(srv: ScriptedServer, provider: str, **options) -> BaseChatClient:
    options.setdefault("retry", FAST)
    options.setdefault("timeout_s", 5.0)
    if provider == "openai":
        return OpenAIClient("scripted-model", base_url=srv.openai_base_url, api_key=SECRET, **options)
    return AnthropicClient("scripted-model", base_url=srv.anthropic_base_url, api_key=SECRET, **options)


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("stream", [False, True])
def test_text_reply(provider, stream):
    with ScriptedServer([{"text": "The folder holds three reports. 它包含三份报告。"}]) as srv:
        reply = client_for(srv, provider, stream=stream).chat(QUESTION)
        body = srv.requests[0]
    assert reply.text == "The folder holds three reports. 它包含三份报告。"
    assert reply.tool_calls == [] and reply.finish_reason == "stop"
    assert reply.usage.prompt_tokens > 0 and reply.usage.completion_tokens > 0
    assert reply.attempts == 1
    assert bool(body.get("stream")) is stream
    headers = srv.served[0].headers
    assert SECRET in (headers.get("authorization", "") + headers.get("x-api-key", ""))
    if provider == "anthropic":
        assert body["system"] == "Be brief."
        assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "What is in the folder?"}]}]
        assert "temperature" not in body
    else:
        assert body["messages"][0] == {"role": "system", "content": "Be brief."}
        assert body["temperature"] == 0.3


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("stream", [False, True])
def test_native_tool_calls_round_trip(provider, stream):
    script = [
        {"text": "Searching.", "tool_calls": [
            {"server": "tool-rag", "name": "rag_search", "arguments": {"query": "碳中和 目标"}},
            {"server": "tool-rag", "name": "get_passage", "arguments": {"id": "p-7"}},
        ]},
        {"text": "Final answer [report.pdf, p. 3]."},
    ]
    with ScriptedServer(script) as srv:
        client = client_for(srv, provider, stream=stream)
        reply = client.chat(QUESTION, TOOLS)
        assert [(c.server, c.name, c.arguments, c.error) for c in reply.tool_calls] == [
            ("tool-rag", "rag_search", {"query": "碳中和 目标"}, None),
            ("tool-rag", "get_passage", {"id": "p-7"}, None),
        ]
        assert reply.finish_reason == "tool_calls" and reply.text == "Searching."
        messages = [*QUESTION, reply.to_message()]
        messages += [tool_result_message(c, f"result of {c.name}") for c in reply.tool_calls]
        final = client.chat(messages, TOOLS)
        first, second = srv.requests
    assert final.text == "Final answer [report.pdf, p. 3]." and final.tool_calls == []
    ids = [c.id for c in reply.tool_calls]
    assert len(set(ids)) == 2
    if provider == "openai":
        assert {t["function"]["name"] for t in first["tools"]} == {"tool-rag__rag_search", "tool-rag__get_passage"}
        wire = second["messages"]
        assert [m["role"] for m in wire] == ["system", "user", "assistant", "tool", "tool"]
        assert [c["id"] for c in wire[2]["tool_calls"]] == ids
        assert wire[3] == {"role": "tool", "tool_call_id": ids[0], "content": "result of rag_search"}
    else:
        assert {t["name"] for t in first["tools"]} == {"tool-rag__rag_search", "tool-rag__get_passage"}
        assert first["tools"][0]["input_schema"]["required"] == ["query"]
        wire = second["messages"]
        assert [m["role"] for m in wire] == ["user", "assistant", "user"]
        assert [b["type"] for b in wire[1]["content"]] == ["text", "tool_use", "tool_use"]
        assert wire[1]["content"][1]["input"] == {"query": "碳中和 目标"}
        assert [(b["type"], b["tool_use_id"]) for b in wire[2]["content"]] == [
            ("tool_result", ids[0]), ("tool_result", ids[1])]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("stream", [False, True])
def test_malformed_native_arguments_become_errors(provider, stream):
    script = [{"tool_calls": [
        {"server": "tool-rag", "name": "rag_search", "raw_arguments": '{"query": "unterminated'},
        {"server": "tool-rag", "name": "get_passage", "arguments": {"id": "p1"}},
    ]}]
    with ScriptedServer(script) as srv:
        reply = client_for(srv, provider, stream=stream).chat(QUESTION, TOOLS)
    bad, good = reply.tool_calls
    assert bad.name == "rag_search" and bad.server == "tool-rag"
    assert bad.error and (bad.error.startswith("arguments are not valid JSON:")
                          or bad.error.startswith("arguments must be a JSON object"))
    assert good.error is None and good.arguments == {"id": "p1"}


def _xml(server: str, tool: str, args: str) -> str:
    return (f"<use_mcp_tool>\n<server_name>{server}</server_name>\n<tool_name>{tool}</tool_name>\n"
            f"<arguments>\n{args}\n</arguments>\n</use_mcp_tool>")


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("stream", [False, True])
def test_xml_dialect(provider, stream):
    two = "I need two lookups.\n" + _xml("tool-rag", "rag_search", '{"query": "能源"}') + "\n" + _xml(
        "tool-rag", "get_passage", '{"id": "p-2"}')
    malformed = "Next.\n" + _xml("tool-rag", "rag_search", '{"query": "x"')
    script = [{"text": two}, {"text": malformed}, {"text": "All done."}]
    with ScriptedServer(script) as srv:
        client = client_for(srv, provider, stream=stream, dialect="xml")
        messages = list(QUESTION)
        first = client.chat(messages, TOOLS)
        assert [(c.id, c.server, c.name, c.arguments, c.error) for c in first.tool_calls] == [
            ("xml-1", "tool-rag", "rag_search", {"query": "能源"}, None),
            ("xml-2", "tool-rag", "get_passage", {"id": "p-2"}, None),
        ]
        assert first.finish_reason == "tool_calls"
        messages += [first.to_message(), *(tool_result_message(c, f"<<{c.name} output>>") for c in first.tool_calls)]
        second = client.chat(messages, TOOLS)
        assert len(second.tool_calls) == 1
        bad = second.tool_calls[0]
        assert bad.id == "xml-3" and bad.name == "rag_search"
        assert bad.error and "arguments are not valid JSON" in bad.error
        messages += [second.to_message(), tool_result_message(bad, f"error: {bad.error}")]
        final = client.chat(messages, TOOLS)
        requests = list(srv.requests)
    assert final.text == "All done." and final.tool_calls == [] and final.finish_reason == "stop"
    for body in requests:
        assert "tools" not in body
    last = requests[-1]
    if provider == "openai":
        system = last["messages"][0]["content"]
        wire = last["messages"][1:]
    else:
        system = last["system"]
        wire = last["messages"]
    assert system.startswith("Be brief.") and "<use_mcp_tool>" in system and "Tool name: rag_search" in system
    assert [m["role"] for m in wire] == ["user", "assistant", "user", "assistant", "user"]

    def text_of(m):
        return m["content"] if isinstance(m["content"], str) else "".join(b.get("text", "") for b in m["content"])

    assert text_of(wire[1]) == two
    assert "<<rag_search output>>" in text_of(wire[2]) and "<<get_passage output>>" in text_of(wire[2])
    assert "arguments are not valid JSON" in text_of(wire[4])


@pytest.mark.parametrize("provider", PROVIDERS)
def test_xml_dialect_without_tools_does_not_parse_calls(provider):
    with ScriptedServer([{"text": _xml("s", "t", "{}")}]) as srv:
        reply = client_for(srv, provider, dialect="xml").chat(QUESTION)
        assert "Tool name" not in str(srv.requests[0])
    assert reply.tool_calls == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_429_retry_after_is_honoured(provider, caplog):
    caplog.set_level(logging.WARNING, logger="sourcebook.llm")
    with ScriptedServer([{"fault": 429, "retry_after": 1}, {"text": "ok"}]) as srv:
        started = time.monotonic()
        reply = client_for(srv, provider).chat(QUESTION)
        waited = time.monotonic() - started
        assert len(srv.requests) == 2
    assert reply.text == "ok" and reply.attempts == 2
    assert waited >= 0.95, f"Retry-After of 1 s not honoured (took {waited:.2f}s)"
    assert waited < 3
    assert "HTTP 429" in caplog.text and "Retry-After" in caplog.text


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("stream", [False, True])
def test_500_then_success(provider, stream):
    with ScriptedServer([{"fault": 500}, {"fault": 503}, {"text": "recovered"}]) as srv:
        reply = client_for(srv, provider, stream=stream).chat(QUESTION)
        statuses = [s.status for s in srv.served]
    assert reply.text == "recovered" and reply.attempts == 3
    assert statuses == [500, 503, 200]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_timeout_then_success(provider, caplog):
    caplog.set_level(logging.WARNING, logger="sourcebook.llm")
    with ScriptedServer([{"fault": "timeout", "delay_s": 3}, {"text": "in time"}]) as srv:
        started = time.monotonic()
        reply = client_for(srv, provider, timeout_s=0.5).chat(QUESTION)
        elapsed = time.monotonic() - started
        assert len(srv.requests) == 2
    assert reply.text == "in time" and reply.attempts == 2
    assert 0.45 <= elapsed < 2.5
    assert "Timeout" in caplog.text


@pytest.mark.parametrize("provider", PROVIDERS)
def test_disconnect_then_success(provider):
    with ScriptedServer([{"fault": "disconnect"}, {"text": "back"}]) as srv:
        reply = client_for(srv, provider).chat(QUESTION)
    assert reply.text == "back" and reply.attempts == 2


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("stream", [False, True])
def test_empty_reply(provider, stream):
    with ScriptedServer([{"fault": "empty"}, {"fault": "empty"}, {"text": "finally"}]) as srv:
        faithful = client_for(srv, provider, stream=stream).chat(QUESTION)
        assert faithful.text == "" and faithful.tool_calls == [] and faithful.attempts == 1
        retrying = client_for(srv, provider, stream=stream, retry_empty=True).chat(QUESTION)
        assert retrying.text == "finally" and retrying.attempts == 2
        assert len(srv.requests) == 3


@pytest.mark.parametrize("provider", PROVIDERS)
def test_empty_reply_retries_exhausted_returns_empty(provider):
    policy = RetryPolicy(max_retries=1, base_delay_s=0.01)
    with ScriptedServer([{"fault": "empty"}] * 2, default={"text": "never reached"}) as srv:
        reply = client_for(srv, provider, retry_empty=True, retry=policy).chat(QUESTION)
        assert len(srv.requests) == 2
    assert reply.text == "" and reply.attempts == 2


@pytest.mark.parametrize("provider", PROVIDERS)
def test_client_errors_are_not_retried(provider):
    with ScriptedServer([{"fault": 400}, {"text": "unused"}]) as srv:
        with pytest.raises(LLMError) as info:
            client_for(srv, provider).chat(QUESTION)
        assert len(srv.requests) == 1
    assert info.value.status == 400 and info.value.attempts == 1
    assert "HTTP 400" in str(info.value) and "scripted-model" in str(info.value)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_retries_run_out(provider):
    policy = RetryPolicy(max_retries=2, base_delay_s=0.01)
    with ScriptedServer([{"fault": 502}] * 5) as srv:
        with pytest.raises(LLMError) as info:
            client_for(srv, provider, retry=policy).chat(QUESTION)
        assert len(srv.requests) == 3
    assert info.value.status == 502 and info.value.attempts == 3 and info.value.retryable


def test_backoff_grows_exponentially_with_jitter():
    waits: list[float] = []
    policy = RetryPolicy(max_retries=3, base_delay_s=0.01, max_delay_s=1.0, jitter=0.25)
    with ScriptedServer([{"fault": 500}] * 3 + [{"text": "ok"}]) as srv:
        client = OpenAIClient("m", base_url=srv.openai_base_url, api_key="k", retry=policy, sleep=waits.append)
        assert client.chat(QUESTION).text == "ok"
    assert len(waits) == 3
    for attempt, wait in enumerate(waits, start=1):
        nominal = 0.01 * 2 ** (attempt - 1)
        assert nominal * 0.75 <= wait <= nominal * 1.25


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("stream", [False, True])
def test_usage_is_exact_and_summed(provider, stream):
    script = [
        {"text": "one", "usage": {"prompt_tokens": 120, "completion_tokens": 7}},
        {"tool_calls": [{"server": "tool-rag", "name": "rag_search", "arguments": {"query": "q"}}],
         "usage": {"prompt_tokens": 300, "completion_tokens": 11}},
        {"fault": 500},
        {"text": "three"},
    ]
    prices = PriceTable({"scripted-*": {"input": 1.0, "output": 10.0}})
    with ScriptedServer(script) as srv:
        client = client_for(srv, provider, stream=stream, prices=prices)
        replies = [client.chat(QUESTION, TOOLS) for _ in range(3)]
        served = [(s.prompt_tokens, s.completion_tokens) for s in srv.served if s.status == 200]
    assert [(r.usage.prompt_tokens, r.usage.completion_tokens) for r in replies] == served
    assert served[:2] == [(120, 7), (300, 11)]
    assert client.calls == 3
    assert client.usage.prompt_tokens == sum(p for p, _ in served)
    assert client.usage.completion_tokens == sum(c for _, c in served)
    assert replies[0].cost_usd == pytest.approx((120 * 1.0 + 7 * 10.0) / 1e6)
    assert client.cost_usd == pytest.approx(sum(p * 1.0 + c * 10.0 for p, c in served) / 1e6)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_keys_never_logged(provider, caplog):
    caplog.set_level(logging.DEBUG)
    settings = LLMSettings(provider=provider, model="scripted-model", api_key=SECRET, max_retries=2)
    with ScriptedServer([{"fault": 429, "retry_after": 0}, {"fault": 400}]) as srv:
        settings.base_url = srv.openai_base_url if provider == "openai" else srv.anthropic_base_url
        client = make_client(settings, retry=FAST)
        assert client is not None
        with pytest.raises(LLMError) as info:
            client.chat(QUESTION, TOOLS)
        assert srv.served[0].headers  # the key did go over the wire...
    assert caplog.records, "expected some log output"
    assert SECRET not in caplog.text  # ...but never into the log
    assert SECRET not in str(info.value) and SECRET not in repr(client)
    assert SECRET not in repr(settings)


def test_make_client():
    assert make_client(LLMSettings()) is None
    assert make_client(LLMSettings(model="  ")) is None
    oa = make_client(LLMSettings(model="qwen3", provider="vllm", base_url="http://127.0.0.1:9/v1", dialect="xml"))
    assert isinstance(oa, OpenAIClient) and oa.dialect == "xml" and oa.model == "qwen3"
    an = make_client(LLMSettings(model="claude-x", provider="anthropic", max_retries=7, timeout_s=9))
    assert isinstance(an, AnthropicClient) and an.retry.max_retries == 7 and an.timeout_s == 9
    vision = make_client(LLMSettings(model="a", vision_model="v"), model="v")
    assert vision is not None and vision.model == "v"
    with pytest.raises(ValueError, match="unknown LLM provider 'gemini'"):
        make_client(LLMSettings(model="m", provider="gemini"))
    with pytest.raises(ValueError, match="unknown tool-call dialect"):
        make_client(LLMSettings(model="m", dialect="json"))


def test_make_client_end_to_end_from_environment(monkeypatch):
    from sourcebook.config import get_settings

    with ScriptedServer([{"text": "env ok"}]) as srv:
        monkeypatch.setenv("SOURCEBOOK_LLM__MODEL", "env-model")
        monkeypatch.setenv("SOURCEBOOK_LLM__BASE_URL", srv.openai_base_url)
        monkeypatch.setenv("SOURCEBOOK_LLM__API_KEY", SECRET)
        client = make_client(get_settings().llm)
        assert client is not None and client.chat(QUESTION).text == "env ok"
        assert srv.requests[0]["model"] == "env-model"


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("stream", [False, True])
def test_truncated_answer_is_retried(provider, stream):
    with ScriptedServer([{"fault": "truncate", "text": "x" * 200}, {"text": "complete"}]) as srv:
        reply = client_for(srv, provider, stream=stream).chat(QUESTION)
        assert len(srv.requests) == 2
    assert reply.text == "complete" and reply.attempts == 2
