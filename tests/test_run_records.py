"""Run records a person can read: run.json, turns.log, ``sourcebook runs`` / ``show``, interrupted runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sourcebook.cli import app
from sourcebook.llm.scripted import ScriptedServer
from sourcebook.records.run_record import read_run_info
from sourcebook.records.trace import read_trace
from tests.test_tools_registry import make_task_folder

SECRET = "sk-test-secret-value-123"
REQUEST = "总结社区储能的试点结果，写三段。"


def _turns() -> list[dict]:
    return [
        {"tool_calls": [{"server": "tool-rag", "name": "rag_search", "arguments": {"query": "储能"}}]},
        {"tool_calls": [{"server": "tool-rag", "name": "rag_search", "arguments": {"query": "battery"}},
                        {"server": "tool-rag", "name": "no_such_tool", "arguments": {}}]},
        {"text": "储能总结：社区储能电站可以平滑屋顶光伏的出力波动。"},
    ]


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOURCEBOOK_SEARCH__DENSE", "false")
    monkeypatch.setenv("SOURCEBOOK_LLM__API_KEY", SECRET)
    return make_task_folder(tmp_path)


def test_run_json_turns_log_and_token_totals(env: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    with ScriptedServer(_turns(), default={"text": "社区储能电站可以平滑屋顶光伏的出力波动 [@x]。"}) as srv:
        res = CliRunner().invoke(app, ["run", str(env), REQUEST, "--model", "scripted", "--base-url",
                                       srv.openai_base_url, "--runs-dir", str(runs)])
        served = list(srv.served)
    run_dir = Path(res.stdout.strip().splitlines()[-1])
    info = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert res.exit_code == (1 if info.get("verdict") == "fail" else 0), res.output  # a failed report exits 1
    # exact totals: every reply the server sent, agent turns and report writer alike
    assert len(served) > 3  # the report writer called the model too
    assert info["tokens"]["prompt"] == sum(s.prompt_tokens for s in served if s.status == 200)
    assert info["tokens"]["completion"] == sum(s.completion_tokens for s in served if s.status == 200)
    assert info["tokens"]["total"] == info["tokens"]["prompt"] + info["tokens"]["completion"]
    assert info["llm_calls"] == len(served)
    assert info["status"] == "done" and info["ended"] and info["stage"] == "done"
    assert info["request"] == REQUEST and info["model"]["name"] == "scripted"
    assert info["turns"] == 3 and info["tool_calls"] == 3 and info["stopped"] == "answer"
    rag = info["tools"]["tool-rag/rag_search"]
    assert rag["calls"] == 2 and rag["errors"] == 0 and rag["median_s"] >= 0
    assert info["tools"]["tool-rag/no_such_tool"]["errors"] == 1
    assert info["verdict"] in ("pass", "fail", "unmeasured") and "report.md" in info["files"]
    assert (run_dir / "evidence").is_dir()
    for name in ("run.json", "turns.log", "trace.jsonl", "config.json"):
        assert SECRET not in (run_dir / name).read_text(encoding="utf-8"), name
    assert info["settings"]["llm"]["api_key"] == "***"
    log = (run_dir / "turns.log").read_text(encoding="utf-8")
    assert "── turn 1 (tools)" in log and "→ call tool-rag/rag_search" in log and "储能" in log
    assert "✗ ERROR tool-rag/no_such_tool" in log and "run done" in log
    # the references the web view opens citations with
    refs = json.loads((run_dir / "references.json").read_text(encoding="utf-8"))
    assert all(r["passage_ids"] for r in refs)

    out = CliRunner().invoke(app, ["runs", "--runs-dir", str(runs)])
    assert out.exit_code == 0 and "done" in out.output and "scripted" in out.output
    listed = json.loads(CliRunner().invoke(app, ["runs", "--runs-dir", str(runs), "--json"]).output)
    assert [r["id"] for r in listed] == [run_dir.name] and listed[0]["tokens"] == info["tokens"]
    shown = CliRunner().invoke(app, ["show", run_dir.name, "--runs-dir", str(runs)])
    assert shown.exit_code == 0, shown.output
    assert f"{info['tokens']['total']:,}" in shown.output and "tool-rag/rag_search" in shown.output
    js = CliRunner().invoke(app, ["show", str(run_dir), "--json"])
    assert json.loads(js.output)["tokens"] == info["tokens"]


def test_no_llm_run_records_stages(env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCEBOOK_LLM__MODEL", "")
    res = CliRunner().invoke(app, ["run", str(env), REQUEST, "--runs-dir", str(tmp_path / "runs")])
    run_dir = Path(res.stdout.strip().splitlines()[-1])
    info = read_run_info(run_dir)
    assert res.exit_code == (1 if info.get("verdict") == "fail" else 0), res.output  # a failed report exits 1
    assert info["status"] == "done" and info["tokens"]["total"] == 0 and info["model"]["name"] is None
    stages = [e["stage"] for e in read_trace(run_dir / "trace.jsonl") if e["type"] == "stage"]
    assert stages[0] == "ingest" and stages[-1] == "report"


def test_show_and_runs_errors(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["show", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "not a run directory" in res.output and len(res.output.strip().splitlines()) == 1
    res = CliRunner().invoke(app, ["runs", "--runs-dir", str(tmp_path / "empty")])
    assert res.exit_code == 0 and "no runs" in res.output


def _start_killable(env: Path, runs: Path, srv: ScriptedServer, tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    environ = {**os.environ, "SOURCEBOOK_SEARCH__DENSE": "false", "SOURCEBOOK_LLM__API_KEY": SECRET}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sourcebook.cli", "run", str(env), REQUEST, "--model", "scripted", "--base-url",
         srv.openai_base_url, "--runs-dir", str(runs), "--no-report"],
        env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    deadline = time.time() + 60
    while time.time() < deadline:
        dirs = [p for p in runs.glob("*") if p.is_dir()] if runs.exists() else []
        if dirs and any(e["type"] == "tool" for e in read_trace(dirs[0] / "trace.jsonl")):
            return proc, dirs[0]
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode())
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("the run never got to its first tool call")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killed_run_leaves_valid_records(env: Path, tmp_path: Path, sig: signal.Signals) -> None:
    runs = tmp_path / "runs"
    turns = [_turns()[0], {"text": "late", "delay_s": 30}]
    with ScriptedServer(turns) as srv:
        proc, run_dir = _start_killable(env, runs, srv, tmp_path)
        time.sleep(0.5)  # now waiting for the slow second turn
        proc.send_signal(sig)
        proc.wait(timeout=30)
    events = read_trace(run_dir / "trace.jsonl")
    assert [e["type"] for e in events][:1] == ["stage"] and any(e["type"] == "turn" for e in events)
    for line in (run_dir / "trace.jsonl").read_text(encoding="utf-8").splitlines():
        json.loads(line)  # every line complete
    raw = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert raw["status"] == ("interrupted" if sig == signal.SIGTERM else "running")
    assert raw["tokens"]["total"] > 0 and raw["tools"]["tool-rag/rag_search"]["calls"] == 1
    log = (run_dir / "turns.log").read_text(encoding="utf-8")
    assert "── turn 1" in log
    # a run killed outright is reported — and from then on recorded — as interrupted
    shown = CliRunner().invoke(app, ["show", str(run_dir), "--json"])
    assert json.loads(shown.output)["status"] == "interrupted"
    assert json.loads((run_dir / "run.json").read_text(encoding="utf-8"))["status"] == "interrupted"
    assert "interrupted" in (run_dir / "turns.log").read_text(encoding="utf-8")
    # resuming carries the totals on: what the first process was told plus what the new server reports
    before = raw["tokens"]
    with ScriptedServer([{"text": "储能总结。"}]) as srv2:
        res = CliRunner().invoke(app, ["resume", str(run_dir), "--no-report", "--base-url", srv2.openai_base_url])
        served = list(srv2.served)
    assert res.exit_code == 0, res.output
    after = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert after["status"] == "done" and after["stopped"] == "answer"
    assert after["tokens"]["prompt"] == before["prompt"] + sum(x.prompt_tokens for x in served)
    assert after["tokens"]["completion"] == before["completion"] + sum(x.completion_tokens for x in served)
    assert after["tools"]["tool-rag/rag_search"]["calls"] == 1  # the finished call was replayed, not run again
