"""``sourcebook check``: re-check any existing report file against a request, in code."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from sourcebook.report.checks import check_text, compliance_dict, compliance_table, read_report
from sourcebook.report.requirements import parse_request

__all__ = ["register_cli", "load_request", "check_file"]


def load_request(request: str | None = None, request_file: Path | None = None, task: str | None = None,
                 query_file: Path | None = None) -> str:
    """The request text from ``--request``, ``--request-file`` or ``--task`` + ``--query-file`` (JSONL rows
    ``{"task": …, "query": …}``) through the one request loader. Raises ``InputError`` (a ``ValueError``)
    naming the file and the reason."""
    from sourcebook.errors import InputError
    from sourcebook.request import load_request as _load

    if task is not None and query_file is None:
        raise InputError("--task needs --query-file (a JSONL file of {task, query} rows)")
    if task is None and query_file is not None:
        raise InputError("--query-file needs --task (the task id to look up)")
    return _load(request, request_file, query_file, task_id=task).text


def check_file(report: Path, request_text: str) -> dict:
    """Check one report file against a request → :func:`compliance_dict` plus the parsed requirements."""
    text, fmt = read_report(report)
    req = parse_request(request_text)
    results = check_text(text, req, fmt)
    out = compliance_dict(results)
    out["report"] = str(report)
    out["format"] = fmt
    out["requirements"] = req.to_dict()
    return out


def register_cli(app: typer.Typer) -> None:
    """Add the ``check`` command to the sourcebook CLI."""

    @app.command("check")
    def check(
        report: Path = typer.Argument(..., help="Report file to check (.md, .txt, .html, .docx)."),
        request: str | None = typer.Option(None, "--request", "-r", help="The request text."),
        request_file: Path | None = typer.Option(None, "--request-file", help="File holding the request text."),
        task: str | None = typer.Option(None, "--task", help="Task id to look up in --query-file."),
        query_file: Path | None = typer.Option(None, "--query-file", help="JSONL of {task, query} rows."),
        as_json: bool = typer.Option(False, "--json", help="Print the checks as JSON instead of a table."),
    ) -> None:
        """Re-check an existing report against its request: length, sections, format, lists, citations,
        language, title. Exit code 0 when every measured check passes, 1 otherwise, 2 on bad input."""
        from rich.console import Console

        from sourcebook import api

        result = api.check(report, load_request(request, request_file, task, query_file))
        if as_json:
            typer.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))
        else:
            from sourcebook.report.checks import CheckResult

            console = Console()
            checks = [CheckResult(**c) for c in result["checks"]]
            console.print(compliance_table(checks, title=f"{report.name} ({result['format']})"))
            color = "green" if result["verdict"] == "pass" else "red"
            console.print(f"verdict: [{color}]{result['verdict'].upper()}[/{color}]  "
                          f"({result['passed']} passed, {result['failed']} failed, "
                          f"{result['unmeasured']} not measured)")
        raise typer.Exit(0 if result["failed"] == 0 else 1)
