"""``sourcebook check``: re-check any existing report file against a request, in code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from sourcebook.report.checks import check_text, compliance_dict, compliance_table, read_report
from sourcebook.report.requirements import parse_request

__all__ = ["register_cli", "load_request", "check_file"]


def load_request(request: str | None = None, request_file: Path | None = None, task: str | None = None,
                 query_file: Path | None = None) -> str:
    """The request text from ``--request``, ``--request-file`` or ``--task`` + ``--query-file`` (JSONL rows
    ``{"task": …, "query": …}``) through the one request loader; "" when none is given (then only the
    request-free checks run). Raises ``InputError`` (a ``ValueError``) naming the file and the reason."""
    from sourcebook.errors import InputError
    from sourcebook.request import load_request as _load

    if task is not None and query_file is None:
        raise InputError("--task needs --query-file (a JSONL file of {task, query} rows)")
    if task is None and query_file is not None:
        raise InputError("--query-file needs --task (the task id to look up)")
    if request is None and request_file is None and task is None:
        return ""
    return _load(request, request_file, query_file, task_id=task).text


def check_file(report: Path, request_text: str, folder: Path | None = None, settings: Any = None) -> dict:
    """Check one report file against a request → :func:`compliance_dict` plus the parsed requirements.

    With ``folder`` the folder is ingested (or its store reused), every citation is resolved to stored
    passages and every claim verified (``claims``: one entry per claim; ``claim_counts``: per verdict);
    without it the citation checks are unmeasured. With both a folder and a request, each section's
    on-topic share is measured too (``section_relevance``, as in the pipeline's compliance table)."""
    from sourcebook.grounding.report import ground_sections, grounding_checks, markdown_sections, unresolved
    from sourcebook.grounding.resolve import Resolver
    from sourcebook.grounding.verify import counts
    from sourcebook.report.checks import parse_report

    text, fmt = read_report(report)
    req = parse_request(request_text)
    parsed = parse_report(text, fmt)
    if not request_text.strip():
        from sourcebook.grounding.tokens import has_cjk

        req.language = "zh" if has_cjk(parsed.body[:4000]) else "en"
        req.cite_sources = True
    results = check_text(text, req, fmt)
    verdicts = []
    resolver = None
    if folder is not None:
        from sourcebook.ingest.folder import ingest_folder

        store = ingest_folder(Path(folder), settings=settings).store
        resolver = Resolver(store, parsed.references)
        verdicts = ground_sections(markdown_sections(parsed.body), resolver)
    results += grounding_checks(verdicts, resolver)
    shares: dict[str, float] = {}
    if resolver is not None and request_text.strip():
        from sourcebook.report.measure import relevance_check
        from sourcebook.report.topicality import default_judge, markdown_relevance
        from sourcebook.store.embedder import get_embedder

        shares, sizes = markdown_relevance(parsed.body, req, default_judge(get_embedder(store.settings)))
        results.append(relevance_check(shares, sizes))
    out = compliance_dict(results)
    out["report"] = str(report)
    out["format"] = fmt
    out["folder"] = str(folder) if folder is not None else None
    out["requirements"] = req.to_dict()
    out["claim_counts"] = counts(verdicts) if resolver is not None else None
    out["claims"] = [v.to_dict() for v in verdicts]
    out["section_relevance"] = shares
    out["unresolved"] = [{"citation": c, "reason": why} for c, why in unresolved(resolver)] if resolver else []
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
        folder: Path | None = typer.Option(None, "--folder", "-f",
                                           help="The sources' folder: resolve citations, verify claims."),
        as_json: bool = typer.Option(False, "--json", help="Print the checks (and claims) as JSON."),
    ) -> None:
        """Re-check an existing report: length, sections, format, lists, citations, language, title against
        the request (when given); with --folder every citation is resolved to the folder's passages and every
        claim verified, and with both each section's share of on-topic sentences is measured. Exit code 0 when
        every measured check passes, 1 otherwise, 2 on bad input."""
        from rich.console import Console
        from rich.markup import escape

        from sourcebook import api

        if folder is not None:
            api.check_folder(folder)
        result = api.check(report, load_request(request, request_file, task, query_file), folder=folder)
        if as_json:
            typer.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))
        else:
            from sourcebook.report.checks import CheckResult

            console = Console()
            checks = [CheckResult(**c) for c in result["checks"]]
            console.print(compliance_table(checks, title=f"{report.name} ({result['format']})"))
            for u in result["unresolved"]:
                console.print(f"[red]unresolvable[/red] {escape(u['citation'])}: {escape(u['reason'])}", highlight=False,
                              soft_wrap=True)
            if result["claim_counts"] is not None:
                n = result["claim_counts"]
                console.print("claims: " + ", ".join(f"{k} {v}" for k, v in n.items()))
                for c in result["claims"]:
                    if c["verdict"] in ("contradicted", "unsupported"):
                        console.print(f"  [red]{c['verdict']}[/red] {escape(c['sentence'][:70])} — {escape(c['reason'])}",
                                      highlight=False, soft_wrap=True)
            color = "green" if result["verdict"] == "pass" else "red"
            console.print(f"verdict: [{color}]{result['verdict'].upper()}[/{color}]  "
                          f"({result['passed']} passed, {result['failed']} failed, "
                          f"{result['unmeasured']} not measured)")
        raise typer.Exit(0 if result["failed"] == 0 else 1)
