"""Tool-call dialects and message conversion (pure functions, no network)."""

from __future__ import annotations

import re

from sourcebook.llm.dialects import (
    ToolNameMap,
    check_dialect,
    encode_tool_name,
    native_tool_call,
    parse_xml_tool_calls,
    strip_xml_tool_calls,
    xml_tools_prompt,
)
from sourcebook.llm.messages import to_anthropic, to_openai_native, to_xml_dialect
from sourcebook.llm.types import ChatResponse, ToolCall, ToolSpec, tool_result_message

TOOLS = [
    ToolSpec("tool-rag", "rag_search", "Search the passages.", {
        "type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}),
    ToolSpec("tool-rag", "get_passage", "Fetch one passage.", {
        "type": "object", "properties": {"id": {"type": "string"}}}),
    ToolSpec("tool.python", "run code", "Run Python.", {"type": "object", "properties": {}}),
]

WIRE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def test_wire_names_are_valid_and_decode_back():
    names = ToolNameMap(TOOLS)
    for tool in TOOLS:
        wire = encode_tool_name(tool.server, tool.name)
        assert WIRE.match(wire), wire
        assert names.decode(wire) == (tool.server, tool.name)
    assert encode_tool_name("tool-rag", "rag_search") == "tool-rag__rag_search"


def test_long_wire_names_are_cut_with_a_hash_and_stay_distinct():
    a = encode_tool_name("s" * 40, "a" * 40)
    b = encode_tool_name("s" * 40, "a" * 39 + "b")
    assert len(a) == 64 and WIRE.match(a)
    assert a != b
    names = ToolNameMap([ToolSpec("s" * 40, "a" * 40, "", {})])
    assert names.decode(a) == ("s" * 40, "a" * 40)


def test_decode_fallbacks():
    names = ToolNameMap(TOOLS)
    assert names.decode("rag_search") == ("tool-rag", "rag_search")  # server prefix dropped by the model
    assert names.decode("other__thing") == ("other", "thing")
    assert names.decode("bare") == ("", "bare")


def test_native_tool_call_arguments():
    names = ToolNameMap(TOOLS)
    ok = native_tool_call("c1", "tool-rag__rag_search", '{"query": "碳排放"}', names)
    assert ok == ToolCall("c1", "tool-rag", "rag_search", {"query": "碳排放"}, None)
    bad = native_tool_call("c2", "tool-rag__rag_search", '{"query": ', names)
    assert bad.error and bad.error.startswith("arguments are not valid JSON: ")
    listy = native_tool_call("c3", "tool-rag__rag_search", "[1, 2]", names)
    assert listy.error == "arguments must be a JSON object, got list"
    empty = native_tool_call("c4", "tool-rag__get_passage", "", names)
    assert empty.arguments == {} and empty.error is None
    decoded = native_tool_call("c5", "tool-rag__get_passage", {"id": "p1"}, names)
    assert decoded.arguments == {"id": "p1"}


def test_check_dialect():
    assert check_dialect("XML") == "xml"
    assert check_dialect("") == "native"
    try:
        check_dialect("json")
    except ValueError as exc:
        assert "native" in str(exc) and "xml" in str(exc)
    else:
        raise AssertionError("unknown dialect accepted")


def test_xml_prompt_lists_servers_tools_schemas_and_format():
    prompt = xml_tools_prompt(TOOLS)
    assert "<use_mcp_tool>" in prompt and "</use_mcp_tool>" in prompt
    assert "<server_name>" in prompt and "<arguments>" in prompt
    assert "Server name: tool-rag" in prompt and "Server name: tool.python" in prompt
    assert "Tool name: rag_search" in prompt and "Tool name: get_passage" in prompt
    assert '"required": ["query"]' in prompt
    assert prompt.count("Server name: tool-rag") == 1


def _call(server: str, tool: str, args: str) -> str:
    return (f"<use_mcp_tool>\n<server_name>{server}</server_name>\n<tool_name>{tool}</tool_name>\n"
            f"<arguments>\n{args}\n</arguments>\n</use_mcp_tool>")


def test_parse_two_xml_calls_in_one_message():
    text = ("I will search twice.\n" + _call("tool-rag", "rag_search", '{"query": "a"}') + "\n"
            + _call("tool-rag", "get_passage", '{"id": "p\\"1"}'))
    calls = parse_xml_tool_calls(text, start=3)
    assert [c.id for c in calls] == ["xml-3", "xml-4"]
    assert calls[0] == ToolCall("xml-3", "tool-rag", "rag_search", {"query": "a"}, None)
    assert calls[1].arguments == {"id": 'p"1'} and calls[1].error is None


def test_parse_malformed_xml_calls_never_raises():
    bad_json = parse_xml_tool_calls(_call("tool-rag", "rag_search", '{"query": "a",}'))
    assert len(bad_json) == 1 and bad_json[0].error
    assert "arguments are not valid JSON" in bad_json[0].error
    assert bad_json[0].server == "tool-rag" and bad_json[0].name == "rag_search"

    missing = parse_xml_tool_calls("<use_mcp_tool><tool_name>x</tool_name><arguments>{}</arguments></use_mcp_tool>")
    assert missing[0].error and "missing <server_name>" in missing[0].error

    no_args = parse_xml_tool_calls("<use_mcp_tool><server_name>s</server_name><tool_name>x</tool_name></use_mcp_tool>")
    assert "missing <arguments>" in (no_args[0].error or "")

    unclosed = parse_xml_tool_calls(
        '<use_mcp_tool><server_name>s</server_name><tool_name>x</tool_name><arguments>{"a": 1}</arguments>')
    assert len(unclosed) == 1
    assert "not closed (missing </use_mcp_tool>)" in (unclosed[0].error or "")
    assert unclosed[0].arguments == {"a": 1}

    open_tag = parse_xml_tool_calls("<use_mcp_tool><server_name>s</server_name><tool_name>x")
    assert "<tool_name> is not closed" in (open_tag[0].error or "")

    empty_name = parse_xml_tool_calls(_call("s", " ", "{}"))
    assert "<tool_name> is empty" in (empty_name[0].error or "")

    not_object = parse_xml_tool_calls(_call("s", "t", '"just a string"'))
    assert "must be a JSON object" in (not_object[0].error or "")


def test_unclosed_block_followed_by_a_good_one():
    text = "<use_mcp_tool><server_name>s</server_name>\n" + _call("s", "t", '{"k": "v"}')
    calls = parse_xml_tool_calls(text)
    assert len(calls) == 2
    assert calls[0].error and "not closed" in calls[0].error
    assert calls[1].error is None and calls[1].arguments == {"k": "v"}


def test_xml_parsing_ignores_think_and_accepts_fenced_json():
    text = ("<think>maybe " + _call("s", "ignored", "{}") + "</think>\n"
            + _call("s", "t", '```json\n{"q": "x\ny"}\n```'))
    calls = parse_xml_tool_calls(text)
    assert [c.name for c in calls] == ["t"]
    assert calls[0].arguments == {"q": "x\ny"}  # raw newline inside a string is tolerated
    assert parse_xml_tool_calls("no tools here") == []
    assert strip_xml_tool_calls("Answer.\n" + _call("s", "t", "{}")) == "Answer."


def _conversation() -> list[dict]:
    first = ChatResponse(text="Searching.", tool_calls=[
        ToolCall("c1", "tool-rag", "rag_search", {"query": "a"}),
        ToolCall("c2", "tool-rag", "get_passage", {"id": "p1"}),
    ])
    return [
        {"role": "system", "content": "You are careful."},
        {"role": "user", "content": "Question?"},
        first.to_message(),
        tool_result_message(first.tool_calls[0], "result one"),
        tool_result_message(first.tool_calls[1], "result two"),
        {"role": "user", "content": "Go on."},
    ]


def test_anthropic_conversion():
    system, turns = to_anthropic(_conversation(), ToolNameMap(TOOLS))
    assert system == "You are careful."
    assert [t["role"] for t in turns] == ["user", "assistant", "user"]
    assistant = turns[1]["content"]
    assert assistant[0] == {"type": "text", "text": "Searching."}
    assert assistant[1] == {"type": "tool_use", "id": "c1", "name": "tool-rag__rag_search", "input": {"query": "a"}}
    merged_user = turns[2]["content"]
    assert [b["type"] for b in merged_user] == ["tool_result", "tool_result", "text"]
    assert merged_user[0]["tool_use_id"] == "c1" and merged_user[1]["content"] == "result two"


def test_anthropic_conversion_starts_with_user_and_maps_images():
    _, turns = to_anthropic([
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        ]},
    ], ToolNameMap())
    assert turns[0]["role"] == "user"
    image = turns[2]["content"][1]
    assert image == {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}


