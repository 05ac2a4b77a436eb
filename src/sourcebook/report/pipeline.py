"""The report pipeline: plan → evidence → write → cite → check → revise → render → compliance.

``build_report`` writes into ``run_dir``: ``report.md``, ``report.html`` and ``report.docx`` (the requested
format is "the" report), ``compliance.json`` (every measured check), ``references.json`` (each reference
number with its passage ids), ``evidence.json`` (passages retrieved and cited per section, gaps) and
``revisions.json`` (what revision and the writers did).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sourcebook.report.citations import cited_ids
from sourcebook.report.evidence import (
    EvidenceItem,
    SectionEvidence,
    evidence_to_json,
    find_gaps,
    gather_evidence,
)
from sourcebook.report.extractive import EXTRACTIVE_NOTE, ExtractiveWriter
from sourcebook.report.llm_writer import LLMWriter
from sourcebook.report.measure import measure
from sourcebook.report.plan import make_plan
from sourcebook.report.revise import Reviser
from sourcebook.report.types import CheckResult, Draft, Requirements

log = logging.getLogger(__name__)

FORMATS = ("md", "html", "docx")
_FORMAT_EXT = {"markdown": "md", "html": "html", "docx": "docx"}


@dataclass
class ReportResult:
    """What a report build produced and measured."""

    run_dir: Path
    report_path: Path | None            # the report in the requested format
    paths: dict[str, Path]              # md / html / docx / compliance / evidence / revisions
    checks: list[CheckResult]
    verdict: str                        # pass | fail | unmeasured
    requirements: Requirements
    draft: Draft
    revisions: list[dict[str, Any]] = field(default_factory=list)
    writer_events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"


def _agent_passage_ids(agent_result: Any) -> list[str]:
    """Passage ids an agent run looked at / cited, from an object or dict with ``passage_ids`` or
    ``cited_ids`` (anything else: none)."""
    if agent_result is None:
        return []
    for key in ("passage_ids", "cited_ids", "evidence_ids"):
        val = agent_result.get(key) if isinstance(agent_result, dict) else getattr(agent_result, key, None)
        if val:
            return [str(v) for v in val]
    return []


def _add_agent_evidence(draft: Draft, evidence: list[SectionEvidence], store: Any, ids: list[str]) -> None:
    """Passages the agent found go to the section whose evidence shares their source, else the first."""
    present = {i for se in evidence for i in se.ids()}
    content = [i for i, s in enumerate(draft.sections) if not s.is_references]
    if not content:
        return
    for pid in ids:
        if pid in present:
            continue
        p = store.get_passage(pid)
        if p is None:
            continue
        target = next((i for i in content if any(it.source == p.source for it in evidence[i].items)), content[0])
        evidence[target].items.append(EvidenceItem(p.id, p.source, p.label, p.text, 0.0, "agent"))
        present.add(pid)


def _put_notes(draft: Draft) -> None:
    """The extractive-draft note opens the first content section (gap notes are rendered from
    ``DraftSection.gaps`` by the renderer)."""
    content = [s for s in draft.sections if not s.is_references]
    if draft.extractive and content:
        note = EXTRACTIVE_NOTE[draft.language if draft.language in EXTRACTIVE_NOTE else "zh"]
        if note not in draft.notes:
            draft.notes.append(note)
        first = content[0]
        if note not in first.body:
            first.body = f"{note}\n\n{first.body}".strip()


def _data_and_figures(draft: Draft, evidence: list[SectionEvidence], store: Any, run_dir: Path,
                      agent_result: Any) -> None:
    """Computed facts and default charts of the data tables (extractive drafts), and the agent's charts."""
    from sourcebook.report.figures import add_data_facts, place_figures

    if draft.extractive:
        add_data_facts(draft, evidence, store, run_dir)
    place_figures(draft, evidence, store, _agent_passage_ids(agent_result))


def _render(draft: Draft, store: Any, run_dir: Path, req: Requirements) -> dict[str, Path]:
    from sourcebook.report.figures import attach_figures
    from sourcebook.report.render import render_report

    attach_figures(draft, store)

    res = render_report(draft, store.get_passage, run_dir, list(FORMATS), req=req)
    paths = dict(res.paths)
    # the numbered references with their passage ids: what the web view needs to open a citation
    paths["references"] = _write_json(run_dir / "references.json", [r.to_dict() for r in res.references])
    return paths


def _format_of(path: Path | None, req: Requirements) -> CheckResult:
    """The format check on the written report file (everything else is measured on the draft)."""
    from sourcebook.report.checks import check_format, parse_report, read_report

    if path is None or not path.exists():
        return CheckResult("format", False, None, req.format, "the renderer wrote no report file")
    text, fmt = read_report(path)
    return check_format(parse_report(text, fmt), req)


