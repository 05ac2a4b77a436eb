"""Run directories: one timestamped folder per run holding what was asked, how, and what happened.

Layout::

    runs/20250101-120304-城市屋顶光伏/
        request.json      request text, task folder, creation time
        config.json       effective settings, secrets removed
        trace.jsonl       every agent turn, tool call and result (see records.trace)
        run.json          the run's summary, kept current: status, times, model, tokens, cost, tool stats
                          (fields: records.run_record)
        turns.log         the run turn by turn, for a person to read
        log.txt           human-readable log lines
        evidence/         keyframes and charts the report cites
        report.*, compliance.json, evidence.json   written later by the report stage
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from pathlib import Path
from typing import Any

from sourcebook.records.run_record import RunRecorder, read_run_info
from sourcebook.records.trace import TraceWriter, read_trace

_SECRET_KEY = re.compile(r"(api[_-]?key|token|secret|password|passwd|authorization|auth)", re.I)


def redact(obj: Any) -> Any:
    """Return a copy of ``obj`` with values under secret-looking keys replaced by ``"***"``."""
    if isinstance(obj, dict):
        out: dict[str, Any] = {}
        for k, v in obj.items():
            if isinstance(k, str) and _SECRET_KEY.search(k) and v not in (None, "", {}):
                out[k] = "***"
            else:
                out[k] = redact(v)
        return out
    if isinstance(obj, list):
        return [redact(v) for v in obj]
    return obj


def settings_snapshot(settings: Any) -> dict[str, Any]:
    """The settings as plain JSON with every secret removed."""
    if settings is None:
        return {}
    try:
        data = settings.model_dump(mode="json")
    except AttributeError:
        data = dict(settings)
    return redact(data)


def _slug(text: str, n: int = 24) -> str:
    words = re.sub(r"\W+", "-", text.strip())[:n].strip("-")  # \w covers CJK
    return words or "run"


class RunDir:
    """A run's directory. Create with :meth:`create`, reopen with :meth:`open`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._trace: TraceWriter | None = None
        self._recorder: RunRecorder | None = None

    # -- construction -------------------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        runs_dir: Path,
        folder: Path,
        request: str,
        settings: Any = None,
        extra: dict[str, Any] | None = None,
    ) -> RunDir:
        """Make a fresh timestamped run directory and write ``request.json`` and ``config.json``."""
        runs_dir = Path(runs_dir)
        runs_dir.mkdir(parents=True, exist_ok=True)
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        base = f"{stamp}-{_slug(request)}"
        path = runs_dir / base
        n = 1
        while True:
            try:
                path.mkdir()
                break
            except FileExistsError:
                n += 1
                path = runs_dir / f"{base}-{n}"
        rd = cls(path)
        req = {
            "request": request,
            "folder": str(Path(folder).resolve()),
            "created": _dt.datetime.now().isoformat(timespec="seconds"),
            **(extra or {}),
        }
        rd.write_json("request.json", req)
        snapshot = settings_snapshot(settings)
        rd.write_json("config.json", snapshot)
        rd.trace_path.touch()
        rd.log_path.touch()
        rd.evidence_dir.mkdir(exist_ok=True)
        rd.recorder.begin(request, req["folder"], snapshot)
        return rd

    @classmethod
    def open(cls, path: Path) -> RunDir:
        """Reopen an existing run directory (for resume or inspection)."""
        p = Path(path)
        if not (p / "request.json").exists():
            raise FileNotFoundError(f"{p}: not a run directory (request.json missing)")
        return cls(p)

    # -- files --------------------------------------------------------------------------------------------
    @property
    def trace_path(self) -> Path:
        return self.path / "trace.jsonl"

    @property
    def log_path(self) -> Path:
        return self.path / "log.txt"

    @property
    def evidence_dir(self) -> Path:
        """``evidence/``: keyframes and charts belonging to the run."""
        return self.path / "evidence"

    @property
    def recorder(self) -> RunRecorder:
        """The keeper of ``run.json`` and ``turns.log``."""
        if self._recorder is None:
            self._recorder = RunRecorder(self.path)
        return self._recorder

    @property
    def info(self) -> dict[str, Any]:
        """``run.json`` as read now (a run whose process is gone reads as ``interrupted``)."""
        return read_run_info(self.path)

    def stage(self, name: str, detail: str = "") -> None:
        """Record in the trace (and so in run.json / turns.log) that the run entered stage ``name``."""
        self.trace().write("stage", stage=name, detail=detail)

    def finish(self, status: str, **fields: Any) -> None:
        """Close the record with ``status`` (done | failed | interrupted); see :meth:`RunRecorder.finish`."""
        self.recorder.finish(status, **fields)

    @property
    def request(self) -> dict[str, Any]:
        """Contents of ``request.json``."""
        return json.loads((self.path / "request.json").read_text(encoding="utf-8"))

    @property
    def config(self) -> dict[str, Any]:
        p = self.path / "config.json"
        return json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}

    def write_json(self, name: str, data: Any) -> Path:
        """Write ``data`` as pretty UTF-8 JSON to ``name`` inside the run directory."""
        p = self.path / name
        p.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
        return p

    def log(self, message: str) -> None:
        """Append a timestamped line to ``log.txt``."""
        ts = _dt.datetime.now().strftime("%H:%M:%S")
        with self.log_path.open("a", encoding="utf-8") as fh:
            fh.write(f"{ts} {message}\n")

    def trace(self) -> TraceWriter:
        """The (shared) trace writer of this run."""
        if self._trace is None:
            self._trace = TraceWriter(self.trace_path, listener=self.recorder.on_event)
        return self._trace

    def events(self) -> list[dict[str, Any]]:
        """All complete trace events so far."""
        return read_trace(self.trace_path)

    def close(self) -> None:
        if self._trace is not None:
            self._trace.close()
            self._trace = None

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"
