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

_SECRET_KEY = re.compile(r"api[_-]?key|(?<![a-z])token(?![a-z])|secret|password|passwd|authorization|^auth$|"
                         r"credential|cookie|private[_-]?key", re.I)
# a parameter or flag name ending in a secret word: api-key, access_token, x-auth, sig (not max-tokens)
_SECRET_WORD = r"[\w.-]*(?:key|token|secret|sig|signature|password|passwd|auth|credential|pat)"
# name: value pairs whose whole value is secret: environment variables and HTTP headers
_OPAQUE_MAPS = {"env", "headers", "environment"}
_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/?#@\s]+@", re.I)
_URL_PARAM = re.compile(rf"(?P<name>[?&;]{_SECRET_WORD}=)[^&#\s]*", re.I)
_FLAG_VALUE = re.compile(rf"^(?P<flag>--?{_SECRET_WORD}[=:])(?P<value>.+)$", re.I)
_FLAG = re.compile(rf"^--?{_SECRET_WORD}$", re.I)
_TOKEN_SHAPES = re.compile(
    r"\b(?:sk-[A-Za-z0-9_-]{8,}|sk-ant-[A-Za-z0-9_-]{8,}|gh[pousr]_[A-Za-z0-9]{10,}|github_pat_\w{10,}|"
    r"xox[abposr]-[\w-]{8,}|AKIA[0-9A-Z]{16}|AIza[\w-]{20,}|hf_[A-Za-z0-9]{16,}|eyJ[\w-]{10,}\.[\w-]{10,}\.[\w-]+)"
)
MASK = "***"


def redact_text(text: str) -> str:
    """``text`` with credentials inside it masked: URL user info (``user:pw@``), secret query parameters
    (``?api-key=…``), ``--token=…`` flags and strings shaped like well-known API tokens."""
    text = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", text)
    text = _URL_PARAM.sub(lambda m: f"{m['name']}{MASK}", text)
    m = _FLAG_VALUE.match(text)
    if m:
        text = f"{m['flag']}{MASK}"
    return _TOKEN_SHAPES.sub(MASK, text)


def _redact_list(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    secret_next = False
    for v in items:
        if secret_next and isinstance(v, str):
            out.append(MASK)
        else:
            out.append(redact(v))
        secret_next = isinstance(v, str) and bool(_FLAG.match(v))
    return out


def redact(obj: Any) -> Any:
    """Return a copy of ``obj`` with secrets masked as ``"***"``: text values under secret-looking keys
    (numbers such as ``max_tokens`` are kept), every value of ``env``/``headers`` maps, the value after a
    ``--token``-like argument, and credentials inside any string (see :func:`redact_text`)."""
    if isinstance(obj, dict):
        out: dict[str, Any] = {}
        for k, v in obj.items():
            key = str(k)
            if v in (None, "", {}, []) or isinstance(v, bool | int | float):
                out[k] = v
            elif _SECRET_KEY.search(key) and not isinstance(v, dict | list):
                out[k] = MASK
            elif key.lower() in _OPAQUE_MAPS and isinstance(v, dict):
                out[k] = {name: (MASK if value not in (None, "") else value) for name, value in v.items()}
            else:
                out[k] = redact(v)
        return out
    if isinstance(obj, list):
        return _redact_list(obj)
    if isinstance(obj, str):
        return redact_text(obj)
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
