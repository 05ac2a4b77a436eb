"""A run killed with SIGKILL after turn 3 resumes from its trace without repeating any tool call."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pydantic import SecretStr

from sourcebook.agent.loop import resume
from sourcebook.config import get_settings
from sourcebook.ingest.folder import ingest_folder
from sourcebook.llm import RetryPolicy, make_client
from sourcebook.llm.scripted import ScriptedServer
from sourcebook.records import RunDir
from tests.test_tools_registry import make_task_folder

PLAN = [
    ("tool-rag", "rag_search", {"query": "社区储能"}),
    ("tool-reader", "read_file", {"path": "paper.pdf", "pages": "1"}),
    ("tool-rag", "rag_search", {"query": "peak load"}),
    ("tool-reader", "read_file", {"path": "notes.md"}),
    ("tool-rag", "rag_search", {"query": "tariff design"}),
    ("tool-reader", "convert_to_markdown", {"path": "paper.pdf", "pages": "3-4"}),
]
FINAL = "Resumed answer [notes.md] [paper.pdf, p. 3]"


def respond(body: dict) -> dict:
    """Stateless model: the next step is decided by how many tool results the conversation holds."""
    done = sum(1 for m in body["messages"] if m.get("role") == "tool")
    if done < len(PLAN):
        server, name, args = PLAN[done]
        return {"tool_calls": [{"server": server, "name": name, "arguments": args}], "delay_s": 0.4}
    return {"text": FINAL}


def test_sigkill_after_turn_3_then_resume(tmp_path: Path) -> None:
    folder = make_task_folder(tmp_path)
    os.environ["SOURCEBOOK_SEARCH__DENSE"] = "false"
    try:
        settings = get_settings()
        ingest_folder(folder, settings)  # the child reuses this cache
        runs = tmp_path / "runs"
        with ScriptedServer([], default={"respond": respond}) as srv:
            env = {**os.environ, "SOURCEBOOK_LLM__API_KEY": "test-key", "PYTHONUNBUFFERED": "1"}
            cmd = [sys.executable, "-m", "sourcebook.agent", "run", str(folder), "总结社区储能", "--model",
                   "scripted", "--provider", "openai", "--base-url", srv.openai_base_url, "--runs-dir", str(runs),
                   "--no-report", "--max-turns", "12"]
            child = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            trace = None
            deadline = time.monotonic() + 120
            try:
                while time.monotonic() < deadline:
                    found = list(runs.glob("*/trace.jsonl")) if runs.exists() else []
                    if found:
                        trace = found[0]
                        tools = [ln for ln in trace.read_text(encoding="utf-8").splitlines() if '"type": "tool"' in ln]
                        if len(tools) >= 3:
                            break
                    assert child.poll() is None, child.stderr.read().decode()[-2000:]
                    time.sleep(0.05)
                else:
                    raise AssertionError("child never reached turn 3")
            finally:
                child.send_signal(signal.SIGKILL)
                child.wait(timeout=10)
            assert child.returncode == -signal.SIGKILL
            assert trace is not None
            before = RunDir.open(trace.parent).events()
            assert not any(e["type"] == "final" for e in before)
            done_before = [e for e in before if e["type"] == "tool"]
            assert 3 <= len(done_before) < len(PLAN)

            llm = settings.llm.model_copy(update={"model": "scripted", "base_url": srv.openai_base_url,
                                                  "api_key": SecretStr("test-key")})
            client = make_client(llm, retry=RetryPolicy(max_retries=2, base_delay_s=0.05))
            store = ingest_folder(folder, settings).store
            result = resume(trace.parent, client, store, settings=settings)
            n_requests = len(srv.requests)
    finally:
        os.environ.pop("SOURCEBOOK_SEARCH__DENSE", None)

    assert result.final_text == FINAL and result.resumed and result.stopped == "answer"
    events = RunDir.open(trace.parent).events()
    assert sum(e["type"] == "resume" for e in events) == 1
    tools = [e for e in events if e["type"] == "tool"]
    keys = [(t["server"], t["name"], json.dumps(t["arguments"], sort_keys=True)) for t in tools]
    assert len(keys) == len(set(keys)), "a tool call ran twice"
    assert [(t["server"], t["name"]) for t in tools] == [(s, n) for s, n, _ in PLAN]
    assert not any(t["cached"] for t in tools)
    # the resumed model saw the same conversation: its first new request holds every earlier tool result
    resumed_turns = [e for e in events if e["type"] == "turn" and e["ts"] >= next(
        x["ts"] for x in events if x["type"] == "resume")]
    assert resumed_turns
    assert n_requests >= len(PLAN) + 1
    assert result.tool_calls == len(PLAN)
    assert result.passage_ids
    # a finished run resumes to its recorded result without calling anything
    again = resume(trace.parent, None, store, settings=settings)
    assert again.final_text == FINAL
