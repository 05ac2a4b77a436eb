"""The agent loop end to end: real OpenAI and Anthropic SDK clients talking to the scripted HTTP server, in
both tool-call dialects, over a real ingested folder; faults, repeats, compaction, limits, boxed answers."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from sourcebook.agent.loop import AgentLoop, run_agent
from sourcebook.config import get_settings
from sourcebook.ingest.folder import ingest_folder
from sourcebook.llm import RetryPolicy, make_client
from sourcebook.llm.dialects import format_xml_tool_call
from sourcebook.llm.scripted import ScriptedServer
from sourcebook.llm.types import ToolCall
from sourcebook.records import RunDir
from sourcebook.tools.builtin import build_registry
from tests.test_tools_registry import make_task_folder

HAS_MEDIA = importlib.util.find_spec("sourcebook.tools.media_tools") is not None
REQUEST = "写一段300字左右的社区储能总结，注明出处。"
FINAL = "社区储能电站2023年试点装机5兆瓦 [notes.md]，晚高峰负荷下降18% [field.txt]。"
COMBOS = [("openai", "native"), ("anthropic", "native"), ("openai", "xml"), ("anthropic", "xml")]


@pytest.fixture(scope="module")
def task(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("agent")
    folder = make_task_folder(root)
    if HAS_MEDIA:
        from tests.mediagen import slide, write_video

        write_video(folder / "clip.mp4", [(slide("储能 示范项目"), 2.0), (slide("Peak load -18%"), 2.0)])
    settings = get_settings(cache_dir=root / "cache", search={"dense": False}, runs_dir=root / "runs")
    report = ingest_folder(folder, settings)
    reg = build_registry(report.store, folder, settings, mount_external=False)
    yield folder, report.store, reg, settings
    reg.close()


def call(dialect: str, server: str, name: str, arguments: dict[str, Any], raw: str | None = None) -> dict:
    """A scripted turn in which the model calls one tool, in the given dialect."""
    if dialect == "native":
        c: dict[str, Any] = {"server": server, "name": name}
        c.update({"raw_arguments": raw} if raw is not None else {"arguments": arguments})
        return {"tool_calls": [c]}
    if raw is not None:
        text = (f"<use_mcp_tool>\n<server_name>{server}</server_name>\n<tool_name>{name}</tool_name>\n"
                f"<arguments>\n{raw}\n</arguments>\n</use_mcp_tool>")
    else:
        text = format_xml_tool_call(ToolCall("x", server, name, arguments))
    return {"text": "I will check the sources.\n" + text}


def client_for(srv: ScriptedServer, settings, provider: str, dialect: str, timeout_s: float = 10.0, retries: int = 4):
    llm = settings.llm.model_copy(update={
        "provider": provider, "dialect": dialect, "model": "scripted", "api_key": SecretStr("test-key"),
        "base_url": srv.openai_base_url if provider == "openai" else srv.anthropic_base_url,
        "timeout_s": timeout_s,
    })
    return make_client(llm, retry=RetryPolicy(max_retries=retries, base_delay_s=0.05, max_delay_s=0.2))


def new_run(settings, folder: Path, request: str = REQUEST) -> RunDir:
    return RunDir.create(settings.runs_dir, folder, request, settings)


def tool_events(rd: RunDir) -> list[dict]:
    return [e for e in rd.events() if e["type"] == "tool"]


@pytest.mark.parametrize(("provider", "dialect"), COMBOS)
def test_multi_turn_run_both_sdks_both_dialects(task, provider: str, dialect: str) -> None:
    folder, store, reg, settings = task
    turns = [
        call(dialect, "tool-rag", "rag_document_stats", {}),
        call(dialect, "tool-rag", "rag_search", {"query": "储能 装机容量", "k": 5}),
        call(dialect, "tool-reader", "read_file", {"path": "paper.pdf", "pages": "2-3"}),
        call(dialect, "tool-rag", "rag_search", {"query": "evening peak load", "k": 3}),
    ]
    if HAS_MEDIA:
        turns.append(call(dialect, "tool-video-enhanced", "video_understanding_advanced", {"path": "clip.mp4"}))
    turns.append({"text": FINAL})
    with ScriptedServer(turns) as srv:
        client = client_for(srv, settings, provider, dialect)
        rd = new_run(settings, folder)
        result = run_agent(client, store, REQUEST, rd, registry=reg, settings=settings)
        served = list(srv.served)
        requests = list(srv.requests)
    assert result.final_text == FINAL
    assert result.stopped == "answer" and not result.extractive
    assert result.turns == len(turns) and result.tool_calls == len(turns) - 1
    tools = tool_events(rd)
    assert [t["name"] for t in tools] == [
        "rag_document_stats", "rag_search", "read_file", "rag_search"] + (
        ["video_understanding_advanced"] if HAS_MEDIA else [])
    assert all(t["error"] is None for t in tools), [t["result"][:200] for t in tools if t["error"]]
    assert "battery chemistry" in tools[2]["result"] and "grid frequency" not in tools[2]["result"]
    # every hit the model saw counts as gathered evidence, and the ids resolve in the store
    assert result.passage_ids and all(store.get_passage(p) for p in result.passage_ids)
    notes_ids = {p.id for p in store.passages("notes.md")}
    assert notes_ids & set(result.passage_ids)
    # the second request carries the first tool result back to the model, in the dialect's shape
    wire = json.dumps(requests[1], ensure_ascii=False)
    assert "notes.md" in wire
    if dialect == "native":
        assert "tools" in requests[0]
    else:
        assert "use_mcp_tool" in wire
    # usage summed from what the server reported
    assert result.usage.prompt_tokens == sum(s.prompt_tokens for s in served)
    assert result.usage.completion_tokens == sum(s.completion_tokens for s in served)
    events = rd.events()
    assert events[0]["type"] == "start" and "## The task folder" in events[0]["system"]
    assert events[-1]["type"] == "final" and events[-1]["final_text"] == FINAL
    turn_events = [e for e in events if e["type"] == "turn"]
    assert turn_events[0]["messages_delta"][1]["content"] == REQUEST
    assert all("llm_s" in e and "usage" in e for e in turn_events)
    assert json.loads((rd.path / "agent_result.json").read_text())["final_text"] == FINAL


@pytest.mark.parametrize(("provider", "dialect"), [("openai", "native"), ("anthropic", "xml")])
def test_faults_still_finish(task, provider: str, dialect: str) -> None:
    """~30 % of the model's replies fail (429, 500, timeout, malformed call, empty); the run still answers."""
    folder, store, reg, settings = task
    turns = [
        call(dialect, "tool-rag", "rag_search", {"query": "储能"}),
        {"fault": 429, "retry_after": 1},
        call(dialect, "tool-rag", "rag_search", {"query": "x"}, raw='{"query": "unterminated'),
        call(dialect, "tool-reader", "read_file", {"path": "notes.md"}),
        {"fault": 500},
        call(dialect, "tool-rag", "rag_search", {"query": "peak load"}),
        {"fault": "timeout", "delay_s": 2.5},
        {"fault": "empty"},
        call(dialect, "tool-rag", "rag_search", {"query": "度电成本"}),
        {"text": FINAL},
    ]
    with ScriptedServer(turns) as srv:
        client = client_for(srv, settings, provider, dialect, timeout_s=1.0)
        rd = new_run(settings, folder)
        result = run_agent(client, store, REQUEST, rd, registry=reg, settings=settings)
        n_requests = len(srv.requests)
    assert result.final_text == FINAL and result.stopped == "answer"
    assert n_requests == len(turns)
    tools = tool_events(rd)
    malformed = [t for t in tools if t["error"] and "json" in t["error"].lower()]
    assert len(malformed) == 1 and malformed[0]["result"].startswith("ERROR")
    assert [t["name"] for t in tools if not t["error"]] == ["rag_search", "read_file", "rag_search", "rag_search"]
    # the empty reply got a nudge rather than ending the run
    assert any(e["type"] == "turn" and e["response"]["text"] == "" and not e["response"]["tool_calls"]
               for e in rd.events())


