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
    ``{"task": …, "query": …}``). Raises ``ValueError`` naming the file and the reason."""
    given = [x is not None for x in (request, request_file, task)]
    if sum(given) != 1:
        raise ValueError("give exactly one of --request, --request-file, or --task (with --query-file)")
    if request is not None:
        return request
    if request_file is not None:
        from sourcebook.ingest.text import read_text_file

        return read_text_file(request_file, "request file").strip()
    if query_file is None:
        raise ValueError("--task needs --query-file (a JSONL file of {task, query} rows)")
    from sourcebook.ingest.text import read_text_file

    lines = read_text_file(query_file, "query file").splitlines()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{query_file}:{n}: not a JSON line ({exc.msg})") from exc
        if str(row.get("task")) == str(task) or str(row.get("id")) == str(task):
            query = row.get("query") or row.get("request")
            if not query:
                raise ValueError(f"{query_file}:{n}: task {task} has no 'query'")
            return str(query)
    raise ValueError(f"{query_file}: no task {task!r}")


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
        from rich.markup import escape

        try:
            text = load_request(request, request_file, task, query_file)
            result = check_file(report, text)
        except ValueError as exc:
            Console(stderr=True).print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from exc
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
