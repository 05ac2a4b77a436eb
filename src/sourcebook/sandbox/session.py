"""The host side of the sandboxed Python worker: start it, send code, read the answer within a deadline,
restart it after a timeout or a crash. Errors of the code come back as text, never as exceptions."""

from __future__ import annotations

import json
import logging
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sourcebook.sandbox.isolation import (
    BUBBLEWRAP,
    NOBODY,
    Plan,
    bwrap_plan,
    bwrap_problem,
    reduced_plan,
)
from sourcebook.sandbox.limits import Limits

log = logging.getLogger(__name__)

MAX_ANSWER_BYTES = 8 * 2**20
STARTUP_TIMEOUT_S = 120.0


class SandboxError(Exception):
    """The worker could not be started at all (the message says why)."""


@dataclass
class CellResult:
    """What one run of code produced. Paths are host paths (the caller can open them)."""

    ok: bool
    stdout: str = ""
    stderr: str = ""
    value: str | None = None
    error: str | None = None
    files: list[str] = field(default_factory=list)
    figures: list[dict[str, Any]] = field(default_factory=list)
    cell: int = 0
    elapsed_ms: float = 0.0
    restarted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def text(self) -> str:
        """The result as the model reads it."""
        parts = []
        if self.stdout:
            parts.append(f"stdout:\n{self.stdout.rstrip()}")
        if self.stderr:
            parts.append(f"stderr:\n{self.stderr.rstrip()}")
        if self.value is not None:
            parts.append(f"value: {self.value}")
        if self.error:
            parts.append(f"error:\n{self.error.rstrip()}")
        if self.files:
            parts.append("files:\n" + "\n".join(f"- {f}" for f in self.files))
        return "\n\n".join(parts) or "(no output)"


