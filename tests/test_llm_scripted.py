"""The scripted LLM server itself, spoken to with plain HTTP (httpx) to check the wire formats."""

from __future__ import annotations

import json

import httpx
import pytest

from sourcebook.llm.scripted import ScriptedServer, validate_turn

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hello there"}]}
MSG = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hello there"}]}


def _sse(text: str) -> list[tuple[str | None, str]]:
    events = []
    for block in text.strip().split("\n\n"):
        event, data = None, ""
        for line in block.splitlines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
        events.append((event, data))
    return events


def test_openai_wire_format_non_streaming():
    turn = {"text": "", "tool_calls": [{"server": "tool-rag", "name": "rag_search", "arguments": {"q": 1}}]}
    with ScriptedServer([turn]) as srv:
        body = httpx.post(f"{srv.openai_base_url}/chat/completions", json=CHAT).json()
    choice = body["choices"][0]
    assert body["object"] == "chat.completion" and body["model"] == "m"
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    call = choice["message"]["tool_calls"][0]
    assert call["function"] == {"name": "tool-rag__rag_search", "arguments": '{"q": 1}'}
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]


def test_openai_wire_format_streaming_with_usage():
    with ScriptedServer([{"text": "abcdefghijklmnopqrstuvwxyz", "reasoning": "hmm"}], chunk_chars=5) as srv:
        response = httpx.post(f"{srv.openai_base_url}/chat/completions",
                              json={**CHAT, "stream": True, "stream_options": {"include_usage": True}})
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _sse(response.text)
    assert events[-1] == (None, "[DONE]")
    chunks = [json.loads(d) for _, d in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "abcdefghijklmnopqrstuvwxyz"
    assert sum(1 for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")) == 6
    assert "".join(c["choices"][0]["delta"].get("reasoning_content") or "" for c in chunks if c["choices"]) == "hmm"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 7
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"


def test_anthropic_wire_format_both_ways():
    turn = {"text": "hi", "tool_calls": [{"server": "s", "name": "t", "arguments": {"a": "b"}}]}
    with ScriptedServer([turn, turn]) as srv:
        plain = httpx.post(f"{srv.anthropic_base_url}/v1/messages", json=MSG).json()
        streamed = httpx.post(f"{srv.anthropic_base_url}/v1/messages", json={**MSG, "stream": True}).text
    assert plain["type"] == "message" and plain["stop_reason"] == "tool_use"
    assert plain["content"][0] == {"type": "text", "text": "hi"}
    assert plain["content"][1]["type"] == "tool_use" and plain["content"][1]["input"] == {"a": "b"}
    assert plain["content"][1]["name"] == "s__t"
    events = _sse(streamed)
    names = [e for e, _ in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    deltas = [json.loads(d)["delta"] for e, d in events if e == "content_block_delta"]
    assert "".join(d.get("partial_json", "") for d in deltas) == '{"a": "b"}'
    assert json.loads(events[-2][1])["delta"]["stop_reason"] == "tool_use"


def test_faults_and_error_bodies():
    script = [{"fault": 429, "retry_after": 2}, {"fault": "503"}, {"fault": 529}]
    with ScriptedServer(script) as srv:
        limited = httpx.post(f"{srv.openai_base_url}/chat/completions", json=CHAT)
        unavailable = httpx.post(f"{srv.openai_base_url}/chat/completions", json=CHAT)
        overloaded = httpx.post(f"{srv.anthropic_base_url}/v1/messages", json=MSG)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
    assert limited.json()["error"]["type"] == "rate_limit_error"
    assert unavailable.status_code == 503
    assert overloaded.status_code == 529
    assert overloaded.json() == {"type": "error", "error": {"type": "overloaded_error",
                                                            "message": "scripted fault 529"}}


def test_default_reply_after_script_and_dynamic_turns():
    with ScriptedServer([{"text": "first"}], default={"text": "fallback"}) as srv:
        def text():
            return httpx.post(f"{srv.openai_base_url}/chat/completions", json=CHAT).json()[
                "choices"][0]["message"]["content"]

        assert srv.remaining == 1
        assert text() == "first"
        assert srv.remaining == 0
        assert text() == "fallback"
        srv.add({"text": "added"})
        assert text() == "added"
        assert len(srv.requests) == 3 and srv.requests[0] == CHAT


def test_respond_callable_sees_the_request():
    def respond(request: dict) -> dict:
        last = request["messages"][-1]["content"]
        return {"text": f"echo: {last}"}

    with ScriptedServer([{"respond": respond}, {"respond": lambda _: None}], default={"text": "dflt"}) as srv:
        first = httpx.post(f"{srv.openai_base_url}/chat/completions", json=CHAT).json()
        second = httpx.post(f"{srv.openai_base_url}/chat/completions", json=CHAT).json()
    assert first["choices"][0]["message"]["content"] == "echo: hello there"
    assert second["choices"][0]["message"]["content"] == "dflt"


def test_routes_and_bad_requests():
    with ScriptedServer(model="served-model") as srv:
        models = httpx.get(f"{srv.openai_base_url}/models").json()
        missing = httpx.post(f"{srv.url}/v1/embeddings", json={})
        bad = httpx.post(f"{srv.openai_base_url}/chat/completions", content=b"{not json",
                         headers={"content-type": "application/json"})
        assert srv.requests == []
    assert models["data"][0]["id"] == "served-model"
    assert missing.status_code == 404
    assert bad.status_code == 400 and "invalid JSON body" in bad.json()["error"]["message"]


def test_from_file_yaml_and_json(tmp_path):
    yaml_script = tmp_path / "script.yaml"
    yaml_script.write_text(
        "turns:\n"
        "  - text: 你好\n"
        "  - tool_calls:\n"
        "      - {server: tool-rag, name: rag_search, arguments: {query: 能源}}\n"
        "  - fault: 429\n"
        "    retry_after: 1\n"
        "default: {text: bye}\n", encoding="utf-8")
    srv = ScriptedServer.from_file(yaml_script)
    assert len(srv.turns) == 3 and srv.default == {"text": "bye"}
    assert srv.turns[1]["tool_calls"][0]["arguments"] == {"query": "能源"}
    json_script = tmp_path / "script.json"
    json_script.write_text(json.dumps([{"text": "a"}, {"fault": "empty"}]), encoding="utf-8")
    with ScriptedServer.from_file(json_script) as served:
        reply = httpx.post(f"{served.openai_base_url}/chat/completions", json=CHAT).json()
        empty = httpx.post(f"{served.openai_base_url}/chat/completions", json=CHAT).json()
    assert reply["choices"][0]["message"]["content"] == "a"
    assert empty["choices"][0]["message"]["content"] == "" and "tool_calls" not in empty["choices"][0]["message"]


@pytest.mark.parametrize(("content", "message"), [
    ("- {txt: typo}\n", "turn 0: unknown key(s) ['txt']"),
    ("- fault: teapot\n", "fault must be an HTTP status"),
    ("- fault: 200\n", "fault status must be >= 400"),
    ("- tool_calls: [{arguments: {}}]\n", "tool_calls[0] needs at least a 'name'"),
    ("just: [a, mapping]\n", "a list of turns"),
    ("- [unclosed\n", "cannot read LLM script"),
])
def test_bad_scripts_name_the_file_and_the_problem(tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError) as info:
        ScriptedServer.from_file(path)
    assert str(path) in str(info.value) and message in str(info.value)


def test_missing_script_file(tmp_path):
    with pytest.raises(ValueError, match="cannot read LLM script"):
        ScriptedServer.from_file(tmp_path / "nope.yaml")


def test_validate_turn_rejects_non_mappings():
    with pytest.raises(ValueError, match="must be a mapping"):
        validate_turn(["text"])
    with pytest.raises(ValueError, match="callable"):
        validate_turn({"respond": "callable"})


def test_address_before_start_is_an_error():
    srv = ScriptedServer()
    with pytest.raises(RuntimeError, match="not running"):
        _ = srv.openai_base_url
