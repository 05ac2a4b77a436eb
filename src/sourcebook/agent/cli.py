"""``sourcebook run FOLDER "request"`` and ``sourcebook resume RUN_DIR``: the agent from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

err = Console(stderr=True)

ModelOpt = Annotated[str | None, typer.Option("--model", "-m", help="Model name (else SOURCEBOOK_LLM__MODEL).")]
BaseUrlOpt = Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible or Anthropic endpoint.")]
ProviderOpt = Annotated[str | None, typer.Option("--provider", help="openai (any compatible server) or anthropic.")]
DialectOpt = Annotated[str | None, typer.Option("--dialect", help="native function calling or xml.")]
TurnsOpt = Annotated[int, typer.Option("--max-turns", help="Most model turns with tools.")]
TokensOpt = Annotated[int, typer.Option("--max-tokens", help="Token budget of the run (prompt + completion).")]
ReportOpt = Annotated[bool, typer.Option("--report/--no-report", help="Build the report after the agent.")]


def _fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def load_task(task_file: Path, row: int = 0) -> dict[str, Any]:
    """One task from a JSON object, a JSON list or a JSONL file; the request is its ``query`` field."""
    from sourcebook.ingest.text import read_text_file

    text = read_text_file(task_file, "task file")
    try:
        data: Any = json.loads(text)
        rows = data if isinstance(data, list) else [data]
    except json.JSONDecodeError:
        try:
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as e:
            raise ValueError(f"{task_file}: not JSON or JSONL ({e.msg}, line {e.lineno})") from e
    if not 0 <= row < len(rows):
        raise ValueError(f"{task_file}: has {len(rows)} task(s); row {row} does not exist")
    task = rows[row]
    if not isinstance(task, dict):
        raise ValueError(f"{task_file}: row {row} is not an object")
    query = task.get("query") or task.get("request") or task.get("question")
    if not isinstance(query, str) or not query.strip():
        raise ValueError(f"{task_file}: row {row} has no 'query'")
    return {**task, "query": query}


def settings_with(model: str | None = None, base_url: str | None = None, provider: str | None = None,
                  dialect: str | None = None, base: dict[str, Any] | None = None) -> Any:
    """Settings from the environment/config, with LLM options from ``base`` (a recorded config) and flags."""
    from sourcebook.config import get_settings

    settings = get_settings()
    update: dict[str, Any] = {}
    for key in ("provider", "base_url", "model", "dialect", "temperature", "max_tokens", "timeout_s"):
        recorded = (base or {}).get(key)
        if recorded not in (None, "", "***"):
            update[key] = recorded
    for key, value in (("model", model), ("base_url", base_url), ("provider", provider), ("dialect", dialect)):
        if value:
            update[key] = value
    if update:
        settings.llm = settings.llm.model_copy(update=update)
    return settings


class _Progress:
    """A one-line live status: turn, last tool, tokens."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.status = console.status("starting…")
        self.tokens = 0
        self.turn = 0

    def __enter__(self) -> _Progress:
        self.status.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.status.__exit__(None, None, None)

    def __call__(self, e: dict[str, Any]) -> None:
        kind = e.get("type")
        if kind == "turn":
            self.turn = e.get("turn", self.turn)
            u = e.get("usage") or {}
            self.tokens += int(u.get("prompt_tokens", 0)) + int(u.get("completion_tokens", 0))
            calls = e.get("response", {}).get("tool_calls") or []
            what = ", ".join(f"{c.get('name')}" for c in calls) or "answer"
            self.status.update(escape(f"turn {self.turn} · {what} · {self.tokens:,} tokens"))
        elif kind == "tool":
            flag = " (cached)" if e.get("cached") else (" [red]error[/red]" if e.get("error") else "")
            call = (f"{e.get('server')}/{e.get('name')} "
                    f"{json.dumps(e.get('arguments'), ensure_ascii=False)[:80]}")
            self.console.print(f"  turn {e.get('turn')}: {escape(call)} "
                               f"{e.get('elapsed_s', 0):.2f}s{flag}", highlight=False)
        elif kind == "llm_error":
            self.console.print(f"  [yellow]model call failed:[/yellow] {escape(str(e.get('error')))}", highlight=False)


class ReportFailed(Exception):
    """The report could not be built or failed its measured checks (the run's other files are kept)."""


def finish_run(store: Any, request: str, settings: Any, run_dir: Any, client: Any, result: Any,
               build: bool = True) -> list[Path]:
    """After the agent: write ``answer.md`` and hand over to the report pipeline.

    Raises :class:`ReportFailed` (carrying the paths written) when the report fails."""
    paths: list[Path] = []
    if result is not None:
        p = run_dir.path / "answer.md"
        p.write_text(result.final_text.rstrip() + "\n", encoding="utf-8")
        paths.append(p)
    if not build:
        return paths
    from sourcebook.report.pipeline import build_report

    try:
        rep = build_report(store, request, settings, run_dir.path, client=client, agent_result=result)
    except Exception as e:  # the agent's work is already saved; say what failed and keep it
        run_dir.log(f"report failed: {type(e).__name__}: {e}")
        err.print(f"[red]report failed:[/red] {escape(f'{type(e).__name__}: {e}')} (the agent's answer is in answer.md)",
                  highlight=False)
        raise ReportFailed(paths) from e
    err.print(f"report checks: {rep.verdict}", highlight=False, markup=False)
    paths = [*paths, *rep.paths.values()]
    if rep.verdict == "fail":
        raise ReportFailed(paths)
    return paths


