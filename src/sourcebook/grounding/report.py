"""Grounding a whole report: every claim of every section verified, and the checks that summarise it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sourcebook.grounding.claims import split_claims
from sourcebook.grounding.resolve import Resolver
from sourcebook.grounding.verify import Verdict, counts, verify_claim
from sourcebook.report.types import CheckResult

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")


def markdown_sections(body: str) -> list[tuple[str, str]]:
    """(heading, text) pairs of a Markdown body; text before the first heading has heading ''."""
    out: list[tuple[str, list[str]]] = [("", [])]
    for line in body.splitlines():
        m = _HEADING.match(line)
        if m:
            out.append((m.group(2).strip("* "), []))
        else:
            out[-1][1].append(line)
    return [(h, "\n".join(lines)) for h, lines in out if "\n".join(lines).strip()]


def passage_context(p: Any) -> str:
    """What a citation also vouches for besides the passage text: its file name and title."""
    return f"{p.source.rsplit('/', 1)[-1]} {p.title or ''}"


def ground_sections(sections: Iterable[tuple[str, str]], resolver: Resolver, use_e5: bool = True
                    ) -> list[Verdict]:
    """A verdict for every claim of every (title, body) section."""
    out: list[Verdict] = []
    for title, body in sections:
        for c in split_claims(body, title):
            passages = []
            for cite in dict.fromkeys(c.citations):
                for p in resolver.resolve(cite).passages:
                    passages.append((p.id, p.text, passage_context(p)))
            out.append(verify_claim(c.text, passages, c.citations, title, use_e5=use_e5))
    return out


def unresolved(resolver: Resolver) -> list[tuple[str, str]]:
    """(citation, reason) for every citation the resolver could not resolve."""
    return [(c, r.error) for c, r in resolver.seen() if not r.ok]


def grounding_checks(verdicts: list[Verdict], resolver: Resolver | None) -> list[CheckResult]:
    """``citations_resolvable`` (every citation names a stored passage) and ``claims_grounded`` (no claim
    contradicted or unsupported), both ``unmeasured`` without a store."""
    if resolver is None:
        return [CheckResult("citations_resolvable", None, None, "every citation resolves to a stored passage",
                            "no --folder given: the sources were not read"),
                CheckResult("claims_grounded", None, None, "no contradicted or unsupported claim",
                            "no --folder given: claims not verified")]
    bad = unresolved(resolver)
    total = len(resolver.seen())
    res = CheckResult(
        "citations_resolvable", (not bad) if total else None, f"{total - len(bad)}/{total}",
        "every citation resolves to a stored passage",
        ("unresolvable: " + "; ".join(f"{c} ({why})" for c, why in bad[:20])) if bad else
        ("" if total else "no citations"))
    n = counts(verdicts)
    wrong = [v for v in verdicts if not v.accepted]
    detail = "; ".join(f"{v.verdict}: {v.sentence[:40]}… ({v.reason})" for v in wrong[:8])
    grounded = CheckResult("claims_grounded", (not wrong) if verdicts else None, n,
                           "no contradicted or unsupported claim", detail if wrong else
                           ("" if verdicts else "no claims"))
    return [res, grounded]
