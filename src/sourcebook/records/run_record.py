"""``run.json`` and ``turns.log``: what a person reads about a run, kept current while the run goes.

Every trace event passes through :class:`RunRecorder`, which appends a readable block to ``turns.log``
(flushed at once) and rewrites ``run.json`` atomically (a temporary file renamed over the old one), so a
process killed at any moment leaves both files valid. A run stopped by SIGTERM/SIGINT marks itself
``interrupted``; a run killed outright (SIGKILL, power loss) still says ``running`` with a process id that
no longer exists, and :func:`read_run_info` reports — and records — it as ``interrupted``.

``run.json`` fields (format version 1)::

    version        1
    id             the run directory's name
    request        the request text
    folder         the task folder (absolute)
    status         running | done | failed | interrupted
    pid, host      the process writing the run (used to detect a run killed outright)
    started, ended ISO 8601 local times; ended is null while running
    duration_s     wall time, seconds
    model          {provider, name, base_url, dialect} — null name for a run without a model
    settings       every setting, secrets replaced by "***"
    tokens         {prompt, completion, total}: the sum of the usage every model call reported
    cost_usd       summed cost of those calls (null when the model has no known price)
    llm_calls      model calls made (replayed calls of a resumed run are not counted again)
    turns          agent turns; tool_calls: tool calls
    tools          {"server/name": {calls, errors, cached, median_s, total_s}}
    llm_errors     failed model calls
    stage          what the run is doing now: ingest | agent | report | done
    stopped        why the agent stopped (answer | max_turns | token_budget | empty | llm_error)
    verdict        the report's overall check verdict (pass | fail | unmeasured), when built
    files          report files written, relative to the run directory
    error          one-line reason when status is failed
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import socket
import statistics
import threading
from pathlib import Path
from typing import Any

RUN_JSON = "run.json"
TURNS_LOG = "turns.log"
RUN_FORMAT = 1
STATUSES = ("running", "done", "failed", "interrupted")
_PREVIEW = 600


def _now() -> str:
    return _dt.datetime.now().isoformat(timespec="seconds")


def atomic_write_json(path: Path, data: Any) -> None:
    """Write JSON to ``path`` so readers only ever see the old or the new complete file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def pid_alive(pid: int | None) -> bool:
    """Is process ``pid`` running on this machine?"""
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OSError, ValueError):
        return False
    return True


def _clip(text: Any, n: int = _PREVIEW) -> str:
    s = text if isinstance(text, str) else json.dumps(text, ensure_ascii=False, default=str)
    s = s.replace("\r", "")
    return s if len(s) <= n else s[:n] + f"… ({len(s):,} chars)"


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + ln for ln in text.splitlines()) if text else ""


