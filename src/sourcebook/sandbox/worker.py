"""The Python worker that runs inside the sandbox: one JSON request per line in, one JSON answer per line out.

Self-contained on purpose (standard library, plus numpy/pandas/matplotlib when present): the sandbox shows it
the Python runtime but not the sourcebook sources. State (variables, imports) lives in one namespace for the
worker's life. Each answer carries stdout, stderr, the last expression's value, the traceback as text, the
files the code created or changed in the output directory, and for every saved chart what it shows and what
data it came from.
"""

from __future__ import annotations

import ast
import builtins
import io
import json
import linecache
import os
import signal
import sys
import traceback
from typing import Any

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Source Han Sans SC",
             "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Droid Sans Fallback", "AR PL UMing CN")


class Bounded(io.TextIOBase):
    """A text sink that keeps the first ``limit`` characters and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.kept = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        s = str(s)
        room = self.limit - self.kept
        if room > 0:
            self.parts.append(s[:room])
            self.kept += min(room, len(s))
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def text(self) -> str:
        out = "".join(self.parts)
        if self.dropped:
            out += f"\n…[output truncated: {self.dropped} more characters]"
        return out


class Tracker:
    """What the code read from the data folder and which charts it saved."""

    def __init__(self, data_dir: str) -> None:
        self.data_dir = data_dir.rstrip("/")
        self.reads: dict[str, dict[str, set[str]]] = {}   # file → {"sheets": …, "columns": …}
        self.figures: list[dict[str, Any]] = []
        self.cell_code = ""

    def rel(self, path: Any) -> str | None:
        try:
            p = os.path.abspath(os.fspath(path))
        except TypeError:
            return None
        if p == self.data_dir or not p.startswith(self.data_dir + "/"):
            return None
        return p[len(self.data_dir) + 1:]

    def read(self, path: Any, sheet: Any = None) -> str | None:
        rel = self.rel(path)
        if rel is None:
            return None
        entry = self.reads.setdefault(rel, {"sheets": set(), "columns": set()})
        if isinstance(sheet, str):
            entry["sheets"].add(sheet)
        elif isinstance(sheet, list | tuple):
            entry["sheets"].update(str(s) for s in sheet)
        return rel

    def column(self, rel: str, key: Any) -> None:
        entry = self.reads.setdefault(rel, {"sheets": set(), "columns": set()})
        keys = key if isinstance(key, list | tuple) else [key]
        for k in keys:
            if isinstance(k, str | int | float) and len(entry["columns"]) < 200:
                entry["columns"].add(str(k))

    def inputs(self) -> list[dict[str, Any]]:
        return [{"file": f, "sheets": sorted(v["sheets"]), "columns": sorted(v["columns"])}
                for f, v in sorted(self.reads.items())]


def _install_hooks(tracker: Tracker) -> None:
    real_open = builtins.open

    def tracked_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, str | bytes | os.PathLike):
            tracker.read(file)
        return real_open(file, *args, **kwargs)

    builtins.open = tracked_open
    try:
        import pandas as pd
    except Exception:  # noqa: BLE001 - pandas is optional inside the worker
        pd = None
    if pd is not None:
        def wrap_reader(fn: Any, sheet_kw: str | None) -> Any:
            def reader(path: Any, *args: Any, **kwargs: Any) -> Any:
                sheet = kwargs.get(sheet_kw) if sheet_kw else None
                rel = tracker.read(path, sheet if sheet is not None else None) if not hasattr(path, "read") \
                    else None
                out = fn(path, *args, **kwargs)
                frames = out.values() if isinstance(out, dict) else [out]
                for name, frame in zip(out.keys() if isinstance(out, dict) else [sheet], frames, strict=False):
                    if rel is not None and hasattr(frame, "attrs"):
                        frame.attrs["source_file"] = rel
                        if name is not None:
                            frame.attrs["source_sheet"] = str(name)
                            tracker.read(os.path.join(tracker.data_dir, rel), str(name))
                return out
            reader.__doc__ = fn.__doc__
            return reader

        pd.read_csv = wrap_reader(pd.read_csv, None)
        pd.read_excel = wrap_reader(pd.read_excel, "sheet_name")
        pd.read_table = wrap_reader(pd.read_table, None)
        frame_getitem = pd.DataFrame.__getitem__

        def getitem(self: Any, key: Any) -> Any:
            rel = self.attrs.get("source_file") if hasattr(self, "attrs") else None
            if rel:
                tracker.column(rel, key)
            return frame_getitem(self, key)

        pd.DataFrame.__getitem__ = getitem
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import font_manager
        from matplotlib.figure import Figure
    except Exception:  # noqa: BLE001 - matplotlib is optional inside the worker
        return
    names = {f.name for f in font_manager.fontManager.ttflist}
    cjk = [n for n in CJK_FONTS if n in names]
    matplotlib.rcParams["font.sans-serif"] = cjk + list(matplotlib.rcParams["font.sans-serif"])
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["axes.unicode_minus"] = False
    real_savefig = Figure.savefig

    def savefig(self: Any, fname: Any, *args: Any, **kwargs: Any) -> Any:
        out = real_savefig(self, fname, *args, **kwargs)
        if isinstance(fname, str | os.PathLike):
            tracker.figures.append({"path": os.path.abspath(os.fspath(fname)), "summary": describe_figure(self),
                                    "code": tracker.cell_code, "inputs": tracker.inputs()})
        return out

    Figure.savefig = savefig


def _num(v: Any) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return str(int(f)) if f.is_integer() and abs(f) < 1e15 else f"{f:.4g}"


def _xlabel(v: Any, axis: Any) -> str:
    try:
        import matplotlib.dates as mdates

        conv = axis.xaxis.get_converter() if hasattr(axis.xaxis, "get_converter") else axis.xaxis.converter
        if conv is not None and "date" in type(conv).__name__.lower():
            return mdates.num2date(float(v)).date().isoformat()
    except Exception:  # noqa: BLE001
        pass
    if hasattr(v, "isoformat"):
        return v.isoformat()[:10]
    s = str(v)
    if len(s) >= 10 and s[4] == "-" and s[7] == "-":
        return s[:10]
    return _num(v)


def describe_figure(fig: Any) -> str:
    """A text summary of what a matplotlib figure plots: titles, axes, series with their range and peak."""
    lines: list[str] = []
    title = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) is not None else ""
    if title:
        lines.append(f"title: {title}")
    for ax in fig.get_axes():
        head = [f"axes '{ax.get_title()}'" if ax.get_title() else "axes"]
        if ax.get_xlabel():
            head.append(f"x: {ax.get_xlabel()}")
        if ax.get_ylabel():
            head.append(f"y: {ax.get_ylabel()}")
        lines.append(", ".join(head))
        for line in ax.get_lines()[:8]:
            xs, ys = line.get_xdata(), line.get_ydata()
            pts = [(x, y) for x, y in zip(xs, ys, strict=False) if _finite(y)]
            if not pts:
                continue
            hi = max(pts, key=lambda p: float(p[1]))
            lo = min(pts, key=lambda p: float(p[1]))
            label = line.get_label() if not str(line.get_label()).startswith("_") else "series"
            lines.append(f"- line {label}: {len(pts)} points from {_xlabel(pts[0][0], ax)} to "
                         f"{_xlabel(pts[-1][0], ax)}; first {_num(pts[0][1])}, last {_num(pts[-1][1])}, "
                         f"max {_num(hi[1])} at {_xlabel(hi[0], ax)}, min {_num(lo[1])} at {_xlabel(lo[0], ax)}")
        for cont in ax.containers[:4]:
            patches = list(getattr(cont, "patches", []))
            if not patches:
                continue
            ticks = [t.get_text() for t in ax.get_xticklabels()]
            bars = []
            for i, p in enumerate(patches[:12]):
                name = ticks[i] if i < len(ticks) and ticks[i] else str(i)
                bars.append(f"{name}={_num(p.get_height())}")
            more = f" (+{len(patches) - 12} more)" if len(patches) > 12 else ""
            label = cont.get_label() if cont.get_label() and not str(cont.get_label()).startswith("_") else "bars"
            lines.append(f"- {label}: " + ", ".join(bars) + more)
    return "\n".join(lines)


def _finite(v: Any) -> bool:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return False
    return f == f and f not in (float("inf"), float("-inf"))


def snapshot(root: str) -> dict[str, tuple[int, int]]:
    """{path: (size, mtime_ns)} of the files under ``root`` (bounded walk)."""
    out: dict[str, tuple[int, int]] = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = os.path.join(dirpath, name)
            try:
                st = os.stat(p)
            except OSError:
                continue
            out[p] = (st.st_size, st.st_mtime_ns)
            if len(out) > 5000:
                return out
    return out


class Worker:
    """Executes cells in one namespace; answers one request at a time."""

    def __init__(self, config: dict[str, Any], proto: Any, fd_log: str) -> None:
        self.config = config
        self.proto = proto
        self.fd_log = fd_log
        self.limit = int(config.get("max_output_chars", 20000))
        self.out_dir = config["out_dir"]
        self.tracker = Tracker(config["data_dir"])
        self.ns: dict[str, Any] = {"__name__": "__main__", "DATA_DIR": config["data_dir"],
                                   "OUTPUT_DIR": self.out_dir}
        self.count = 0

    def fd_output(self) -> str:
        """What child processes / C code wrote straight to file descriptors 1 and 2 during the cell."""
        try:
            with open(self.fd_log, "rb") as f:
                data = f.read(self.limit + 1)
                end = f.seek(0, 2)
            os.truncate(self.fd_log, 0)  # the log never grows past one cell's output
        except OSError:
            return ""
        text = data[: self.limit].decode("utf-8", "replace")
        if end > self.limit:
            text += f"\n…[output truncated: {end - self.limit} more bytes]"
        return text

    def run(self, code: str) -> dict[str, Any]:
        self.count += 1
        name = f"<cell {self.count}>"
        self.tracker.cell_code = code
        self.tracker.figures = []
        before = snapshot(self.out_dir)
        out, err = Bounded(self.limit), Bounded(self.limit)
        value = None
        error = None
        old = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        try:
            tree = ast.parse(code, name, "exec")
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            linecache.cache[name] = (len(code), None, code.splitlines(True), name)
            exec(compile(tree, name, "exec"), self.ns)  # noqa: S102 - running the model's code is the point
            if last is not None:
                result = eval(compile(ast.Expression(last.value), name, "eval"), self.ns)  # noqa: S307
                if result is not None:
                    self.ns["_"] = result
                    value = repr(result)
                    if len(value) > self.limit:
                        value = value[: self.limit] + f"…[value truncated: {len(value) - self.limit} more]"
        except BaseException as exc:  # noqa: BLE001 - every failure (sys.exit() included) goes back as text
            tb = exc.__traceback__
            while tb is not None and tb.tb_frame.f_code.co_filename != name:
                tb = tb.tb_next
            te = traceback.TracebackException(type(exc), exc, tb or exc.__traceback__)
            te.stack = traceback.StackSummary.from_list([f for f in te.stack if f.filename != __file__])
            error = "".join(te.format())
            if len(error) > self.limit:
                error = error[: self.limit // 2] + "\n…\n" + error[-self.limit // 2:]
        finally:
            sys.stdout, sys.stderr = old
            try:
                import matplotlib.pyplot as plt

                plt.close("all")
            except Exception:  # noqa: BLE001
                pass
        after = snapshot(self.out_dir)
        files = sorted(p for p, st in after.items() if before.get(p) != st)
        fd_text = self.fd_output()
        stdout = out.text() + (("\n" if out.kept else "") + fd_text if fd_text else "")
        return {"ok": error is None, "stdout": stdout, "stderr": err.text(), "value": value, "error": error,
                "files": files, "figures": [f for f in self.tracker.figures if f["path"] in after],
                "cell": self.count}

    def serve(self) -> None:
        self.send({"ready": True, "uid": os.getuid(), "python": sys.version.split()[0]})
        for line in sys.stdin:
            try:
                req = json.loads(line)
            except ValueError:
                self.send({"ok": False, "error": "bad request"})
                continue
            self.send(self.run(str(req.get("code", ""))))

    def send(self, doc: dict[str, Any]) -> None:
        self.proto.write(json.dumps(doc, ensure_ascii=False, default=str) + "\n")
        self.proto.flush()


def drop_privileges(uid: int) -> None:
    """Root inside the sandbox becomes ``uid``: process limits apply and no capability is left."""
    if os.getuid() != 0:
        return
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def main() -> None:
    config = json.loads(sys.argv[1])
    if config.get("drop_uid") is not None:
        drop_privileges(int(config["drop_uid"]))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails with an error instead
    os.chdir(config["out_dir"])
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8")
    fd_log = os.path.join(config.get("tmp_dir", "/tmp"), f".worker-output-{os.getpid()}")
    fd = os.open(fd_log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    devnull = os.open(os.devnull, os.O_RDONLY)
    stdin = os.fdopen(os.dup(0), "r", encoding="utf-8")
    os.dup2(devnull, 0)
    sys.stdin = stdin
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
    worker = Worker(config, proto, fd_log)
    try:
        _install_hooks(worker.tracker)
    except Exception as exc:  # noqa: BLE001 - a broken optional library must not stop the worker
        print(f"hooks not installed: {exc}", file=sys.stderr)
    worker.serve()


if __name__ == "__main__":
    main()
