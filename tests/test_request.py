"""The one request loader and the CLI's single exit path for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sourcebook.cli import app
from sourcebook.errors import InputError, SourcebookError
from sourcebook.request import load_request, load_task

REQ = "请写一份关于社区储能的报告，不少于300字，包含三个部分。"


def test_request_from_text_file_in_any_encoding(tmp_path: Path) -> None:
    for enc in ("utf-8", "utf-8-sig", "utf-16", "gb18030"):
        p = tmp_path / f"req-{enc}.txt"
        p.write_bytes(REQ.encode(enc))
        got = load_request(request_file=p)
        assert got.text == REQ and got.source == str(p), enc
    assert load_request("  写报告 ").text == "  写报告 "


def test_request_from_task_files(tmp_path: Path) -> None:
    rows = tmp_path / "tasks.jsonl"
    rows.write_text("\n".join(json.dumps({"task": str(i), "query": f"q{i}"}) for i in range(3)) + "\n",
                    encoding="utf-8")
    assert load_request(task_file=rows, row=2).text == "q2"
    assert load_request(task_file=rows, task_id="1").task["task"] == "1"
    gbk = tmp_path / "task.json"
    gbk.write_bytes(json.dumps({"question": REQ}, ensure_ascii=False).encode("gb18030"))
    assert load_task(gbk)["query"] == REQ


@pytest.mark.parametrize(("setup", "message"), [
    (lambda d: {"request_file": d / "missing.txt"}, "missing.txt: cannot read the request file"),
    (lambda d: {"request_file": d}, "is a folder, not a request file"),
    (lambda d: {"request_file": _write(d / "empty.txt", b"  \n")}, "empty.txt: the request file is empty"),
    (lambda d: {"request_file": _write(d / "bin.txt", b"\x00\x01\x02PK")}, "bin.txt: the request file is not readable text"),
    (lambda d: {"task_file": _write(d / "bad.jsonl", b'{"query": "a"}\n{oops\n')}, "bad.jsonl: not JSON or JSONL"),
    (lambda d: {"task_file": _write(d / "noq.json", b'{"title": "x"}')}, "noq.json: row 0 has no 'query'"),
    (lambda d: {"task_file": _write(d / "one.json", b'{"query": "x"}'), "row": 4}, "one.json: has 1 task(s); row 4"),
    (lambda d: {"task_file": _write(d / "ids.jsonl", b'{"task": "1", "query": "x"}'), "task_id": "9"},
     "ids.jsonl: no task '9'"),
    (lambda d: {}, "no request"),
    (lambda d: {"request": "x", "request_file": d / "r.txt"}, "give only one of"),
    (lambda d: {"request": "   "}, "the request is empty"),
])
def test_bad_requests_name_the_file_and_reason(tmp_path: Path, setup, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        load_request(**setup(tmp_path))
    assert isinstance(info.value, SourcebookError) and isinstance(info.value, ValueError)


def _write(p: Path, data: bytes) -> Path:
    p.write_bytes(data)
    return p


@pytest.mark.parametrize("args", [
    ["report", "{d}/nope", "x"],
    ["run", "{d}", "--request-file", "{d}/absent.txt"],
    ["report", "{d}", "--task-file", "{d}/absent.jsonl"],
    ["search", "{d}/nope", "x"],
    ["ingest", "{d}/file.txt"],
    ["check", "{d}/absent.md", "--request", "x"],
    ["show", "{d}"],
    ["media", "{d}/file.txt"],
])
def test_cli_bad_input_is_one_line_and_exit_code_2(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "file.txt").write_text("text", encoding="utf-8")
    res = CliRunner().invoke(app, [a.format(d=tmp_path) for a in args])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert str(tmp_path) in lines[0] or "file.txt: " in lines[0]
