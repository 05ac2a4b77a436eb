"""The one request loader: the request text from an argument, a text file, or a JSON/JSONL task file.

Used by ``report``, ``run``, ``check``, the web app and the library API alike. Files may be in any common
encoding (UTF-8 with or without BOM, UTF-16, GB18030, cp932, …; detected with charset-normalizer).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sourcebook.errors import InputError

_QUERY_KEYS = ("query", "request", "question")


@dataclass
class Request:
    """A loaded request: its text, and the task row it came from (empty for plain text)."""

    text: str
    task: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # where it came from: "argument" or a file path


def read_text_file(path: Path, what: str = "request file") -> str:
    """Read a text file in whatever encoding it uses; :class:`InputError` naming the file when it cannot."""
    from sourcebook.ingest.text import read_text_file as _read

    p = Path(path)
    if p.is_dir():
        raise InputError(f"{p}: is a folder, not a {what}")
    try:
        return _read(p, what).lstrip("\ufeff")
    except ValueError as e:
        raise InputError(str(e)) from e


def _query_of(row: Any, where: str) -> str:
    if not isinstance(row, dict):
        raise InputError(f"{where} is not an object")
    query = next((row[k] for k in _QUERY_KEYS if isinstance(row.get(k), str) and row[k].strip()), None)
    if query is None:
        raise InputError(f"{where} has no 'query'")
    return query


def _rows(path: Path) -> list[Any]:
    text = read_text_file(path, "task file")
    try:
        data: Any = json.loads(text)
        return data if isinstance(data, list) else [data]
    except json.JSONDecodeError:
        pass
    rows: list[Any] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise InputError(f"{path}: not JSON or JSONL ({e.msg}, line {n})") from e
    return rows


def load_task(task_file: Path, row: int | None = 0, task_id: str | None = None) -> dict[str, Any]:
    """One task from a JSON object, a JSON list or a JSONL file: by position ``row`` or by ``task_id``
    (matched against the rows' ``task`` or ``id``). The returned dict's ``query`` is the request."""
    rows = _rows(task_file)
    if task_id is not None:
        for i, r in enumerate(rows):
            if isinstance(r, dict) and str(task_id) in (str(r.get("task")), str(r.get("id"))):
                return {**r, "query": _query_of(r, f"{task_file}:{i + 1}: task {task_id}")}
        raise InputError(f"{task_file}: no task {task_id!r}")
    row = row or 0
    if not 0 <= row < len(rows):
        raise InputError(f"{task_file}: has {len(rows)} task(s); row {row} does not exist")
    return {**rows[row], "query": _query_of(rows[row], f"{task_file}: row {row}")}


def load_request(request: str | None = None, request_file: Path | None = None, task_file: Path | None = None,
                 row: int = 0, task_id: str | None = None) -> Request:
    """The request from exactly one of: the text itself, a text file, or a task file (row or task id).

    Raises :class:`InputError` naming the file and the reason."""
    given = [x for x in (request, request_file, task_file) if x is not None]
    if not given:
        raise InputError("no request: give the request text, --request-file or --task-file")
    if len(given) > 1:
        raise InputError("give only one of: the request text, --request-file, --task-file")
    if request is not None:
        if not request.strip():
            raise InputError("no request: the request is empty")
        return Request(request, source="argument")
    if request_file is not None:
        text = read_text_file(request_file).strip()
        if not text:
            raise InputError(f"{request_file}: the request file is empty")
        return Request(text, source=str(request_file))
    assert task_file is not None
    task = load_task(task_file, row, task_id)
    return Request(task["query"], task=task, source=str(task_file))