def test_identical_calls_are_answered_from_cache(task) -> None:
    folder, store, reg, settings = task
    q = {"query": "社区储能 出力波动", "k": 4}
    turns = [call("native", "tool-rag", "rag_search", q), call("native", "tool-rag", "rag_search", dict(q)),
             call("native", "tool-reader", "read_file", {"path": "notes.md"}),
             call("native", "tool-reader", "read_file", {"path": "notes.md"}), {"text": FINAL}]
    with ScriptedServer(turns) as srv:
        rd = new_run(settings, folder)
        run_agent(client_for(srv, settings, "openai", "native"), store, REQUEST, rd, registry=reg)
    tools = tool_events(rd)
    assert [t["cached"] for t in tools] == [False, True, False, True]
    assert "already made in turn 1" in tools[1]["result"]
    assert tools[1]["result"].startswith(tools[0]["result"])


def test_old_tool_results_are_compacted(task) -> None:
    folder, store, reg, settings = task
    turns = [call("native", "tool-rag", "rag_search", {"query": q}) for q in ("储能", "peak load", "battery")]
    turns.append({"text": FINAL})
    with ScriptedServer(turns) as srv:
        rd = new_run(settings, folder)
        loop = AgentLoop(client_for(srv, settings, "openai", "native"), reg, store, REQUEST, rd, keep_last=1)
        loop.run()
        last = srv.requests[-1]
    tool_msgs = [m for m in last["messages"] if m["role"] == "tool"]
    assert len(tool_msgs) == 3
    assert tool_msgs[0]["content"].startswith("[compacted earlier result of tool-rag/rag_search(query='储能')")
    assert "passages: p" in tool_msgs[0]["content"]
    assert tool_msgs[-1]["content"].startswith("{")  # the latest stays in full
    assert [e["compacted"] for e in rd.events() if e["type"] == "turn"] == [0, 0, 1, 2]