def _conclude(store: Any, request: str, settings: Any, rd: Any, client: Any, result: Any, report: bool) -> None:
    """Report, close the run directory, list what was written and print the run directory.

    Exits 2 when the model could not be reached at all, 1 when the report failed."""
    unreachable = _unreachable(rd, result)
    code = 0
    try:
        paths = finish_run(store, request, settings, rd, client, result, build=report and not unreachable)
    except ReportFailed as e:
        paths, code = e.args[0], 1
    rd.close()
    for p in paths:
        err.print(f"  wrote {p}", highlight=False, soft_wrap=True, markup=False)
    typer.echo(str(rd.path))
    if unreachable:
        rd.log(f"model unreachable: {unreachable}")
        _fail(f"the model could not be reached: {unreachable}")
    if code:
        raise typer.Exit(code)


def _unreachable(rd: Any, result: Any) -> str:
    """The last model error when the agent stopped because no model call ever succeeded, else ""."""
    if result is None or result.stopped != "llm_error" or result.usage.total_tokens:
        return ""
    errors = [e.get("error", "") for e in rd.events() if e.get("type") == "llm_error"]
    if any(e.get("type") == "turn" for e in rd.events()):
        return ""
    return " ".join(str(errors[-1] if errors else "model calls failed").split())


def _client(settings: Any) -> Any:
    from sourcebook.llm import make_client

    try:
        return make_client(settings.llm)
    except ValueError as e:
        _fail(str(e))


def _ingest(folder: Path, settings: Any) -> Any:
    from sourcebook.ingest.folder import ingest_folder

    with err.status(escape(f"reading {folder} …")):
        report = ingest_folder(folder, settings)
    return report.store


def register_cli(app: typer.Typer) -> None:
    """Add ``run`` and ``resume``."""

    @app.command("run")
    def run_cmd(
        folder: Annotated[Path, typer.Argument(help="Task folder.")],
        request: Annotated[str | None, typer.Argument(help="What to write (or use --task-file).")] = None,
        task_file: Annotated[Path | None, typer.Option("--task-file", help="JSON/JSONL task with 'query'.")] = None,
        row: Annotated[int, typer.Option("--row", help="Row of a JSONL task file.")] = 0,
        model: ModelOpt = None,
        base_url: BaseUrlOpt = None,
        provider: ProviderOpt = None,
        dialect: DialectOpt = None,
        max_turns: TurnsOpt = 20,
        max_tokens: TokensOpt = 500_000,
        runs_dir: Annotated[Path | None, typer.Option("--runs-dir", help="Where run directories go.")] = None,
        report: ReportOpt = True,
    ) -> None:
        """Let the model research FOLDER with the tools, then build the report; prints the run directory."""
        from sourcebook.agent.loop import run_agent
        from sourcebook.records.run_dir import RunDir

        if not folder.is_dir():
            _fail(f"{folder}: not a folder")
        task: dict[str, Any] = {}
        if task_file is not None:
            try:
                task = load_task(task_file, row)
            except ValueError as e:
                _fail(str(e))
            request = request or task["query"]
        if not request or not request.strip():
            _fail("no request: give it as the second argument or with --task-file")
        assert request is not None
        settings = settings_with(model, base_url, provider, dialect)
        client = _client(settings)
        store = _ingest(folder, settings)
        rd = RunDir.create(runs_dir or settings.runs_dir, folder, request, settings,
                           extra={"task": task} if task else None)
        rd.log(f"run started: model={settings.llm.model or '(none)'} folder={folder}")
        result = None
        if client is None:
            err.print("[yellow]no model configured[/yellow] (--model or SOURCEBOOK_LLM__MODEL): "
                      "skipping the agent, the report is built extractively", highlight=False)
        else:
            with _Progress(err) as progress:
                result = run_agent(client, store, request, rd, settings=settings, max_turns=max_turns,
                                   max_tokens=max_tokens, on_event=progress)
            err.print(f"agent: {result.turns} turns, {result.tool_calls} tool calls, "
                      f"{result.usage.total_tokens:,} tokens, stopped: {result.stopped}", highlight=False, markup=False)
        _conclude(store, request, settings, rd, client, result, report)

    @app.command("resume")
    def resume_cmd(
        run_dir: Annotated[Path, typer.Argument(help="Run directory of an interrupted run.")],
        model: ModelOpt = None,
        base_url: BaseUrlOpt = None,
        provider: ProviderOpt = None,
        dialect: DialectOpt = None,
        report: ReportOpt = True,
    ) -> None:
        """Continue an interrupted run from its trace (finished tool calls are not run again)."""
        from sourcebook.agent.loop import resume
        from sourcebook.records.run_dir import RunDir

        try:
            rd = RunDir.open(run_dir)
        except FileNotFoundError as e:
            _fail(str(e))
        req = rd.request
        folder = Path(req["folder"])
        if not folder.is_dir():
            _fail(f"{folder}: the run's task folder is gone")
        settings = settings_with(model, base_url, provider, dialect, base=rd.config.get("llm"))
        client = _client(settings)
        store = _ingest(folder, settings)
        rd.log("resumed")
        try:
            with _Progress(err) as progress:
                result = resume(rd, client, store, settings=settings, on_event=progress)
        except ValueError as e:
            _fail(str(e))
        err.print(f"agent: {result.turns} turns, {result.tool_calls} tool calls, stopped: {result.stopped}",
                  highlight=False)
        _conclude(store, req["request"], settings, rd, client, result, report)


def main() -> None:
    """``python -m sourcebook.agent run|resume …`` without the rest of the CLI."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    register_cli(app)
    app()
