"""A report body as claims: sentences with the citation markers attached to them.

Every citation form the project and older reports write is recognised: ``[@id]``, numbered ``[1]`` /
``[1, 2]`` / ``[^1]`` / ``【1】``, labels ``[file.pdf, p. 3]``, ``[deck.pptx, slide 5]``,
``[data.xlsx, Sheet1!A1:B9]``, ``[talk.mp4, 01:20–01:45]``, ``[long_context: "title", chunk 2]``.
Notes written by the pipeline (``（说明：…）``, gap notes), headings, table rows and fragments too short to
state anything are not claims.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sourcebook.grounding.tokens import CJK_CHAR
from sourcebook.report.citations import join_open_clauses, split_sentences

_EXT = (r"pdf|pptx?|docx?|xlsx?|xls|csv|tsv|json|jsonl|txt|md|html?|mp4|mov|mkv|avi|webm|mp3|wav|m4a|flac|"
        r"png|jpe?g|gif|webp|zip")
CITATION = re.compile(
    r"\[@[A-Za-z0-9_\-:.]+\]"
    r"|\[\^?\d{1,4}(?:\s*[,，、\-–]\s*\d{1,4})*\](?![(:])"
    r"|【\d{1,4}(?:\s*[,，、\-–]\s*\d{1,4})*】"
    r"|\[[^\[\]\n]{1,160}?\.(?:" + _EXT + r")\b[^\[\]\n]{0,80}\](?!\()"
    r"|\[[A-Za-z_][\w\-]{0,60}:\s*\"[^\"\n]{1,160}\"\s*,\s*chunk\s*\d+\]", re.I)
# the pipeline's notes, also in emphasis: （说明：…）, *（资料说明：…）*, (Note: …), quotes, "本节…"
_NOTE = re.compile(r"^[*_\s]*[（(][^）)]{0,6}(?:说明|注|Note)[:：]|^\s*>|^[*_\s]*(?:本节|本报告|this section|this report|note[:：])",
                   re.I)
_GLUE = re.compile(r"^(?:此外|同时|另外|进一步看|与此相关|从另一角度看|In addition|Moreover|Relatedly|Further|"
                   r"At the same time)[，,]\s*", re.I)


@dataclass
class Claim:
    """One sentence of a body with its citation markers (raw, in order) and where it sits."""

    text: str                       # without markers and without a leading connector
    raw: str                        # as written, markers included
    citations: list[str] = field(default_factory=list)
    section: str = ""
    paragraph: int = 0

    @property
    def cited(self) -> bool:
        return bool(self.citations)


def strip_citations(text: str) -> str:
    return CITATION.sub("", text)


def is_claim(text: str) -> bool:
    """A sentence that states something: not a note, long enough, not a question."""
    t = text.strip()
    if not t or _NOTE.search(t) or t.endswith(("？", "?", "：", ":")):
        return False
    cjk = len(CJK_CHAR.findall(t))
    return cjk >= 6 if cjk else len(re.findall(r"[A-Za-z0-9]+", t)) >= 4


def split_claims(body: str, section: str = "") -> list[Claim]:
    """Claims of a Markdown body (headings, table rows and notes skipped; list items are sentences)."""
    out: list[Claim] = []
    pars = [p for p in re.split(r"\n\s*\n", body) if p.strip()]
    for pi, par in enumerate(pars):
        lines = [ln for ln in par.splitlines()
                 if ln.strip() and not re.match(r"^\s*(?:#{1,6}\s|\|)", ln) and not _NOTE.search(ln)]
        text = " ".join(re.sub(r"^\s*(?:[-*+•]|\d{1,3}[.)、])\s+", "", ln).strip() for ln in lines)
        text = re.sub(r"\*\*|__", "", text)
        for raw in join_open_clauses(split_sentences(text, CITATION), CITATION):
            clean = " ".join(strip_citations(raw).split())
            clean = _GLUE.sub("", clean).strip()
            if is_claim(clean):
                out.append(Claim(clean, raw, CITATION.findall(raw), section, pi))
    return out
