"""The library API under the command line and the web app: ingest, search, report, run, resume, check and
the run directories. Both front ends call these functions and nothing below them; every user-fixable failure
is raised as :class:`~sourcebook.errors.SourcebookError` with a one-line reason."""

from __future__ import annotations

import datetime as _dt
import shutil
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sourcebook.errors import InputError, ModelUnreachable, RunNotFoundError, SourcebookError
from sourcebook.request import Request, load_request

__all__ = [
    "RunInterrupted", "RunOutcome", "SourcebookError", "InputError", "Request", "load_request", "check_folder",
    "make_settings", "make_client", "ingest", "store_for", "search", "report", "run", "resume", "check", "list_runs",
    "show_run", "open_run",
]

ProgressFn = Callable[[str, str, int, int], None]
EventFn = Callable[[dict[str, Any]], None]


class RunInterrupted(KeyboardInterrupt):  # noqa: N818 - an interrupt, like KeyboardInterrupt
    """The process was asked to stop (SIGTERM) during a run."""


@dataclass
class RunOutcome:
    """What :func:`run` produced."""

    run_dir: Any                 # records.run_dir.RunDir
    agent: Any = None            # agent.loop.AgentResult, or None without a model
    report: Any = None           # report.pipeline.ReportResult, or None when not built / failed
    report_error: str | None = None
    files: list[Path] | None = None


# -- inputs ------------------------------------------------------------------------------------------------
def check_folder(folder: Path | str) -> Path:
    """``folder`` as a Path when it is an existing folder; :class:`InputError` otherwise."""
    p = Path(folder)
    if not p.exists():
        raise InputError(f"{p}: no such folder")
    if not p.is_dir():
        raise InputError(f"{p}: not a folder")
    return p


def make_settings(model: str | None = None, base_url: str | None = None, provider: str | None = None,
                  dialect: str | None = None, base: dict[str, Any] | None = None, no_llm: bool = False) -> Any:
    """Settings from the environment/config, with LLM options from ``base`` (a recorded config) and the
    given values; ``no_llm`` clears the model (extractive report)."""
    from sourcebook.config import get_settings

    try:
        settings = get_settings()
    except Exception as e:  # a malformed sourcebook.toml / environment value
        raise InputError(f"settings: {e}".splitlines()[0]) from e
    update: dict[str, Any] = {}
    for key in ("provider", "base_url", "model", "dialect", "temperature", "max_tokens", "timeout_s"):
        recorded = (base or {}).get(key)
        if recorded not in (None, "", "***"):
            update[key] = recorded
    for key, value in (("model", model), ("base_url", base_url), ("provider", provider), ("dialect", dialect)):
        if value:
            update[key] = value
    if no_llm:
        update["model"] = ""
    if update:
        settings.llm = settings.llm.model_copy(update=update)
    return settings


def make_client(settings: Any) -> Any:
    """The chat client the settings describe, or None without a model."""
    from sourcebook.llm import make_client as _make

    try:
        return _make(settings.llm)
    except ValueError as e:
        raise InputError(str(e)) from e


# -- evidence ----------------------------------------------------------------------------------------------
def ingest(folder: Path | str, settings: Any = None, progress: ProgressFn | None = None,
           dense_all: bool = False) -> Any:
    """Bring the evidence store of ``folder`` up to date; returns the ingest report (``.store``, ``.sources``)."""
    from sourcebook.ingest.folder import ingest_folder
    from sourcebook.store import StoreError

    folder = check_folder(folder)
    try:
        return ingest_folder(folder, settings=settings, progress=progress, dense_all=dense_all)
    except (StoreError, OSError) as e:
        raise SourcebookError(f"{folder}: {e}") from e


def store_for(folder: Path | str, settings: Any = None) -> Any:
    """The evidence store of ``folder`` as it is (ingested first when it holds nothing yet)."""
    from sourcebook.store import StoreError, open_store

    folder = check_folder(folder)
    try:
        store = open_store(folder, settings)
    except StoreError as e:
        raise SourcebookError(str(e)) from e
    return store if store.sources() else ingest(folder, settings).store


def search(folder: Path | str, query: str, k: int = 10, kinds: list[str] | None = None, mode: str = "hybrid",
           diverse: bool = False, sources: list[str] | None = None, settings: Any = None,
           store: Any = None) -> list[Any]:
    """Search the evidence of ``folder`` (ingested first unless ``store`` is given)."""
    store = store if store is not None else ingest(folder, settings).store
    try:
        return store.search(query, k=k, kinds=kinds, mode=mode, diverse=diverse, sources=sources)
    except ValueError as e:
        raise InputError(str(e)) from e


