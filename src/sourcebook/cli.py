"""The ``sourcebook`` command line."""

from __future__ import annotations

import functools
import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from sourcebook import __version__
from sourcebook.errors import SourcebookError

app = typer.Typer(
    name="sourcebook",
    help="Turn a folder of sources plus a request into a grounded, cited report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)

STATUS_STYLE = {"ok": "green", "partial": "yellow", "metadata": "cyan", "empty": "magenta", "error": "red",
                "skipped": "dim"}


def fail(message: str, code: int = 2) -> None:
    """Print a one-line reason and exit non-zero."""
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _check_folder(folder: Path) -> Path:
    from sourcebook.api import check_folder

    return check_folder(folder)


def ingest_with_progress(folder: Path, settings=None, dense_all: bool = False, quiet: bool = False):
    """Run :func:`sourcebook.api.ingest` with a Rich progress bar; returns the ingest report."""
    from sourcebook import api

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[item]}", style="dim", markup=False), TimeElapsedColumn(),
                  console=err, transient=True, disable=quiet) as prog:
        task = prog.add_task("ingest", total=None, item="")

        def progress(event: str, path: str, done: int, total: int) -> None:
            if event == "start":
                prog.update(task, total=total, completed=0)
            elif event == "file":
                prog.update(task, total=total, completed=done, item=path[-60:])
            elif event == "tokenize":
                prog.update(task, description="index", item=f"{total} new passages")
            elif event == "index":
                prog.update(task, completed=done, item="")
            elif event == "embed":
                prog.update(task, description="embed", total=total, completed=done, item="")

        return api.ingest(folder, settings=settings, progress=progress, dense_all=dense_all)


@app.command()
def ingest(
    folder: Annotated[Path, typer.Argument(help="Task folder to read.")],
    dense_all: Annotated[bool, typer.Option("--dense-all", help="Embed every passage now (slow).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the file table as JSON.")] = False,
) -> None:
    """Build or refresh the evidence store of FOLDER and show every file's status."""
    _check_folder(folder)
    report = ingest_with_progress(folder, dense_all=dense_all, quiet=as_json)
    if as_json:
        rows = [{"path": s.path, "kind": s.kind, "status": s.status, "reason": s.reason, "passages": s.passages,
                 "size": s.size} for s in report.sources]
        typer.echo(json.dumps({"store": str(report.store.path), "changed": report.changed, "sources": rows},
                              ensure_ascii=False, indent=2))
        return
    table = Table(title=escape(f"{folder} — {len(report.sources)} files, {report.passages} passages"))
    for col in ("file", "kind", "passages", "status"):
        table.add_column(col, justify="right" if col == "passages" else "left")
    for s in report.sources:
        style = STATUS_STYLE.get(s.status, "")
        status = f"[{style}]{s.status}[/{style}]" + (f" {escape(s.reason)}" if s.reason else "")
        table.add_row(escape(s.path), escape(s.kind), str(s.passages), status)
    console.print(table)
    console.print(f"{len(report.changed)} changed, {len(report.removed)} removed · store: {report.store.path}",
                  markup=False, highlight=False)
    from sourcebook.store import background

    console.print(background.status(report.store), markup=False, highlight=False)


@app.command()
def inspect(
    folder: Annotated[Path, typer.Argument(help="Task folder.")],
    max_chars: Annotated[int, typer.Option(help="Size limit of the summary.")] = 64_000,
) -> None:
    """Print the bounded folder summary the LLM sees (ingests first if needed)."""
    from sourcebook.summary import folder_summary

    _check_folder(folder)
    report = ingest_with_progress(folder)
    from sourcebook.store import background

    typer.echo(folder_summary(report.store, max_chars=max_chars))
    err.print(background.status(report.store))


@app.command()
def search(
    folder: Annotated[Path, typer.Argument(help="Task folder.")],
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option("-k", help="Number of hits.")] = 10,
    kind: Annotated[str | None, typer.Option("--kind", help="Only these kinds, e.g. pdf,corpus.")] = None,
    mode: Annotated[str, typer.Option(help="hybrid, bm25 or dense.")] = "hybrid",
    diverse: Annotated[bool, typer.Option("--diverse", help="≥ 5 documents, ≤ 2 passages each.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print hits as JSON.")] = False,
) -> None:
    """Search the evidence of FOLDER (ingests first if needed)."""
    _check_folder(folder)
    report = ingest_with_progress(folder, quiet=as_json)
    from sourcebook import api

    kinds = [x.strip() for x in kind.split(",") if x.strip()] if kind else None
    hits = api.search(folder, query, k=k, kinds=kinds, mode=mode, diverse=diverse, store=report.store)
    if as_json:
        typer.echo(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=2))
        return
    if not hits:
        console.print("no hits")
        return
    for i, h in enumerate(hits, 1):
        text = " ".join(h.text.split())
        console.print(Text.assemble((f"{i}.", "bold"), " ", (h.label, "cyan"), " ",
                                    (f"{h.passage_id} · {h.score:.4f}", "dim")), highlight=False)
        console.print(Text(f"   {text[:300]}{'…' if len(text) > 300 else ''}"), highlight=False)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


# Commands defined next to the code they drive register themselves here.
_PLUGINS = (
    "sourcebook.report.cli",
    "sourcebook.report.check_cli",
    "sourcebook.agent.cli",
    "sourcebook.tools.mcp_server",
    "sourcebook.media.cli",
    "sourcebook.bench.cli",
    "sourcebook.records.cli",
    "sourcebook.web.cli",
)


def _load_plugins() -> None:
    for name in _PLUGINS:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name and name.startswith(e.name):
                continue
            raise
        register = getattr(mod, "register_cli", None)
        if register:
            register(app)


def _guard(callback: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a :class:`SourcebookError` raised by a command into its one-line reason and exit code 2."""

    @functools.wraps(callback)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except SourcebookError as e:
            fail(str(e))

    return guarded


def _guard_commands() -> None:
    for cmd in app.registered_commands:
        if cmd.callback is not None and not getattr(cmd.callback, "__wrapped__", None):
            cmd.callback = _guard(cmd.callback)
    for group in app.registered_groups:
        sub = group.typer_instance
        if sub is not None:
            for cmd in sub.registered_commands:
                if cmd.callback is not None and not getattr(cmd.callback, "__wrapped__", None):
                    cmd.callback = _guard(cmd.callback)


_load_plugins()
_guard_commands()


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
