"""``sourcebook run FOLDER "request"`` and ``sourcebook resume RUN_DIR``: the agent from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from sourcebook.cli_options import (
    BaseUrlOpt,
    DialectOpt,
    FolderArg,
    ModelOpt,
    ProviderOpt,
    RequestArg,
    RequestFileOpt,
    RowOpt,
    RunsDirOpt,
    TaskFileOpt,
)
from sourcebook.request import load_task

__all__ = ["register_cli", "load_task", "main"]

err = Console(stderr=True)

TurnsOpt = Annotated[int, typer.Option("--max-turns", help="Most model turns with tools.")]
TokensOpt = Annotated[int, typer.Option("--max-tokens", help="Token budget of the run (prompt + completion).")]
ReportOpt = Annotated[bool, typer.Option("--report/--no-report", help="Build the report after the agent.")]


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


def _print_outcome(out: Any) -> None:
    if out.agent is not None:
        a = out.agent
        err.print(f"agent: {a.turns} turns, {a.tool_calls} tool calls, {a.usage.total_tokens:,} tokens, "
                  f"stopped: {a.stopped}", highlight=False)
    if out.report_error:
        err.print(f"[red]{escape(out.report_error)}[/red] (the agent's answer is in answer.md)", highlight=False)
    elif out.report is not None:
        err.print(f"report checks: {out.report.verdict}", highlight=False)
    for p in out.files or []:
        err.print(f"  wrote {p}", highlight=False, soft_wrap=True, markup=False)
    typer.echo(str(out.run_dir.path))
    if out.report_error or (out.report is not None and out.report.verdict == "fail"):
        raise typer.Exit(1)


def _run_or_report_unreachable(call: Any) -> Any:
    """Run ``call``; when the model could not be reached, print the run directory before the error."""
    from sourcebook.errors import ModelUnreachable

    try:
        return call()
    except ModelUnreachable as e:
        if e.run_dir is not None:
            typer.echo(str(e.run_dir))
        raise


def register_cli(app: typer.Typer) -> None:
    """Add ``run`` and ``resume``."""

    @app.command("run")
    def run_cmd(
        folder: FolderArg,
        request: RequestArg = None,
        request_file: RequestFileOpt = None,
        task_file: TaskFileOpt = None,
        row: RowOpt = 0,
        model: ModelOpt = None,
        base_url: BaseUrlOpt = None,
        provider: ProviderOpt = None,
        dialect: DialectOpt = None,
        max_turns: TurnsOpt = 20,
        max_tokens: TokensOpt = 500_000,
        runs_dir: RunsDirOpt = None,
        report: ReportOpt = True,
    ) -> None:
        """Let the model research FOLDER with the tools, then build the report; prints the run directory."""
        from sourcebook import api

        api.check_folder(folder)
        req = api.load_request(request, request_file, task_file, row)
        settings = api.make_settings(model, base_url, provider, dialect)
        if not settings.llm.model:
            err.print("[yellow]no model configured[/yellow] (--model or SOURCEBOOK_LLM__MODEL): "
                      "skipping the agent, the report is built extractively", highlight=False)
        with _Progress(err) as progress:
            out = _run_or_report_unreachable(lambda: api.run(
                folder, req, settings=settings, runs_dir=runs_dir, max_turns=max_turns, max_tokens=max_tokens,
                build_report=report, on_event=progress))
        _print_outcome(out)

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
        from sourcebook import api

        with _Progress(err) as progress:
            out = _run_or_report_unreachable(lambda: api.resume(
                run_dir, model=model, base_url=base_url, provider=provider, dialect=dialect,
                build_report=report, on_event=progress))
        _print_outcome(out)


def main() -> None:
    """``python -m sourcebook.agent run|resume …`` without the rest of the CLI."""
    from sourcebook.cli import app

    app()