class RunRecorder:
    """Keeps ``run.json`` and ``turns.log`` of one run directory current; thread-safe."""

    def __init__(self, path: Path, info: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._durations: dict[str, list[float]] = {}
        self.count_turn_usage = True  # False once a RecordingClient reports every model call itself
        self.info: dict[str, Any] = info if info is not None else self._load()

    # -- files ----------------------------------------------------------------------------------------------
    @property
    def json_path(self) -> Path:
        return self.path / RUN_JSON

    @property
    def log_path(self) -> Path:
        return self.path / TURNS_LOG

    def _load(self) -> dict[str, Any]:
        try:
            return json.loads(self.json_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return {}

    def save(self) -> None:
        """Rewrite ``run.json`` (atomically)."""
        with self._lock:
            atomic_write_json(self.json_path, self.info)

    def write_log(self, text: str) -> None:
        """Append a block to ``turns.log`` and flush it."""
        with self._lock, self.log_path.open("a", encoding="utf-8") as fh:
            fh.write(text.rstrip("\n") + "\n")
            fh.flush()

    # -- lifecycle --------------------------------------------------------------------------------------------
    def begin(self, request: str, folder: str, settings: dict[str, Any]) -> None:
        """Start the record: status running, this process, the model and the (redacted) settings."""
        llm = (settings or {}).get("llm") or {}
        self.info = {
            "version": RUN_FORMAT, "id": self.path.name, "request": request, "folder": folder,
            "status": "running", "pid": os.getpid(), "host": socket.gethostname(), "started": _now(),
            "ended": None, "duration_s": None, "stage": "starting",
            "model": {"provider": llm.get("provider"), "name": llm.get("model") or None,
                      "base_url": llm.get("base_url"), "dialect": llm.get("dialect")},
            "settings": settings, "tokens": {"prompt": 0, "completion": 0, "total": 0}, "cost_usd": None,
            "llm_calls": 0, "llm_errors": 0, "turns": 0, "tool_calls": 0, "tools": {}, "stopped": None,
            "verdict": None, "files": [], "error": None,
        }
        self.save()
        self.write_log(f"{_now()}  run {self.path.name}\n  request: {_clip(request, 2000)}\n  folder: {folder}\n"
                       f"  model: {llm.get('model') or '(none: extractive report)'}")

    def reopen(self) -> None:
        """A resumed run: running again, in this process (tool latencies so far taken from the trace)."""
        from sourcebook.records.trace import read_trace

        self._durations = {}
        for e in read_trace(self.path / "trace.jsonl"):
            if e.get("type") == "tool":
                name = f"{e.get('server')}/{e.get('name')}"
                self._durations.setdefault(name, []).append(float(e.get("elapsed_s") or 0.0))
        self.info.update(status="running", pid=os.getpid(), host=socket.gethostname(), ended=None, error=None)
        self.save()
        self.write_log(f"{_now()}  resumed")

    def stage(self, name: str, detail: str = "") -> None:
        """Record what the run is doing now."""
        self.info["stage"] = name
        self.save()
        self.write_log(f"{_now()}  [{name}]{' ' + detail if detail else ''}")

    def finish(self, status: str, *, error: str | None = None, verdict: str | None = None,
               files: list[str] | None = None) -> None:
        """End the record with ``status`` (done | failed | interrupted)."""
        if status not in STATUSES:
            raise ValueError(f"unknown run status {status!r}")
        self.info["status"] = status
        self.info["ended"] = _now()
        try:
            started = _dt.datetime.fromisoformat(self.info.get("started") or _now())
            self.info["duration_s"] = round((_dt.datetime.now() - started).total_seconds(), 1)
        except ValueError:
            pass
        if status == "done":
            self.info["stage"] = "done"
        if error:
            self.info["error"] = error
        if verdict:
            self.info["verdict"] = verdict
        if files is not None:
            self.info["files"] = files
        self.save()
        tail = f": {error}" if error else (f" · report verdict {verdict}" if verdict else "")
        self.write_log(f"{_now()}  run {status}{tail}\n  {self._totals_line()}")

    # -- usage ------------------------------------------------------------------------------------------------
    def add_usage(self, prompt: int, completion: int, cost: float | None = None) -> None:
        """Count one model call's reported usage (and cost) into the totals."""
        with self._lock:
            t = self.info.setdefault("tokens", {"prompt": 0, "completion": 0, "total": 0})
            t["prompt"] += int(prompt)
            t["completion"] += int(completion)
            t["total"] = t["prompt"] + t["completion"]
            self.info["llm_calls"] = int(self.info.get("llm_calls") or 0) + 1
            if cost is not None:
                self.info["cost_usd"] = round(float(self.info.get("cost_usd") or 0.0) + cost, 8)
        self.save()

    def _totals_line(self) -> str:
        t = self.info.get("tokens") or {}
        cost = self.info.get("cost_usd")
        return (f"{self.info.get('turns', 0)} turns · {self.info.get('tool_calls', 0)} tool calls · "
                f"{t.get('prompt', 0):,} prompt + {t.get('completion', 0):,} completion tokens"
                + (f" · ${cost:.4f}" if cost is not None else ""))

    # -- trace events -----------------------------------------------------------------------------------------
    def on_event(self, e: dict[str, Any]) -> None:
        """Update both files from one trace event."""
        kind = e.get("type")
        handler = getattr(self, f"_on_{kind}", None)
        if handler is not None:
            handler(e)

    def _on_start(self, e: dict[str, Any]) -> None:
        self.info["stage"] = "agent"
        self.save()
        self.write_log(f"{_now()}  agent started · {len(e.get('tools') or [])} tools · "
                       f"max {e.get('max_turns')} turns, {e.get('max_tokens') or '∞'} tokens")

    def _on_turn(self, e: dict[str, Any]) -> None:
        u = e.get("usage") or {}
        r = e.get("response") or {}
        self.info["turns"] = max(int(self.info.get("turns") or 0), int(e.get("turn") or 0))
        if self.count_turn_usage:
            self.add_usage(u.get("prompt_tokens", 0), u.get("completion_tokens", 0))
        else:
            self.save()
        lines = [f"── turn {e.get('turn')} ({e.get('phase', '')}) · {u.get('prompt_tokens', 0):,} prompt + "
                 f"{u.get('completion_tokens', 0):,} completion tokens · {e.get('llm_s', 0):.2f} s"]
        for m in e.get("messages_delta") or []:
            if m.get("role") in ("user",) and m.get("content"):
                lines.append(f"  user: {_clip(m['content'], 300)}")
        text = (r.get("text") or "").strip()
        if text:
            lines.append("  assistant:\n" + _indent(_clip(text, 2000)))
        for c in r.get("tool_calls") or []:
            lines.append(f"  → call {c.get('server')}/{c.get('name')} {_clip(c.get('arguments') or {}, 300)}")
        self.write_log("\n".join(lines))

    def _on_tool(self, e: dict[str, Any]) -> None:
        name = f"{e.get('server')}/{e.get('name')}"
        elapsed = float(e.get("elapsed_s") or 0.0)
        with self._lock:
            st = self.info.setdefault("tools", {}).setdefault(
                name, {"calls": 0, "errors": 0, "cached": 0, "median_s": 0.0, "total_s": 0.0})
            st["calls"] += 1
            st["errors"] += 1 if e.get("error") else 0
            st["cached"] += 1 if e.get("cached") else 0
            st["total_s"] = round(st["total_s"] + elapsed, 4)
            durations = self._durations.setdefault(name, [])
            durations.append(elapsed)
            st["median_s"] = round(statistics.median(durations), 4)
            self.info["tool_calls"] = int(self.info.get("tool_calls") or 0) + 1
        self.save()
        head = "✗ ERROR" if e.get("error") else "←"
        flag = " (repeat, answered from cache)" if e.get("cached") else ""
        ids = e.get("passage_ids") or []
        lines = [f"  {head} {name} · {elapsed:.2f} s · {len(ids)} passage{'' if len(ids) == 1 else 's'}{flag}"]
        if e.get("error"):
            lines.append(f"    error: {_clip(e['error'], 400)}")
        lines.append(_indent(_clip(e.get("result") or "", 400), "    | "))
        self.write_log("\n".join(lines))

    def _on_llm_error(self, e: dict[str, Any]) -> None:
        self.info["llm_errors"] = int(self.info.get("llm_errors") or 0) + 1
        self.save()
        self.write_log(f"  ✗ MODEL CALL FAILED (turn {e.get('turn')}): {_clip(e.get('error'), 400)}")

    def _on_final(self, e: dict[str, Any]) -> None:
        self.info["stopped"] = e.get("stopped")
        self.info["turns"] = e.get("turns", self.info.get("turns"))
        self.save()
        how = "extractive fallback" if e.get("extractive") else "model answer"
        self.write_log(f"── agent finished: {e.get('stopped')} ({how}) · {e.get('turns')} turns · "
                       f"{e.get('tool_calls')} tool calls\n  answer:\n" + _indent(_clip(e.get("final_text"), 1500)))

    def _on_stage(self, e: dict[str, Any]) -> None:
        self.stage(str(e.get("stage")), str(e.get("detail") or ""))


def read_run_info(path: Path, repair: bool = True) -> dict[str, Any]:
    """``run.json`` of a run directory, with a run whose process is gone reported as ``interrupted``
    (and, with ``repair``, recorded so). Older run directories without ``run.json`` get a summary built
    from ``request.json``."""
    p = Path(path)
    info: dict[str, Any] = {}
    try:
        info = json.loads((p / RUN_JSON).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        try:
            req = json.loads((p / "request.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            req = {}
        info = {"id": p.name, "request": req.get("request", ""), "folder": req.get("folder", ""),
                "status": "done" if (p / "compliance.json").exists() else "unknown",
                "started": req.get("created"), "tokens": {"prompt": 0, "completion": 0, "total": 0}}
    if info.get("status") == "running" and info.get("host") in (None, socket.gethostname()) \
            and not pid_alive(info.get("pid")):
        info["status"] = "interrupted"
        info["error"] = info.get("error") or "the process stopped before the run finished"
        if repair and (p / RUN_JSON).exists():
            try:
                atomic_write_json(p / RUN_JSON, info)
                with (p / TURNS_LOG).open("a", encoding="utf-8") as fh:
                    fh.write(f"{_now()}  run interrupted (process {info.get('pid')} is gone)\n")
            except OSError:
                pass
    info.setdefault("id", p.name)
    return info