def test_xml_conversion_renders_calls_and_results_as_text():
    wire = to_xml_dialect(_conversation(), ToolNameMap(TOOLS))
    assert [m["role"] for m in wire] == ["system", "user", "assistant", "user"]
    assert all("tool_calls" not in m for m in wire)
    calls = parse_xml_tool_calls(wire[2]["content"])
    assert [(c.server, c.name, c.arguments) for c in calls] == [
        ("tool-rag", "rag_search", {"query": "a"}), ("tool-rag", "get_passage", {"id": "p1"})]
    assert "result one" in wire[3]["content"] and "result two" in wire[3]["content"]
    assert "tool-rag/rag_search" in wire[3]["content"] and wire[3]["content"].endswith("Go on.")


def test_xml_conversion_keeps_assistant_text_that_already_has_calls():
    raw = "Let me look.\n" + _call("tool-rag", "rag_search", '{"query": "a"}')
    reply = ChatResponse(text=raw, tool_calls=parse_xml_tool_calls(raw))
    wire = to_xml_dialect([{"role": "user", "content": "q"}, reply.to_message()], ToolNameMap(TOOLS))
    assert wire[1]["content"] == raw


def test_openai_native_conversion_repairs_bad_arguments():
    message = {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "s__t", "arguments": "{broken"}}]}
    wire = to_openai_native([message])
    assert wire[0]["tool_calls"][0]["function"]["arguments"] == "{}"
    assert wire[0]["content"] == ""
    assert message["tool_calls"][0]["function"]["arguments"] == "{broken"  # input untouched


def test_history_tool_names_are_normalised_for_the_wire():
    message = {"role": "assistant", "content": "", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "tool.python__run code", "arguments": "{}"}}]}
    names = ToolNameMap(TOOLS)
    assert to_openai_native([message], names)[0]["tool_calls"][0]["function"]["name"] == "tool_python__run_code"
    _, turns = to_anthropic([{"role": "user", "content": "q"}, message], names)
    assert turns[1]["content"][0]["name"] == "tool_python__run_code"
    assert WIRE.match(turns[1]["content"][0]["name"])