class PythonSandbox:
    """One stateful Python worker over a task folder (read-only) and an output directory (its cwd).

    ``isolation`` is ``"bubblewrap"`` or ``"reduced"``; ``description`` says what that means here. With
    ``require_isolation`` a machine without a working bubblewrap raises instead of running reduced."""

    def __init__(self, data_dir: Path, out_dir: Path, limits: Limits | None = None,
                 require_isolation: bool = False, python: str | None = None) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.out_dir = Path(out_dir).resolve()
        if not self.data_dir.is_dir():
            raise SandboxError(f"{data_dir}: task folder not found")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.limits = limits or Limits()
        self.python = python or sys.executable
        self.problem = bwrap_problem()
        if self.problem and require_isolation:
            raise SandboxError(f"sandbox isolation unavailable: {self.problem}")
        self._tmp = Path(tempfile.mkdtemp(prefix="sourcebook-worker-"))
        self.plan = self._plan()
        self.isolation = self.plan.level
        self.description = self.plan.description
        self.warnings = self._unreadable()
        if self.isolation != BUBBLEWRAP:
            log.warning("Python sandbox: %s", self.description)
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr_path = self._tmp / "worker-stderr.log"
        self._lock = threading.Lock()
        self.calls = 0
        self.restarts = 0
        self.history: list[dict[str, Any]] = []

    # -- process --------------------------------------------------------------------------------------------
    def _plan(self) -> Plan:
        root = os.getuid() == 0
        if self.problem is None:
            config = {"data_dir": "/data", "out_dir": "/output", "tmp_dir": "/tmp",
                      "max_output_chars": self.limits.max_output_chars, "drop_uid": NOBODY if root else None}
            if root:  # the worker runs as nobody; bwrap itself (root without capabilities) must enter it too
                os.chown(self.out_dir, NOBODY, NOBODY)
                self.out_dir.chmod(0o755)
            return bwrap_plan(self.python, self.data_dir, self.out_dir, self.limits.tmp_mb, json.dumps(config))
        config = {"data_dir": str(self.data_dir), "out_dir": str(self.out_dir), "tmp_dir": str(self._tmp),
                  "max_output_chars": self.limits.max_output_chars, "drop_uid": None}
        plan = reduced_plan(self.python, self.data_dir, self.out_dir, self._tmp, json.dumps(config), self.problem)
        if root:
            plan.notes.append("runs as root: the process limit does not apply")
        return plan

    def _unreadable(self) -> list[str]:
        """Task files the sandbox user (nobody, when started as root) will not be able to read."""
        if not (self.isolation == "bubblewrap" and os.getuid() == 0):
            return []
        out = []
        for p in [self.data_dir, *sorted(self.data_dir.rglob("*"))[:2000]]:
            need = 0o005 if p.is_dir() else 0o004
            if (p.stat().st_mode & need) != need:
                rel = p.relative_to(self.data_dir).as_posix() or "."
                out.append(f"{rel}: not readable by the sandbox user (mode {p.stat().st_mode & 0o777:o})")
        return out[:20]

    @property
    def data_path(self) -> str:
        """The task folder as the code sees it."""
        return self.plan.data_dir

    @property
    def output_path(self) -> str:
        """The output directory as the code sees it."""
        return self.plan.out_dir

    def to_host(self, path: str) -> str:
        """Map a path seen by the worker to the host path."""
        if path == self.plan.out_dir or path.startswith(self.plan.out_dir.rstrip("/") + "/"):
            return str(self.out_dir / os.path.relpath(path, self.plan.out_dir))
        if path == self.plan.data_dir or path.startswith(self.plan.data_dir.rstrip("/") + "/"):
            return str(self.data_dir / os.path.relpath(path, self.plan.data_dir))
        return path

    def _start(self) -> None:
        limits = self.limits

        def child() -> None:
            limits.apply()

        stderr = self._stderr_path.open("wb")
        try:
            self._proc = subprocess.Popen(self.plan.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=stderr, cwd=self.plan.cwd, env=self.plan.env,
                                          preexec_fn=child, start_new_session=True)
        except OSError as e:
            raise SandboxError(f"cannot start the Python worker: {e}") from e
        finally:
            stderr.close()
        ready = self._read(STARTUP_TIMEOUT_S)
        if not isinstance(ready, dict) or not ready.get("ready"):
            detail = self._stderr_tail()
            self._kill()
            raise SandboxError(f"the Python worker did not start: {ready if isinstance(ready, str) else ''}"
                               f"{detail}")

    def _stderr_tail(self) -> str:
        try:
            return self._stderr_path.read_text(errors="replace")[-1500:]
        except OSError:
            return ""

    def _read(self, timeout: float) -> dict[str, Any] | str:
        """One answer line, or a string saying why there is none (timeout, exit)."""
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        fd = proc.stdout.fileno()
        buf = bytearray()
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return "timeout"
                if not sel.select(left):
                    continue
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    code = proc.wait(timeout=5)
                    return f"exit {code}"
                buf += chunk
                if b"\n" in buf:
                    line = bytes(buf[: buf.index(b"\n")])
                    try:
                        return json.loads(line)
                    except ValueError:
                        return "unreadable answer"
                if len(buf) > MAX_ANSWER_BYTES:
                    return "answer too large"

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()

    # -- calls ----------------------------------------------------------------------------------------------
    def run(self, code: str, timeout_s: float | None = None) -> CellResult:
        """Run ``code`` in the worker's namespace; state persists between calls until a restart."""
        timeout = timeout_s if timeout_s is not None else self.limits.timeout_s
        with self._lock:
            t0 = time.perf_counter()
            restarted = False
            if self._proc is None or self._proc.poll() is not None:
                restarted = self._proc is not None or self.calls > 0
                self._kill()
                self._start()
            assert self._proc is not None and self._proc.stdin is not None
            self.calls += 1
            try:
                self._proc.stdin.write((json.dumps({"code": code}, ensure_ascii=False) + "\n").encode())
                self._proc.stdin.flush()
                answer = self._read(timeout)
            except (BrokenPipeError, OSError) as e:
                answer = f"worker unreachable: {e}"
            ms = (time.perf_counter() - t0) * 1000
            if isinstance(answer, str):
                self._kill()
                self.restarts += 1
                reason = {"timeout": f"the code ran longer than {timeout:g} s and was stopped"}.get(
                    answer, self._death(answer))
                res = CellResult(False, error=f"{reason}; the Python session was restarted and its variables "
                                 "are lost", elapsed_ms=ms, restarted=restarted)
            else:
                res = CellResult(bool(answer.get("ok")), answer.get("stdout", ""), answer.get("stderr", ""),
                                 answer.get("value"), answer.get("error"),
                                 [self.to_host(p) for p in answer.get("files", [])],
                                 [dict(f, path=self.to_host(f["path"])) for f in answer.get("figures", [])],
                                 int(answer.get("cell", 0)), ms, restarted)
            self.history.append({"code": code, "ok": res.ok, "elapsed_ms": round(ms, 1), "files": res.files,
                                 "error": (res.error or "")[:500]})
            return res

    def _death(self, why: str) -> str:
        if why.startswith("exit "):
            code = int(why.split()[1])
            if code > 128 and self.isolation == BUBBLEWRAP:  # bwrap reports its child's signal as 128 + n
                code = 128 - code
            if code < 0:
                try:
                    name = signal.Signals(-code).name
                except ValueError:
                    name = f"signal {-code}"
                hint = {"SIGXCPU": " (CPU time limit)", "SIGKILL": " (killed, e.g. out of memory)",
                        "SIGXFSZ": " (file size limit)"}.get(name, "")
                return f"the Python worker died with {name}{hint}"
            return f"the Python worker exited with status {code}"
        return f"the Python worker failed: {why}"

    def info(self) -> dict[str, Any]:
        """What to record about this sandbox in a run."""
        return {"isolation": self.isolation, "description": self.description, "limits": self.limits.to_dict(),
                "data_dir": self.data_path, "output_dir": str(self.out_dir), "calls": self.calls,
                "restarts": self.restarts}

    def close(self) -> None:
        """Stop the worker."""
        with self._lock:
            self._kill()
        try:
            for p in self._tmp.iterdir():
                p.unlink()
            self._tmp.rmdir()
        except OSError:
            pass

    def __enter__(self) -> PythonSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
