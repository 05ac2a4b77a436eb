"""Requirement checks measured in code, split by job: ``length`` (how the body is counted, length and
emptiness), ``structure`` (sections, format, lists, language, title), ``citations`` (citations in form,
resolvable markers, relevant inputs cited), ``reading`` (report files → parsed reports) and ``output`` (the
checks of one report text, verdict, table, JSON). Claims are verified by ``sourcebook.grounding``; the pipeline
measures drafts with ``report.measure``.

Every check returns a :class:`CheckResult` with the measured value and the expectation; a check that could
not be measured (nothing requested, nothing to measure) has ``passed=None`` and says why — a pass is only
ever reported for something that was actually measured.
"""

from sourcebook.report.checks.citations import check_citations, check_citations_resolvable, check_inputs_cited
from sourcebook.report.checks.length import body_text, check_length, check_not_empty, count_units
from sourcebook.report.checks.output import (
    check_text,
    compliance_dict,
    compliance_table,
    draft_markdown,
    overall_verdict,
    write_compliance,
)
from sourcebook.report.checks.reading import (
    ParsedReport,
    ReportSection,
    html_to_markdown,
    parse_report,
    read_report,
    sniff_format,
    split_references,
)
from sourcebook.report.checks.structure import (
    check_bullets,
    check_format,
    check_language,
    check_sections,
    check_title,
)
from sourcebook.report.types import CheckResult

__all__ = [
    "count_units", "body_text", "split_references", "ParsedReport", "ReportSection", "parse_report", "read_report",
    "sniff_format", "html_to_markdown", "check_text", "check_length", "check_sections", "check_format",
    "check_bullets", "check_citations", "check_language", "check_not_empty", "check_title", "check_inputs_cited",
    "check_citations_resolvable", "overall_verdict", "compliance_table", "compliance_dict", "write_compliance",
    "draft_markdown", "CheckResult",
]
