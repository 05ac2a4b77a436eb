"""Inline citations in draft bodies: split bodies into cited sentences and resolve ``[@id]`` markers against
the store (dropping and logging the ones that do not resolve). Claims are verified by
``sourcebook.grounding``."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from sourcebook.report.types import CITE_MARKER

log = logging.getLogger(__name__)

_END = "。！？!?；;"
_CLOSERS = "”’」』）)\"'"


@dataclass
class CitedSentence:
    """A sentence of a body with the passage ids it cites (markers removed from ``text``)."""

    raw: str
    text: str
    ids: list[str]
    paragraph: int


@dataclass
class ResolveLog:
    dropped: list[str] = field(default_factory=list)  # marker ids that did not resolve


def cited_ids(body: str) -> list[str]:
    """All passage ids cited in ``body``, in order of appearance (repeats kept)."""
    return CITE_MARKER.findall(body)


def strip_markers(text: str) -> str:
    return CITE_MARKER.sub("", text)


_GLUE = re.compile(r"^(?:此外|同时|另外|进一步看|与此相关|从另一角度看|In addition|Moreover|Relatedly|Further|At the same time)[，,]\s*")


def claim_text(sentence: str) -> str:
    """The sentence without the writer's leading connector (glue is not a claim to support)."""
    return _GLUE.sub("", sentence.strip())


def support_text(p: Any) -> str:
    """What a citation vouches for: the passage text plus its file name and title (so a sentence that names
    the cited file is not penalised for it)."""
    name = p.source.rsplit("/", 1)[-1]
    return f"{name} {p.title or ''}\n{p.text}"


def split_sentences(par: str, marker: re.Pattern[str] = CITE_MARKER) -> list[str]:
    """Sentences of one paragraph, each with the citation markers (``marker``: the grammar of one marker)
    placed before or after its end punctuation. A marker is never cut (a "." inside ``[file.pdf, p. 3]``
    ends nothing); "." ends a sentence at the end, before whitespace or a marker, or right after a marker."""
    out: list[str] = []
    i, start, n = 0, 0, len(par)
    after_marker = False
    while i < n:
        ch = par[i]
        if ch in "[【":
            m = marker.match(par, i)
            if m:
                i, after_marker = m.end(), True
                continue
        end = ch in _END or (ch == "." and (i + 1 == n or par[i + 1] in " \t\n[【" or after_marker))
        after_marker = False
        if end:
            j = i + 1
            while j < n and par[j] in _CLOSERS:
                j += 1
            while True:
                k = j
                while k < n and par[k].isspace():
                    k += 1
                m = marker.match(par, k)
                if not m:
                    break
                j = m.end()
            out.append(par[start:j].strip())
            start = i = j
            continue
        i += 1
    if par[start:].strip():
        out.append(par[start:].strip())
    return [s for s in out if s]


def join_open_clauses(parts: list[str], marker: re.Pattern[str] = CITE_MARKER) -> list[str]:
    """A clause ending in a semicolon without its own citation belongs to the sentence it opens: join it to
    the next part, so that the sentence's citation covers it."""
    out: list[str] = []
    pending = ""
    for part in parts:
        if part.rstrip().endswith(("；", ";")) and not marker.search(part):
            pending += part + (" " if part.rstrip().endswith(";") else "")
            continue
        out.append(pending + part)
        pending = ""
    if pending:
        out.append(pending)
    return out


def split_cited_sentences(body: str) -> list[CitedSentence]:
    """Split a body into sentences (paragraphs = blank-line separated blocks), keeping each sentence's
    markers with it, whether placed before or after the end punctuation."""
    out: list[CitedSentence] = []
    for pi, par in enumerate(p for p in re.split(r"\n\s*\n", body) if p.strip()):
        for raw in join_open_clauses(split_sentences(par.strip())):
            out.append(CitedSentence(raw=raw, text=strip_markers(raw).strip(), ids=CITE_MARKER.findall(raw), paragraph=pi))
    return out


def join_sentences(sentences: list[CitedSentence], language: str = "zh") -> str:
    """Rebuild a body from sentences, keeping paragraph breaks."""
    sep = "" if language == "zh" else " "
    pars: dict[int, list[str]] = {}
    for s in sentences:
        pars.setdefault(s.paragraph, []).append(s.raw)
    return "\n\n".join(sep.join(v) for _, v in sorted(pars.items()))


def resolve_citations(body: str, store: Any, log_: ResolveLog | None = None) -> str:
    """Remove markers whose id the store does not know; record them in ``log_``."""
    cache: dict[str, bool] = {}

    def ok(pid: str) -> bool:
        if pid not in cache:
            try:
                cache[pid] = store.get_passage(pid) is not None
            except Exception:  # noqa: BLE001 - an odd id is simply unresolvable
                cache[pid] = False
        return cache[pid]

    def repl(m: re.Match[str]) -> str:
        pid = m.group(1)
        if ok(pid):
            return m.group(0)
        if log_ is not None:
            log_.dropped.append(pid)
        log.info("dropped unresolvable citation [@%s]", pid)
        return ""

    return CITE_MARKER.sub(repl, body)