def note_shortfall(draft: Draft, req: Requirements, store: Any) -> None:
    """When the report is shorter than requested, say so in it: what was used and what is missing (the
    length check still fails — the report is not padded with unrelated text)."""
    from sourcebook.report.measure import draft_length

    if not req.min_units:
        return
    n = draft_length(draft, store, req)
    if n >= req.min_units:
        return
    content = [s for s in draft.sections if not s.is_references]
    if not content:
        return
    zh = draft.language == "zh"
    thin = [s.title for s in content if not s.body.strip()]
    unit = "字" if zh else (" words" if req.unit == "words" else " units")
    if zh:
        note = (f"全文约{n}{unit}，少于要求的{req.min_units}{unit}：提供的资料中与请求相关的内容已全部使用，"
                "本报告未用无关资料补足篇幅" + (f"；{'、'.join(thin)}缺少相关资料" if thin else "") + "。")
    else:
        note = (f"the report has about {n}{unit}, fewer than the {req.min_units}{unit} requested: everything "
                "relevant in the provided sources is used and nothing unrelated was added to reach the length"
                + (f"; no relevant material for {', '.join(thin)}" if thin else "") + ".")
    last = content[-1]
    if note not in last.gaps:
        last.gaps.append(note)


def build_report(store: Any, request: str, settings: Any = None, run_dir: Path | None = None, client: Any = None,
                 agent_result: Any = None, max_rounds: int = 3) -> ReportResult:
    """Write, check, revise and render a report for ``request`` from the evidence in ``store``.

    With ``client`` (a ChatClient) sections are written by the model from retrieved passages, with
    per-section fallback to the extractive writer; without it the whole report is extractive. ``settings``
    gives the default run directory (``<runs_dir>/report``) when ``run_dir`` is not given."""
    from sourcebook.report.checks import overall_verdict, write_compliance
    from sourcebook.report.requirements import parse_request

    runs_dir = Path(getattr(settings, "runs_dir", None) or "runs")
    run_dir = Path(run_dir or runs_dir / "report")
    run_dir.mkdir(parents=True, exist_ok=True)
    req = parse_request(request)
    draft = make_plan(req, store)
    evidence = gather_evidence(draft, req, store)
    _add_agent_evidence(draft, evidence, store, _agent_passage_ids(agent_result))
    find_gaps(draft, req, store)
    for sec, ev in zip(draft.sections, evidence, strict=True):
        if sec.sources_missing:
            ev.items = []  # nothing else stands in for the absent source

    extractive = ExtractiveWriter(store)
    llm = LLMWriter(client, extractive, store) if client is not None else None
    draft.extractive = llm is None
    if llm is not None:
        for sec, ev in zip(draft.sections, evidence, strict=True):
            if not sec.is_references:
                sec.body = llm.write_section(sec, ev, req, draft)
    else:
        extractive.write_all(draft, evidence, req)
    _put_notes(draft)

    # computed data facts and charts go in before revision, so that length and claims are revised with them
    _data_and_figures(draft, evidence, store, run_dir, agent_result)
    reviser = Reviser(draft, req, store, evidence, extractive, llm=llm, max_rounds=max_rounds)
    reviser.run()
    note_shortfall(draft, req, store)

    the_ext = _FORMAT_EXT.get(req.format, "md")
    paths = _render(draft, store, run_dir, req)
    report_path = paths.get(the_ext)
    m = measure(draft, req, store, extractive, llm)
    checks = [c for c in m.checks if c.name != "format"] + [_format_of(report_path, req)]
    if llm is not None:
        checks.append(CheckResult("llm_sections", not llm.fallback_sections,
                                  f"{sum(not s.is_references for s in draft.sections) - len(llm.fallback_sections)} by model",
                                  "all sections written by the model",
                                  ("extractive fallback: " + "; ".join(llm.fallback_sections)) if llm.fallback_sections else ""))

    paths["compliance"] = write_compliance(checks, run_dir / "compliance.json", extra=m.extra())
    used = {sec.title: list(dict.fromkeys(cited_ids(sec.body))) for sec in draft.sections}
    ev_doc = evidence_to_json(draft, evidence, used)
    ev_doc["claims"] = [v.to_dict() for v in m.verdicts]
    ev_doc["not_used"] = [{"file": f, "reason": "nothing relevant"} for f in m.not_used]
    paths["evidence"] = _write_json(run_dir / "evidence.json", ev_doc)
    revisions = [a.to_dict() for a in reviser.actions]
    events = [e.to_dict() for e in llm.events] if llm is not None else []
    paths["revisions"] = _write_json(run_dir / "revisions.json", {
        "actions": revisions, "writer_events": events, "dropped_citations": reviser.resolve_log.dropped,
        "requirements": req.to_dict(), "extractive": draft.extractive,
    })
    return ReportResult(run_dir, report_path, paths, checks, overall_verdict(checks), req, draft, revisions, events)


def _write_json(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return path
