"""A suite: ``query.jsonl`` rows ``{task, query[, answer]}`` plus one folder per task under a datasets root."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sourcebook.bench import BenchError


@dataclass(frozen=True)
class BenchTask:
    """One task of a suite: its id, request, folder of sources and (for question-answer tasks) the answer."""

    task: str
    query: str
    folder: Path
    answer: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["folder"] = str(self.folder)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BenchTask:
        return cls(str(d["task"]), str(d["query"]), Path(d["folder"]), d.get("answer"))


def _answer(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return str(value[0]) if value else None
    return str(value)


def load_suite(queries: Path, datasets: Path, only: list[str] | None = None) -> list[BenchTask]:
    """Read ``queries`` (JSONL) and pair every row with ``datasets/<task>``.

    ``only`` keeps the listed task ids (in the file's order). Raises :class:`BenchError` naming the file and
    line for unreadable files, bad rows, duplicate ids, unknown ``only`` ids and missing folders."""
    queries, datasets = Path(queries), Path(datasets)
    try:
        lines = queries.read_text(encoding="utf-8-sig").splitlines()
    except OSError as e:
        raise BenchError(f"{queries}: cannot read the query file ({e.strerror or e})") from e
    except UnicodeDecodeError as e:
        raise BenchError(f"{queries}: not UTF-8 text") from e
    if not datasets.is_dir():
        raise BenchError(f"{datasets}: no such datasets folder")
    tasks: list[BenchTask] = []
    seen: set[str] = set()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise BenchError(f"{queries}:{n}: not a JSON line ({e.msg})") from e
        if not isinstance(row, dict):
            raise BenchError(f"{queries}:{n}: a row must be a JSON object with 'task' and 'query'")
        task, query = row.get("task", row.get("id")), row.get("query", row.get("request"))
        if task is None or str(task).strip() == "":
            raise BenchError(f"{queries}:{n}: row has no 'task'")
        if not isinstance(query, str) or not query.strip():
            raise BenchError(f"{queries}:{n}: task {task} has no 'query'")
        task = str(task).strip()
        if task in seen:
            raise BenchError(f"{queries}:{n}: task {task} appears twice")
        seen.add(task)
        tasks.append(BenchTask(task, query, (datasets / task).resolve(), _answer(row.get("answer"))))
    if not tasks:
        raise BenchError(f"{queries}: no tasks in the query file")
    if only:
        unknown = [t for t in only if t not in seen]
        if unknown:
            raise BenchError(f"{queries}: no task(s) {', '.join(unknown)} (have {', '.join(sorted(seen))})")
        keep = set(only)
        tasks = [t for t in tasks if t.task in keep]
    missing = [t for t in tasks if not t.folder.is_dir()]
    if missing:
        raise BenchError(f"{missing[0].folder}: no folder for task {missing[0].task}"
                         + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    return tasks


def parse_task_list(text: str | None) -> list[str] | None:
    """``"001,005"`` → ``["001", "005"]``; None/empty → None."""
    if not text:
        return None
    return [t.strip() for t in text.split(",") if t.strip()] or None
