"""One measurement of a draft, used by the reviser between rounds and for the final compliance table.

The draft is rendered to Markdown exactly as the report file will be (numbered citations, gap notes,
references), and that text goes through the same checks as ``sourcebook check`` (length counts the body
only). Pipeline checks add what needs the store: citations resolvable, relevant inputs cited (files with
nothing relevant are listed as not used), every claim grounded, section relevance and duplicate sentences.
Section relevance is judged from each sentence's text alone against the section's topic
(``report.topicality``), never with the writer's own selection rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sourcebook.report.types import CheckResult, Draft, Requirements

SECTION_RELEVANCE_MIN = 0.6   # share of on-topic sentences a section needs
# off-topic sentences that make a section fail (below the share): one sentence judged off topic in a two-
# sentence section is within the measure's error (≈ 8 % of on-topic sentences rejected), two are evidence
SECTION_OFF_TOPIC_MIN = 2
DUPLICATE_JACCARD = 0.8
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass
class Measurement:
    checks: list[CheckResult]
    markdown: str
    length: int | None
    verdicts: list[Any] = field(default_factory=list)
    section_relevance: dict[str, float] = field(default_factory=dict)
    section_sentences: dict[str, int] = field(default_factory=dict)   # sentences judged per section
    duplicates: list[str] = field(default_factory=list)
    not_used: list[str] = field(default_factory=list)

    def extra(self) -> dict[str, Any]:
        """The compliance.json keys beside the checks."""
        from sourcebook.grounding.verify import counts

        return {"claims": counts(self.verdicts), "claims_detail": [v.to_dict() for v in self.verdicts],
                "section_relevance": self.section_relevance, "duplicates": self.duplicates,
                "not_used": [{"file": f, "reason": "nothing relevant"} for f in self.not_used]}


def render_draft(draft: Draft, store: Any, req: Requirements) -> str:
    """The draft as the Markdown report file will read."""
    from sourcebook.report.render import number_citations, render_markdown

    md, _ = render_markdown(number_citations(draft, store.get_passage, req))
    return md


def draft_length(draft: Draft, store: Any, req: Requirements) -> int:
    """Length of the rendered draft's body, counted as every check counts it."""
    from sourcebook.report.checks import body_text, count_units

    return count_units(body_text(render_draft(draft, store, req), req.raw), req.unit)


def measure(draft: Draft, req: Requirements, store: Any, writer: Any = None, llm: Any = None,
            ground: bool = True) -> Measurement:
    """All checks of ``draft`` (``writer``: the extractive writer, for the files it found relevant;
    ``llm``: adds the model's verdict beside each offline one; ``ground=False`` skips claim verification,
    for quick measurements between revision steps)."""
    from sourcebook.report.checks import check_citations_resolvable, check_text
    from sourcebook.report.citations import cited_ids
    from sourcebook.report.evidence import usable

    md = render_draft(draft, store, req)
    checks = check_text(md, req, "markdown")
    length = next((c.measured for c in checks if c.name == "length" and isinstance(c.measured, int)), None)
    ids = [i for s in draft.sections for i in cited_ids(s.body)]
    checks.append(check_citations_resolvable(ids, store.get_passage))
    out = Measurement(checks, md, length)
    cited = {p.source for p in (store.get_passage(i) for i in dict.fromkeys(ids)) if p is not None}
    usable_files = [s.path for s in store.sources() if usable(s)]
    relevant = getattr(writer, "relevant_sources", None)
    out.not_used = [f for f in usable_files if f not in cited and relevant is not None and f not in relevant]
    checks.append(_inputs_cited(cited, usable_files, out.not_used))
    if ground:
        _ground(draft, req, store, writer, llm, out)
    return out


