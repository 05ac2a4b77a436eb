"""Verdicts: a claim against the passages it cites.

* ``quoted`` — the claim is verbatim in a cited passage (character offsets given);
* ``contradicted`` — the claim follows a passage span but a number, direction, negation or entity disagrees;
* ``supported`` — the claim follows a span in order (coverage ≥ ``SUPPORTED``), or in the band between
  ``UNSUPPORTED`` and ``SUPPORTED`` with cohesive runs and an e5 similarity ≥ ``E5_TIE`` (e5 only breaks
  ties; it never passes a claim on its own);
* ``unsupported`` — nothing in the cited passages covers the claim, or the claim cites nothing.

Thresholds were tuned on the tuning half of ``tests/data/grounding_pairs.jsonl`` and are reported on the
held-out half by ``benchmarks/bench_grounding.py``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sourcebook.grounding.align import Alignment, align
from sourcebook.grounding.consistency import consistency

VERDICTS = ("quoted", "supported", "contradicted", "unsupported")
ACCEPTED = ("quoted", "supported")
SUPPORTED = 0.72       # coverage at or above: supported (when consistent)
UNSUPPORTED = 0.45     # coverage below: unsupported
TOPIC = 0.35           # coverage from which a failed consistency check is a contradiction, not an absence
COHESION = 0.25        # share of matched weight in runs, below which the order is not the passage's
MID_COHESION = 0.4     # in the band between UNSUPPORTED and SUPPORTED the match must also be cohesive
E5_TIE = 0.86          # raw e5 cosine (claim as query, span as passage) that lets a mid-band claim pass

_STRICT = {"quoted": 0, "supported": 1, "unsupported": 2, "contradicted": 3}


@dataclass
class Verdict:
    """The verdict on one claim, with the passage and span it was measured against."""

    sentence: str
    verdict: str
    reason: str
    citations: list[str]
    passage_id: str | None = None
    span: tuple[int, int] | None = None
    coverage: float = 0.0
    section: str = ""
    offline: str | None = None      # the offline verdict when an LLM verdict was combined
    llm: str | None = None          # the LLM's verdict, recorded beside the offline one
    llm_reason: str = ""

    @property
    def accepted(self) -> bool:
        return self.verdict in ACCEPTED

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["span"] = list(self.span) if self.span else None
        return d


def stricter(a: str, b: str) -> str:
    """The stricter of two verdicts (contradicted > unsupported > supported > quoted)."""
    return a if _STRICT[a] >= _STRICT[b] else b


def _norm_with_map(text: str) -> tuple[str, list[int]]:
    chars, where = [], []
    for i, ch in enumerate(text):
        n = unicodedata.normalize("NFKC", ch).lower()
        for c in n:
            if c.isalnum():
                chars.append(c)
                where.append(i)
    return "".join(chars), where


def find_quote(claim: str, passage: str) -> tuple[int, int] | None:
    """Character offsets of ``claim`` in ``passage`` when it is verbatim there (spacing, punctuation and
    width ignored), else None."""
    c, _ = _norm_with_map(claim)
    if len(c) < 8:
        return None
    p, where = _norm_with_map(passage)
    at = p.find(c)
    if at < 0:
        return None
    end = where[at + len(c) - 1] + 1
    tail = re.search(r"[%‰％°℃]+$", claim.rstrip("。.!?！？;；,， "))
    if tail and passage[end:end + len(tail.group(0))] == tail.group(0):
        end += len(tail.group(0))
    return where[at], end


def _e5(claim: str, span: str) -> float:
    from sourcebook.store.dense import embed_passages, embed_query

    q = embed_query(claim)
    p = embed_passages([span])[0]
    return float((q * p).sum())


def verify_claim(claim: str, passages: Sequence[tuple[str, str, str]], citations: Sequence[str] = (),
                 section: str = "", use_e5: bool = True) -> Verdict:
    """Verdict on ``claim`` against ``passages`` — (passage id, text, context such as file name and title)."""
    cites = list(citations)
    if not passages:
        reason = "no citation" if not cites else "its citations resolve to no stored passage"
        return Verdict(claim, "unsupported", reason, cites, section=section)
    for pid, text, _ctx in passages:
        q = find_quote(claim, text)
        if q:
            return Verdict(claim, "quoted", "verbatim in the cited passage", cites, pid, q, 1.0, section)
    scored: list[tuple[Alignment, str, str, str]] = [(align(claim, t), pid, t, ctx) for pid, t, ctx in passages]
    scored.sort(key=lambda x: -x[0].coverage)
    al, pid, text, ctx = scored[0]
    cov = round(al.coverage, 3)
    span = al.span if al.blocks else None
    if cov < TOPIC:
        return Verdict(claim, "unsupported", f"the cited passage does not cover the claim (coverage {cov:.2f})",
                       cites, pid, span, cov, section)
    bad = consistency(claim, text, al, ctx)
    if bad:
        verdict, reason = bad
        return Verdict(claim, verdict, reason, cites, pid, span, cov, section)
    if cov < UNSUPPORTED:
        return Verdict(claim, "unsupported", f"only {cov:.0%} of the claim is in the cited passage", cites, pid,
                       span, cov, section)
    if al.cohesion < COHESION:
        return Verdict(claim, "unsupported", f"the claim's words do not follow the passage's order "
                       f"(cohesion {al.cohesion:.2f})", cites, pid, span, cov, section)
    if cov >= SUPPORTED:
        return Verdict(claim, "supported", f"follows the passage span in order (coverage {cov:.2f})", cites, pid,
                       span, cov, section)
    if al.cohesion < MID_COHESION:
        return Verdict(claim, "unsupported", f"partial alignment ({cov:.2f}) in scattered pieces "
                       f"(cohesion {al.cohesion:.2f})", cites, pid, span, cov, section)
    if use_e5:
        sim = _e5(claim, text[al.window[0]:al.window[1]])
        if sim >= E5_TIE:
            return Verdict(claim, "supported", f"partial alignment ({cov:.2f}) with close meaning (e5 {sim:.2f})",
                           cites, pid, span, cov, section)
        return Verdict(claim, "unsupported", f"partial alignment ({cov:.2f}), meaning not close (e5 {sim:.2f})",
                       cites, pid, span, cov, section)
    return Verdict(claim, "unsupported", f"partial alignment ({cov:.2f})", cites, pid, span, cov, section)


def verify_text(claim: str, passage: str, use_e5: bool = True) -> Verdict:
    """Verdict of ``claim`` against a single passage text (used by the labelled-set benchmark)."""
    return verify_claim(claim, [("p", passage, "")], ["p"], use_e5=use_e5)


def counts(verdicts: Sequence[Verdict]) -> dict[str, int]:
    """Claims per verdict, every verdict present."""
    out = {v: 0 for v in VERDICTS}
    for v in verdicts:
        out[v.verdict] += 1
    return out


