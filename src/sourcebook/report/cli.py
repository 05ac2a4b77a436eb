"""``sourcebook report FOLDER "request"``: ingest the folder, build the report, print paths and checks."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from sourcebook.cli_options import FolderArg, QuietOpt, RequestArg, RequestFileOpt, RowOpt, TaskFileOpt


def register_cli(app: typer.Typer) -> None:
    """Add the ``report`` command to ``app``."""

    @app.command("report")
    def report(
        folder: FolderArg,
        request: RequestArg = None,
        request_file: RequestFileOpt = None,
        task_file: TaskFileOpt = None,
        row: RowOpt = 0,
        out: Annotated[Path | None, typer.Option("--out", "-o", help="Run directory (default: runs/report-<time>).")] = None,
        extractive: Annotated[bool, typer.Option("--extractive", help="Do not use an LLM even if one is configured.")] = False,
        rounds: Annotated[int, typer.Option("--rounds", min=0, max=10, help="Revision rounds.")] = 3,
        quiet: QuietOpt = False,
    ) -> None:
        """Write a grounded, cited report for REQUEST from the files in FOLDER (extractive without an LLM)."""
        from sourcebook import api
        from sourcebook.cli import console, ingest_with_progress
        from sourcebook.report.checks import compliance_table

        api.check_folder(folder)
        req = api.load_request(request, request_file, task_file, row)
        settings = api.make_settings()
        client = None if extractive else api.make_client(settings)
        store = ingest_with_progress(folder, settings, quiet=quiet).store
        with console.status("writing the report…", spinner="dots") if not quiet else nullcontext():
            result = api.report(folder, req.text, out, extractive=client is None, rounds=rounds,
                                settings=settings, store=store)
        console.print(compliance_table(result.checks))
        mode = "extractive" if result.draft.extractive else f"LLM ({getattr(client, 'model', '')})"
        console.print(f"[bold]report[/bold] {escape(f'({mode}): {result.report_path}')}")
        for key, path in sorted(result.paths.items()):
            console.print(f"  {key:<11} {path}", markup=False, highlight=False)
        console.print(f"verdict: [bold]{result.verdict}[/bold]")
        if result.verdict == "fail":
            raise typer.Exit(1)
