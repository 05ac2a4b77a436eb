"""``sourcebook report FOLDER "request"``: ingest the folder, build the report, print paths and checks."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape


def register_cli(app: typer.Typer) -> None:
    """Add the ``report`` command to ``app``."""

    @app.command("report")
    def report(
        folder: Annotated[Path, typer.Argument(help="Task folder with the sources.")],
        request: Annotated[str | None, typer.Argument(help="The request text.")] = None,
        request_file: Annotated[Path | None, typer.Option("--request-file", help="File holding the request.")] = None,
        out: Annotated[Path | None, typer.Option("--out", "-o", help="Run directory (default: runs/report-<time>).")] = None,
        extractive: Annotated[bool, typer.Option("--extractive", help="Do not use an LLM even if one is configured.")] = False,
        rounds: Annotated[int, typer.Option("--rounds", min=0, max=10, help="Revision rounds.")] = 3,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    ) -> None:
        """Write a grounded, cited report for REQUEST from the files in FOLDER (extractive without an LLM)."""
        from sourcebook.cli import _check_folder, console, fail, ingest_with_progress
        from sourcebook.config import get_settings
        from sourcebook.report.checks import compliance_table
        from sourcebook.report.pipeline import build_report

        _check_folder(folder)
        if request_file is not None:
            from sourcebook.ingest.text import read_text_file

            try:
                request = read_text_file(request_file, "request file")
            except ValueError as e:
                fail(str(e))
        if not request or not request.strip():
            fail("no request given (pass it as the second argument or with --request-file)")
        settings = get_settings()
        client = None
        if not extractive:
            from sourcebook.llm import make_client

            try:
                client = make_client(settings.llm)
            except ValueError as e:
                fail(str(e))
        ingest = ingest_with_progress(folder, settings, quiet=quiet)
        run_dir = out or Path(settings.runs_dir) / f"report-{datetime.now():%Y%m%d-%H%M%S}"
        with console.status("writing the report…", spinner="dots") if not quiet else nullcontext():
            result = build_report(ingest.store, request, settings, run_dir, client=client, max_rounds=rounds)
        console.print(compliance_table(result.checks))
        mode = "extractive" if result.draft.extractive else f"LLM ({getattr(client, 'model', '')})"
        console.print(f"[bold]report[/bold] {escape(f'({mode}): {result.report_path}')}")
        for key, path in sorted(result.paths.items()):
            console.print(f"  {key:<11} {path}", markup=False, highlight=False)
        console.print(f"verdict: [bold]{result.verdict}[/bold]")
        if result.verdict == "fail":
            raise typer.Exit(1)
