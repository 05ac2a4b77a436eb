"""The run trace: one JSON object per line in ``trace.jsonl``, appended and flushed as events happen.

A process killed at any point leaves a readable trace: every complete line is an event; a partial last line
(the write that was interrupted) is ignored by :func:`read_trace`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

def _default(obj: Any) -> Any:
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if hasattr(obj, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(obj)
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    return repr(obj)


class TraceWriter:
    """Append-only JSONL writer; each event gets ``type`` and a wall-clock ``ts``."""

    def __init__(self, path: Path, listener: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("a", encoding="utf-8")
        self._lock = threading.Lock()
        self.listener = listener  # told of every event after it is on disk (run.json, turns.log)

    def write(self, type_: str, **fields: Any) -> dict[str, Any]:
        """Append one event and flush it to the OS, so it survives the process being killed."""
        event = {"type": type_, "ts": round(time.time(), 3), **fields}
        line = json.dumps(event, ensure_ascii=False, default=_default)
        with self._lock:
            self._fh.write(line + "\n")
            self._fh.flush()
        if self.listener is not None:
            try:
                self.listener(json.loads(line))
            except Exception:  # a summary that cannot be updated must never stop the run or its trace
                log.exception("run record update failed for a %s event", type_)
        return event

    def close(self) -> None:
        with self._lock:
            if not self._fh.closed:
                self._fh.close()

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_trace(path: Path) -> list[dict[str, Any]]:
    """Read all complete events of a trace; a truncated or corrupt line (killed mid-write) is skipped."""
    events: list[dict[str, Any]] = []
    p = Path(path)
    if not p.exists():
        return events
    with p.open("r", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                events.append(obj)
    return events
