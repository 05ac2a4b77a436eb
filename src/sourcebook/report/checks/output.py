"""Running the checks on a report text and presenting them: verdict, table, JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sourcebook.report.checks.citations import check_citations
from sourcebook.report.checks.length import check_length, check_not_empty
from sourcebook.report.checks.reading import parse_report
from sourcebook.report.checks.structure import (
    check_bullets,
    check_format,
    check_language,
    check_sections,
    check_title,
)
from sourcebook.report.requirements import check_request, is_reference_title
from sourcebook.report.types import CITE_MARKER, CheckResult, Draft, Requirements


def check_text(text: str, req: Requirements, fmt: str | None = None) -> list[CheckResult]:
    """Check a FINAL report (Markdown, plain text, HTML, or DOCX converted by :func:`read_report`)."""
    parsed = parse_report(text, fmt)
    body = parsed.body
    results = [check_not_empty(body, req), check_length(body, req), *check_request(req)]
    results += check_sections(parsed, req)
    results.append(check_format(parsed, req))
    results.append(check_bullets(parsed, req))
    results += check_citations(parsed, req)
    results.append(check_language(body, req))
    results.append(check_title(parsed, req))
    return results


def draft_markdown(draft: Draft) -> str:
    """The draft as Markdown with its ``[@id]`` markers (references section listed by cited ids)."""
    parts = [f"# {draft.title}", ""]
    cited: list[str] = []
    def is_refs(sec: Any) -> bool:
        return sec.is_references or (is_reference_title(sec.title) and not sec.body.strip())

    for sec in draft.sections:
        if not is_refs(sec):
            cited += [m for m in CITE_MARKER.findall(sec.body) if m not in cited]
    for sec in draft.sections:
        parts.append(f"## {sec.title}")
        parts.append("")
        if is_refs(sec):
            parts += [f"[{n}] {pid}" for n, pid in enumerate(cited, 1)]
        else:
            parts.append(sec.body.strip())
        parts.append("")
    return "\n".join(parts)


def overall_verdict(results: Iterable[CheckResult]) -> str:
    """``pass`` (no measured check failed), ``fail``, or ``unmeasured`` (nothing could be measured)."""
    results = list(results)
    if any(r.passed is False for r in results):
        return "fail"
    if any(r.passed is True for r in results):
        return "pass"
    return "unmeasured"


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        return " → ".join(str(v) for v in value) if len(value) <= 8 else f"{len(value)} items"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in list(value.items())[:8])
    return str(value)


def compliance_table(results: Iterable[CheckResult], title: str = "Requirement checks") -> Any:
    """A rich Table with one row per check (PASS / FAIL / n/a)."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(title), show_lines=False)
    table.add_column("check", style="bold")
    table.add_column("result")
    table.add_column("measured", overflow="fold", max_width=40)
    table.add_column("expected", overflow="fold", max_width=40)
    table.add_column("detail", overflow="fold", max_width=60)
    for r in results:
        verdict = {True: "[green]PASS[/green]", False: "[red]FAIL[/red]", None: "[dim]n/a[/dim]"}[r.passed]
        table.add_row(escape(r.name), verdict, escape(_show(r.measured)), escape(_show(r.expected)), escape(r.detail))
    return table


def compliance_dict(results: Iterable[CheckResult]) -> dict[str, Any]:
    """JSON-ready summary: overall verdict, counts and every check."""
    results = list(results)
    return {
        "verdict": overall_verdict(results),
        "passed": sum(r.passed is True for r in results),
        "failed": sum(r.passed is False for r in results),
        "unmeasured": sum(r.passed is None for r in results),
        "checks": [r.to_dict() for r in results],
    }


def write_compliance(results: Iterable[CheckResult], path: Path, extra: Mapping[str, Any] | None = None) -> Path:
    """Write :func:`compliance_dict` (plus ``extra`` keys: claims, section_relevance, …) as UTF-8 JSON."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = compliance_dict(results)
    doc.update(extra or {})
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2, default=str),
                    encoding="utf-8")
    return path