def _inputs_cited(cited: set[str], usable_files: list[str], not_used: list[str]) -> CheckResult:
    want = [f for f in usable_files if f not in not_used]
    missing = [f for f in want if f not in cited]
    detail = []
    if missing:
        detail.append("not cited: " + ", ".join(missing[:20]))
    if not_used:
        detail.append("not used (nothing relevant): " + ", ".join(not_used[:20]))
    if not want:
        return CheckResult("inputs_cited", None, 0, "every relevant input cited",
                           "; ".join(detail) or "no usable input files")
    return CheckResult("inputs_cited", not missing, f"{len(want) - len(missing)}/{len(want)}",
                       "every relevant input cited", "; ".join(detail))


def _ground(draft: Draft, req: Requirements, store: Any, writer: Any, llm: Any, out: Measurement) -> None:
    from sourcebook.grounding.draft import add_llm_verdicts, sentence_verdicts
    from sourcebook.grounding.verify import counts
    from sourcebook.report.citations import claim_text
    from sourcebook.report.topicality import default_judge, section_topic
    from sourcebook.store.embedder import get_embedder

    seen: list[tuple[str, set[str], set[str]]] = []
    judge = None
    for sec in draft.sections:
        if sec.is_references or not sec.body.strip():
            continue
        pairs = [(s, v) for s, v in sentence_verdicts(sec.body, store, sec.title) if v is not None]
        out.verdicts += [v for _, v in pairs]
        if pairs:
            judge = judge or default_judge(get_embedder(getattr(store, "settings", None)))
            topic = section_topic(req, sec.title, sec.intent)
            out.section_relevance[sec.title] = judge.share(topic, [claim_text(s.text) for s, _ in pairs])
            out.section_sentences[sec.title] = len(pairs)
        for s, _v in pairs:
            grams, nums = _grams(s.text), set(_NUMBER.findall(s.text))
            # near-identical wording stating other numbers is another fact (one template, two tables)
            if any(_jaccard(grams, g) >= DUPLICATE_JACCARD and nums == n for _, g, n in seen):
                out.duplicates.append(s.text[:80])
            seen.append((s.text, grams, nums))
    if llm is not None and hasattr(llm, "verify_claims"):
        add_llm_verdicts(out.verdicts, store, llm, req)
    n = counts(out.verdicts)
    wrong = [v for v in out.verdicts if not v.accepted]
    out.checks.append(CheckResult(
        "claims_grounded", (not wrong) if out.verdicts else None, n, "no contradicted or unsupported claim",
        "; ".join(f"{v.verdict}: {v.sentence[:30]}… ({v.reason})" for v in wrong[:6])))
    out.checks.append(relevance_check(out.section_relevance, out.section_sentences))
    out.checks.append(CheckResult("duplicates", not out.duplicates, len(out.duplicates), 0,
                                  ("repeated: " + "; ".join(out.duplicates[:5])) if out.duplicates else ""))


def relevance_check(shares: dict[str, float], sizes: dict[str, int] | None = None) -> CheckResult:
    """``section_relevance``: every section has at least ``SECTION_RELEVANCE_MIN`` on-topic sentences
    (``shares``: section title → on-topic share; ``sizes``: sentences judged per section — a section below
    the share fails when it holds at least ``SECTION_OFF_TOPIC_MIN`` off-topic sentences). Unmeasured when
    no section has a claim."""
    sizes = sizes or {}
    low = {k: v for k, v in shares.items() if v < SECTION_RELEVANCE_MIN}
    failed = {k: v for k, v in low.items()
              if k not in sizes or round((1 - v) * sizes[k]) >= SECTION_OFF_TOPIC_MIN}
    detail = []
    if failed:
        detail.append("off topic: " + ", ".join(f"{k} ({v:.0%})" for k, v in failed.items()))
    spared = [k for k in low if k not in failed]
    if spared:
        detail.append("one off-topic sentence only (within the measure's error): " + ", ".join(spared))
    return CheckResult(
        "section_relevance", (not failed) if shares else None, shares,
        f"≥ {SECTION_RELEVANCE_MIN:.0%} on-topic sentences per section", "; ".join(detail))


def _grams(text: str) -> set[str]:
    from sourcebook.report.terms import cjk_bigrams, content_words

    return cjk_bigrams(text) | content_words(text)


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0