# -- report ------------------------------------------------------------------------------------------------
def report(folder: Path | str, request: str, out: Path | None = None, *, extractive: bool = False,
           rounds: int = 3, settings: Any = None, store: Any = None, progress: ProgressFn | None = None) -> Any:
    """Write a grounded, cited report for ``request`` from ``folder`` into ``out``; returns the ReportResult."""
    from sourcebook.report.pipeline import build_report

    settings = settings or make_settings()
    client = None if extractive else make_client(settings)
    store = store if store is not None else ingest(folder, settings, progress=progress).store
    out = Path(out or Path(settings.runs_dir) / f"report-{_dt.datetime.now():%Y%m%d-%H%M%S}")
    return build_report(store, request, settings, out, client=client, max_rounds=rounds)


def check(report_file: Path | str, request: str, folder: Path | str | None = None,
          settings: Any = None) -> dict[str, Any]:
    """Re-check an existing report file against ``request`` (length, sections, format, citations, …); with
    ``folder``, every citation is resolved to the folder's passages and every claim verified."""
    from sourcebook.report.check_cli import check_file

    p = Path(report_file)
    if not p.is_file():
        raise InputError(f"{p}: no such report file")
    try:
        return check_file(p, request, Path(folder) if folder is not None else None, settings)
    except (OSError, ValueError) as e:
        raise InputError(f"{p}: {e}") from e


