"""How the worker is isolated: a bubblewrap sandbox where ``bwrap`` works, else a plain child process with
rlimits and a scrubbed environment, recorded as reduced isolation.

Inside bubblewrap the worker sees only the Python runtime (read-only), the task folder (read-only, at
``/data``), its output directory (read-write, at ``/output``, also its working directory) and a small private
``/tmp``; it has its own network, PID, IPC and UTS namespaces, no home directory and no capabilities. Run as
root, the sandbox starts as root without capabilities except the two needed to become ``nobody`` (uid 65534),
which the worker does before it reads any request, so the process limit (RLIMIT_NPROC, ignored for root)
applies.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

DATA_DIR = "/data"
OUTPUT_DIR = "/output"
WORKER_PATH = "/opt/sourcebook/worker.py"
NOBODY = 65534
BUBBLEWRAP = "bubblewrap"
REDUCED = "reduced"

# environment the worker gets (nothing else from the caller's environment: no API keys, no proxies)
_BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONIOENCODING": "utf-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONNOUSERSITE": "1",
    "MPLBACKEND": "Agg",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_MAX_THREADS": "1",
}


@dataclass
class Plan:
    """The command that starts the worker and what it sees."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    level: str                      # bubblewrap | reduced
    data_dir: str                   # the task folder as the worker sees it
    out_dir: str                    # the output directory as the worker sees it
    notes: list[str] = field(default_factory=list)

    @property
    def description(self) -> str:
        if self.level == BUBBLEWRAP:
            return ("bubblewrap sandbox: own network/PID/IPC namespaces, task folder read-only at "
                    f"{self.data_dir}, output directory {self.out_dir}, no home, scrubbed environment, rlimits")
        return "reduced isolation: " + "; ".join(self.notes)


def worker_source() -> Path:
    """The worker script (shipped next to this module)."""
    return Path(__file__).with_name("worker.py")


def runtime_dirs() -> list[str]:
    """Directories the Python runtime needs (interpreter prefix, virtualenv, site-packages), outside /usr."""
    dirs = {sys.base_prefix, sys.prefix, sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    out = []
    for d in sorted(dirs):
        p = os.path.realpath(d)
        if p == "/usr" or p.startswith("/usr/"):
            continue
        if not any(p == o or p.startswith(o + "/") for o in out):
            out.append(p)
    return out


def _parents(dest: str) -> list[str]:
    parts = Path(dest).parts[1:-1]
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


@functools.lru_cache(maxsize=1)
def bwrap_problem() -> str | None:
    """Why bubblewrap cannot be used here (None when it works)."""
    exe = shutil.which("bwrap")
    if exe is None:
        return "bwrap (bubblewrap) is not installed"
    argv = [exe, "--unshare-net", "--unshare-pid", "--die-with-parent", "--ro-bind", "/", "/", "true"]
    if os.getuid() != 0:
        argv.insert(1, "--unshare-user")
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"bwrap does not start: {e}"
    if r.returncode != 0:
        return f"bwrap cannot create namespaces here: {(r.stderr or '').strip()[:200]}"
    return None


def bwrap_plan(python: str, data: Path, out: Path, tmp_mb: int, config_json: str) -> Plan:
    """The bubblewrap command line for a worker over task folder ``data`` writing to ``out``."""
    exe = shutil.which("bwrap") or "bwrap"
    root = os.getuid() == 0
    argv = [exe, "--die-with-parent", "--new-session", "--unshare-net", "--unshare-pid", "--unshare-ipc",
            "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox", "--clearenv"]
    if root:
        # no user namespace for root: the worker turns itself into nobody (see drop_privileges)
        argv += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        argv += ["--unshare-user"]
    made: set[str] = set()

    def mkdirs(dest: str) -> None:
        for parent in _parents(dest):
            if parent not in made:
                made.add(parent)
                argv.extend(["--perms", "0755", "--dir", parent])

    argv += ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "lib", "lib32", "lib64", "sbin"):
        p = Path("/") / name
        if p.is_symlink():
            argv += ["--symlink", os.readlink(p), str(p)]
        elif p.is_dir():
            argv += ["--ro-bind", str(p), str(p)]
    for etc in ("/etc/fonts", "/etc/ld.so.cache", "/etc/localtime", "/etc/mime.types"):
        if os.path.exists(etc):
            mkdirs(etc)
            argv += ["--ro-bind", etc, etc]
    for d in runtime_dirs():
        mkdirs(d)
        argv += ["--ro-bind", d, d]
    argv += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(tmp_mb * 2**20), "--tmpfs", "/tmp"]
    mkdirs(WORKER_PATH)
    argv += ["--ro-bind", str(worker_source()), WORKER_PATH]
    argv += ["--ro-bind", str(data), DATA_DIR, "--bind", str(out), OUTPUT_DIR, "--chdir", OUTPUT_DIR]
    env = dict(_BASE_ENV, HOME="/tmp", MPLCONFIGDIR="/tmp/matplotlib", TMPDIR="/tmp")
    for k, v in env.items():
        argv += ["--setenv", k, v]
    argv += [python, "-I", "-B", WORKER_PATH, config_json]
    return Plan(argv, env, str(out), BUBBLEWRAP, DATA_DIR, OUTPUT_DIR)


def reduced_plan(python: str, data: Path, out: Path, tmp: Path, config_json: str, reason: str) -> Plan:
    """A plain child process: rlimits, scrubbed environment, working directory = ``out``. The file system and
    the network are NOT isolated; the plan says so."""
    env = dict(_BASE_ENV, HOME=str(tmp), MPLCONFIGDIR=str(tmp / "matplotlib"), TMPDIR=str(tmp))
    argv = [python, "-I", "-B", str(worker_source()), config_json]
    notes = [reason, "separate process with rlimits and a scrubbed environment",
             "file system and network are not isolated"]
    return Plan(argv, env, str(out), REDUCED, str(data), str(out), notes)
