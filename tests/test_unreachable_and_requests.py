"""An unreachable model fails fast; request and task files in any encoding, or a one-line refusal."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sourcebook.agent.cli import load_task
from sourcebook.llm.openai_client import OpenAIClient
from sourcebook.llm.retry import LLMError
from sourcebook.report.check_cli import load_request

REQUEST = "写一篇关于屋顶光伏的报告，约300字"


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.md").write_text("# 光伏\n\n屋顶光伏的投资回收期约为八年。储能可以提高自用比例。\n", encoding="utf-8")
    return folder


def test_connection_refused_is_not_retried():
    client = OpenAIClient(model="x", base_url=f"http://127.0.0.1:{_closed_port()}/v1", api_key="k")
    t0 = time.perf_counter()
    with pytest.raises(LLMError) as info:
        client.chat([{"role": "user", "content": "hi"}])
    assert info.value.attempts == 1 and "connection refused" in str(info.value)
    assert time.perf_counter() - t0 < 10


def test_run_against_closed_port_exits_nonzero_with_one_line(tmp_path: Path):
    folder = _folder(tmp_path)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "sourcebook", "run", str(folder), REQUEST, "--model", "x",
                           "--base-url", f"http://127.0.0.1:{_closed_port()}/v1", "--runs-dir",
                           str(tmp_path / "runs")], capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - t0
    assert proc.returncode == 2, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: the model could not be reached") and "connection refused" in last
    assert "Traceback" not in proc.stderr
    run_dir = Path(proc.stdout.strip().splitlines()[-1])
    assert (run_dir / "answer.md").exists()  # what the run has is kept
    assert elapsed < 60  # a hang guard; the timing itself is measured in benchmarks/bench_bad_input.py


@pytest.mark.parametrize("encoding", ["gb18030", "utf-16", "utf-8-sig", "big5"])
def test_request_file_in_other_encodings(tmp_path: Path, encoding: str):
    text = "請寫一篇關於屋頂光伏的報告，約三百字。" if encoding == "big5" else REQUEST
    f = tmp_path / "req.txt"
    f.write_bytes(text.encode(encoding))
    assert load_request(request_file=f) == text
    task = tmp_path / "task.json"
    task.write_bytes(json.dumps({"query": text}, ensure_ascii=False).encode(encoding))
    assert load_task(task)["query"] == text


def test_binary_request_file_refused(tmp_path: Path):
    f = tmp_path / "req.bin"
    f.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(ValueError, match="req.bin: the request file is not readable text"):
        load_request(request_file=f)


@pytest.mark.parametrize("command", ["report", "check"])
def test_cli_bad_request_file_exit_2_one_line(tmp_path: Path, command: str):
    folder = _folder(tmp_path)
    bad = tmp_path / "req.bin"
    bad.write_bytes(b"\x00\x01\xfe\xff\x80" * 200)
    report = tmp_path / "r.md"
    report.write_text("# x\n\ny\n", encoding="utf-8")
    target = str(folder) if command == "report" else str(report)
    proc = subprocess.run([sys.executable, "-m", "sourcebook", command, target, "--request-file", str(bad)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "req.bin" in lines[0] and "not readable text" in lines[0]


def test_report_cli_reads_gbk_request_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SOURCEBOOK_SEARCH__DENSE", "false")
    folder = _folder(tmp_path)
    f = tmp_path / "req.txt"
    f.write_bytes(REQUEST.encode("gbk"))
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "sourcebook", "report", str(folder), "--request-file", str(f),
                           "--extractive", "--quiet", "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    length = next(c for c in json.loads((out / "compliance.json").read_text(encoding="utf-8"))["checks"]
                  if c["name"] == "length")
    assert length["expected"] == "270–330 chars"  # "约300字" was read from the GBK file
