"""``tool-python`` / ``run_python_code``: the model's data analysis in the sandboxed, stateful Python worker.

The worker starts on the first call. Charts it saves become figure passages in the store (cite them like any
passage); every call is recorded in ``sandbox.json`` in the output directory, with the isolation in force.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
from pathlib import Path
from typing import Any

from sourcebook.sandbox import Limits, PythonSandbox
from sourcebook.sandbox.figures import register_figure
from sourcebook.sandbox.isolation import DATA_DIR, OUTPUT_DIR, bwrap_problem
from sourcebook.tools.registry import ToolError

log = logging.getLogger(__name__)

SERVER = "tool-python"


class PythonTool:
    """One sandboxed Python session over a task folder, writing into ``out_dir``."""

    def __init__(self, folder: Path, out_dir: Path | None = None, store: Any = None,
                 limits: Limits | None = None) -> None:
        self.folder = Path(folder)
        self.out_dir = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="sourcebook-python-"))
        self.store = store
        self.limits = limits or Limits()
        self._sandbox: PythonSandbox | None = None
        self._lock = threading.Lock()
        self.figure_ids: list[str] = []

    @property
    def sandbox(self) -> PythonSandbox:
        with self._lock:
            if self._sandbox is None:
                self._sandbox = PythonSandbox(self.folder, self.out_dir, self.limits)
            return self._sandbox

    def description(self) -> str:
        """Tool description for the model, naming where the data is and what isolation is in force."""
        isolated = bwrap_problem() is None
        data = DATA_DIR if isolated else str(self.folder.resolve())
        out = OUTPUT_DIR if isolated else str(self.out_dir.resolve())
        return (
            "Run Python code (pandas, numpy, matplotlib) to analyse the task's data files. The session is "
            "stateful: variables and imports persist between calls. The task folder is read-only at "
            f"{data} (e.g. pd.read_csv('{data}/file.csv'), pd.read_excel('{data}/file.xlsx', sheet_name=...)); "
            f"the working directory is the writable output directory {out}: save charts with "
            "fig.savefig('name.png'). Chinese labels render. Returns stdout, stderr, the value of the last "
            "expression, the traceback on error and the files written; every saved chart is registered as a "
            "citable figure passage (its passage_id is returned). No network access."
            + ("" if isolated else " (reduced isolation on this machine)"))

    def run_python_code(self, code: str) -> str:
        """Run Python code in the sandboxed analysis session.

        Args:
            code: Python source; the value of a final expression is returned.
        """
        if not code or not code.strip():
            raise ToolError("code is empty")
        sb = self.sandbox
        res = sb.run(code)
        parts = [res.text()]
        if sb.isolation != "bubblewrap" and sb.calls == 1:
            parts.insert(0, f"[{sb.description}]")
        if sb.warnings and sb.calls == 1:
            parts.insert(0, "[task files the code cannot read: " + "; ".join(sb.warnings) + "]")
        for fig in res.figures:
            path = Path(fig["path"])
            if not _inside(path, self.out_dir):
                parts.append(f"{path}: not registered as a figure (a link or outside the output directory)")
                continue
            if self.store is not None:
                p = register_figure(self.store, path, fig.get("summary", ""), fig.get("code", ""),
                                    fig.get("inputs") or [])
                self.figure_ids.append(p.id)
                parts.append(f"{p.locator} saved: {path}\npassage_id: {p.id} (cite as [@{p.id}])\n"
                             f"{fig.get('summary', '')}")
            else:
                parts.append(f"figure saved: {path}\n{fig.get('summary', '')}")
        self._record()
        return "\n\n".join(parts)

    def _record(self) -> None:
        sb = self._sandbox
        if sb is None:
            return
        doc = dict(sb.info(), history=sb.history[-200:], figures=self.figure_ids)
        try:
            (self.out_dir / "sandbox.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1), "utf-8")
        except OSError as e:
            log.warning("cannot write sandbox.json: %s", e)

    def close(self) -> None:
        with self._lock:
            if self._sandbox is not None:
                self._record()
                self._sandbox.close()
                self._sandbox = None


def _inside(path: Path, root: Path) -> bool:
    """A regular file inside ``root`` that is not a symbolic link (the host will read and embed it)."""
    try:
        return (not path.is_symlink() and path.is_file()
                and path.resolve().is_relative_to(Path(root).resolve()))
    except OSError:
        return False


def add_python_tool(reg: Any, folder: Path, store: Any = None, out_dir: Path | None = None,
                    limits: Limits | None = None) -> PythonTool:
    """Register ``tool-python`` / ``run_python_code`` on ``reg`` (the worker starts on the first call)."""
    tool = PythonTool(folder, out_dir, store, limits)
    timeout = tool.limits.timeout_s + 150.0  # worker start-up + the call's own deadline
    reg.add(tool.run_python_code, SERVER, description=tool.description(), timeout_s=timeout)
    reg.on_close(tool.close)
    return tool