def test_max_turns_then_final_answer_without_tools(task) -> None:
    folder, store, reg, settings = task
    loop_call = call("native", "tool-rag", "rag_search", {"query": "储能"})
    turns = [call("native", "tool-rag", "rag_search", {"query": f"q{i}"}) for i in range(3)]
    turns.append({"text": "Final after the limit [notes.md]"})
    with ScriptedServer(turns, default=loop_call) as srv:
        rd = new_run(settings, folder)
        result = run_agent(client_for(srv, settings, "openai", "native"), store, REQUEST, rd, registry=reg,
                           max_turns=3)
        last = srv.requests[-1]
    assert result.stopped == "max_turns" and result.turns == 3
    assert result.final_text == "Final after the limit [notes.md]"
    assert "tools" not in last  # the final request offers no tools
    assert "Stop using tools now" in last["messages"][-1]["content"]


def test_never_empty_extractive_fallback(task) -> None:
    folder, store, reg, settings = task
    with ScriptedServer([], default={"fault": "empty"}) as srv:
        rd = new_run(settings, folder)
        result = run_agent(client_for(srv, settings, "anthropic", "native"), store, REQUEST, rd, registry=reg)
    assert result.extractive and result.stopped == "empty"
    assert "[notes.md" in result.final_text and "[@p" in result.final_text
    assert result.passage_ids


def test_llm_down_still_answers(task) -> None:
    folder, store, reg, settings = task
    with ScriptedServer([], default={"fault": 500}) as srv:
        rd = new_run(settings, folder)
        result = run_agent(client_for(srv, settings, "openai", "native", retries=1), store, REQUEST, rd,
                           registry=reg)
    assert result.stopped == "llm_error" and result.extractive and result.final_text.strip()
    assert [e["type"] for e in rd.events()].count("llm_error") == 2


def test_token_budget_stops_the_run(task) -> None:
    folder, store, reg, settings = task
    counter = iter(range(100))

    def respond(body: dict) -> dict:
        # keep calling tools while tools are offered; answer once they are withdrawn
        if "tools" in body:
            return call("native", "tool-rag", "rag_search", {"query": f"q{next(counter)}"})
        return {"text": "budget answer"}

    with ScriptedServer([], default={"respond": respond}) as srv:
        rd = new_run(settings, folder)
        result = run_agent(client_for(srv, settings, "openai", "native"), store, REQUEST, rd, registry=reg,
                           max_tokens=3000)
    assert result.stopped == "token_budget" and result.turns < 10
    assert result.final_text == "budget answer"


def test_boxed_answer_requested(task) -> None:
    folder, store, reg, settings = task
    request = r"试点项目的装机容量是多少兆瓦？请把最终答案写在 \boxed{} 中。"
    turns = [call("native", "tool-rag", "rag_search", {"query": "装机容量"}), {"text": "装机容量为5兆瓦。"},
             {"text": r"\boxed{5}"}]
    with ScriptedServer(turns) as srv:
        rd = new_run(settings, folder, request)
        result = run_agent(client_for(srv, settings, "openai", "xml"), store, request, rd, registry=reg)
        first_system = srv.requests[0]["messages"][0]["content"]
    assert "\\boxed" in first_system
    assert result.boxed == "5" and result.final_text.endswith("\\boxed{5}")
