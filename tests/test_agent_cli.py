"""``sourcebook run`` / ``sourcebook resume`` through the real command line, against the scripted server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sourcebook.agent.cli import load_task
from sourcebook.cli import app
from sourcebook.llm.scripted import ScriptedServer
from tests.test_tools_registry import make_task_folder


def test_load_task_json_jsonl_and_errors(tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"query": "写一份报告", "id": 7}, ensure_ascii=False), encoding="utf-8")
    assert load_task(one)["query"] == "写一份报告"
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"query": "a"}\n{"query": "b"}\n', encoding="utf-8")
    assert load_task(rows, 1)["query"] == "b"
    with pytest.raises(ValueError, match="row 5 does not exist"):
        load_task(rows, 5)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": "a"}\n{oops\n', encoding="utf-8")
    with pytest.raises(ValueError, match="bad.jsonl: not JSON or JSONL"):
        load_task(bad)
    noq = tmp_path / "noq.json"
    noq.write_text('{"title": "x"}', encoding="utf-8")
    with pytest.raises(ValueError, match="has no 'query'"):
        load_task(noq)


def test_run_and_resume_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = make_task_folder(tmp_path)
    monkeypatch.setenv("SOURCEBOOK_SEARCH__DENSE", "false")
    monkeypatch.setenv("SOURCEBOOK_LLM__API_KEY", "sk-test-secret-value")
    task = tmp_path / "task.jsonl"
    task.write_text(json.dumps({"query": "总结社区储能"}, ensure_ascii=False) + "\n", encoding="utf-8")
    turns = [{"tool_calls": [{"server": "tool-rag", "name": "rag_search", "arguments": {"query": "储能"}}]},
             {"text": "储能总结 [notes.md]"}]
    runner = CliRunner()
    with ScriptedServer(turns) as srv:
        res = runner.invoke(app, ["run", str(folder), "--task-file", str(task), "--model", "scripted",
                                  "--base-url", srv.openai_base_url, "--runs-dir", str(tmp_path / "runs"),
                                  "--no-report"])
    assert res.exit_code == 0, res.output
    run_dir = Path(res.stdout.strip().splitlines()[-1])
    assert (run_dir / "answer.md").read_text(encoding="utf-8").strip() == "储能总结 [notes.md]"
    req = json.loads((run_dir / "request.json").read_text(encoding="utf-8"))
    assert req["request"] == "总结社区储能" and req["task"]["query"] == "总结社区储能"
    config = (run_dir / "config.json").read_text(encoding="utf-8")
    assert "sk-test-secret-value" not in config and json.loads(config)["llm"]["model"] == "scripted"
    assert "sk-test-secret-value" not in (run_dir / "trace.jsonl").read_text(encoding="utf-8")
    # resuming a finished run replays it without a model call
    res2 = runner.invoke(app, ["resume", str(run_dir), "--no-report", "--base-url", "http://127.0.0.1:9/v1"])
    assert res2.exit_code == 0, res2.output
    assert res2.stdout.strip().splitlines()[-1] == str(run_dir)


def test_run_rejects_bad_input(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["run", str(tmp_path / "missing"), "x"])
    assert res.exit_code == 2 and "missing: no such folder" in res.output
    res = runner.invoke(app, ["resume", str(tmp_path)])
    assert res.exit_code == 2 and "not a run directory" in res.output