# -- runs --------------------------------------------------------------------------------------------------
@contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into :class:`RunInterrupted` while a run goes (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise RunInterrupted(f"signal {signum}")

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


@contextmanager
def _recorded(rd: Any) -> Iterator[None]:
    """Run a run's stages with SIGTERM as an interrupt; the run's status records how it ended (``interrupted``
    or ``failed`` with the reason), and its files are closed whatever happens."""
    try:
        with _stop_on_sigterm():
            yield
    except KeyboardInterrupt:
        rd.finish("interrupted", error="stopped by a signal or Ctrl-C")
        raise
    except SourcebookError as e:
        rd.finish("failed", error=str(e))
        raise
    except Exception as e:
        rd.finish("failed", error=f"{type(e).__name__}: {e}")
        raise
    finally:
        rd.close()


def _copy_evidence(rd: Any, store: Any, result: Any) -> list[str]:
    """Copy the keyframes of cited video passages into the run's ``evidence/`` (``<passage id>.jpg``)."""
    from sourcebook.report.citations import cited_ids

    copied: list[str] = []
    ids = {i for s in result.draft.sections for i in cited_ids(s.body)}
    for pid in sorted(ids):
        p = store.get_passage(pid)
        frame = (p.loc or {}).get("keyframe") if p is not None else None
        if not frame or not Path(frame).is_file():
            continue
        rd.evidence_dir.mkdir(exist_ok=True)
        dest = rd.evidence_dir / f"{pid}{Path(frame).suffix or '.jpg'}"
        shutil.copyfile(frame, dest)
        copied.append(dest.name)
    return copied


def _unreachable(rd: Any, result: Any) -> str:
    """The last model error when the agent stopped because no model call ever succeeded, else ""."""
    if result is None or result.stopped != "llm_error" or result.usage.total_tokens:
        return ""
    events = rd.events()
    if any(e.get("type") == "turn" for e in events):
        return ""
    errors = [e.get("error", "") for e in events if e.get("type") == "llm_error"]
    return " ".join(str(errors[-1] if errors else "model calls failed").split())


def _conclude(rd: Any, store: Any, request: str, settings: Any, client: Any, result: Any,
              build: bool) -> RunOutcome:
    out = RunOutcome(rd, agent=result, files=[])
    if result is not None:
        p = rd.path / "answer.md"
        p.write_text(result.final_text.rstrip() + "\n", encoding="utf-8")
        out.files.append(p)
    unreachable = _unreachable(rd, result)
    if unreachable:
        message = f"the model could not be reached: {unreachable}"
        rd.log(message)
        rd.finish("failed", error=message,
                  files=sorted(str(f.relative_to(rd.path)) for f in out.files if Path(f).is_relative_to(rd.path)))
        raise ModelUnreachable(message, rd.path)
    if build:
        from sourcebook.report.pipeline import build_report

        rd.stage("report")
        try:
            out.report = build_report(store, request, settings, rd.path, client=client, agent_result=result)
        except Exception as e:  # the agent's work is already saved; say what failed and keep it
            out.report_error = f"report failed: {type(e).__name__}: {e}"
            rd.log(out.report_error)
        else:
            out.files += list(out.report.paths.values())
            _copy_evidence(rd, store, out.report)
    files = sorted(str(f.relative_to(rd.path)) for f in out.files if Path(f).is_relative_to(rd.path))
    if out.report_error:
        rd.finish("failed", error=out.report_error, files=files)
    else:
        rd.finish("done", verdict=out.report.verdict if out.report else None, files=files)
    return out


def run(folder: Path | str, request: str | Request, *, settings: Any = None, runs_dir: Path | None = None,
        max_turns: int = 20, max_tokens: int | None = 500_000, build_report: bool = True,
        on_event: EventFn | None = None, task: dict[str, Any] | None = None,
        on_created: Callable[[Any], None] | None = None) -> RunOutcome:
    """A whole run: a new run directory, ingest, the agent (when a model is configured), the report.

    ``run.json`` / ``turns.log`` / ``trace.jsonl`` are written as it goes; the status ends ``done``,
    ``failed`` (the reason in ``error``) or ``interrupted`` (SIGTERM / Ctrl-C)."""
    from sourcebook.agent.loop import run_agent
    from sourcebook.llm.recording import RecordingClient
    from sourcebook.records.run_dir import RunDir

    if isinstance(request, Request):
        task = task or request.task or None
        request = request.text
    if not request or not request.strip():
        raise InputError("no request: the request is empty")
    folder = check_folder(folder)
    settings = settings or make_settings()
    client = make_client(settings)
    rd = RunDir.create(Path(runs_dir or settings.runs_dir), folder, request, settings,
                       extra={"task": task} if task else None)
    if on_created is not None:
        on_created(rd)
    if client is not None:
        client = RecordingClient(client, rd.recorder.add_usage)
        rd.recorder.count_turn_usage = False
    rd.log(f"run started: model={settings.llm.model or '(none)'} folder={folder}")
    with _recorded(rd):
        rd.stage("ingest", str(folder))
        store = ingest(folder, settings).store
        rd.stage("ingest", f"{len(store.sources())} files, {store.passage_count()} passages")
        result = None
        if client is not None:
            rd.stage("agent")
            result = run_agent(client, store, request, rd, settings=settings, max_turns=max_turns,
                               max_tokens=max_tokens, on_event=on_event)
        return _conclude(rd, store, request, settings, client, result, build_report)


def resume(run_dir: Path | str, *, model: str | None = None, base_url: str | None = None,
           provider: str | None = None, dialect: str | None = None, build_report: bool = True,
           on_event: EventFn | None = None) -> RunOutcome:
    """Continue an interrupted run from its trace (finished tool calls are not run again)."""
    from sourcebook.agent.loop import resume as resume_agent
    from sourcebook.llm.recording import RecordingClient

    rd = open_run(run_dir)
    req = rd.request
    folder = Path(req["folder"])
    if not folder.is_dir():
        raise InputError(f"{folder}: the run's task folder is gone")
    settings = make_settings(model, base_url, provider, dialect, base=rd.config.get("llm"))
    client = make_client(settings)
    if client is not None:
        client = RecordingClient(client, rd.recorder.add_usage)
        rd.recorder.count_turn_usage = False
    rd.recorder.reopen()
    rd.log("resumed")
    with _recorded(rd):
        store = ingest(folder, settings).store
        try:
            result = resume_agent(rd, client, store, settings=settings, on_event=on_event)
        except ValueError as e:
            raise InputError(str(e)) from e
        return _conclude(rd, store, req["request"], settings, client, result, build_report)


def open_run(path: Path | str) -> Any:
    """The run directory at ``path``; :class:`RunNotFoundError` when it is none."""
    from sourcebook.records.run_dir import RunDir

    try:
        return RunDir.open(Path(path))
    except FileNotFoundError as e:
        raise RunNotFoundError(str(e)) from e


def list_runs(runs_dir: Path | str) -> list[dict[str, Any]]:
    """Every run under ``runs_dir`` (its ``run.json`` summary plus ``path``), newest first."""
    from sourcebook.records.run_record import read_run_info

    root = Path(runs_dir)
    if not root.is_dir():
        return []
    out = []
    for p in root.iterdir():
        if p.is_dir() and not p.is_symlink() and (p / "request.json").is_file():
            info = read_run_info(p)
            info["path"] = str(p)
            out.append(info)
    out.sort(key=lambda i: (str(i.get("started") or ""), i["id"]), reverse=True)
    return out


def show_run(path: Path | str) -> dict[str, Any]:
    """The summary of one run (``run.json``, a killed run reported as interrupted) plus ``path``."""
    from sourcebook.records.run_record import read_run_info

    rd = open_run(path)
    info = read_run_info(rd.path)
    info["path"] = str(rd.path)
    return info
