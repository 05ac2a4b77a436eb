"""Grounding a draft (bodies with ``[@id]`` markers) against the store: one verdict per claim sentence."""

from __future__ import annotations

from typing import Any

from sourcebook.grounding.claims import is_claim
from sourcebook.grounding.report import passage_context
from sourcebook.grounding.verify import Verdict, stricter, verify_claim
from sourcebook.report.citations import CitedSentence, claim_text, split_cited_sentences


def sentence_verdicts(body: str, store: Any, section: str = "") -> list[tuple[CitedSentence, Verdict | None]]:
    """Each sentence of ``body`` with its verdict (None for notes and fragments that state nothing)."""
    out: list[tuple[CitedSentence, Verdict | None]] = []
    for s in split_cited_sentences(body or ""):
        text = claim_text(s.text)
        if not is_claim(text):
            out.append((s, None))
            continue
        passages = []
        for pid in dict.fromkeys(s.ids):
            p = store.get_passage(pid)
            if p is not None:
                passages.append((p.id, p.text, passage_context(p)))
        out.append((s, verify_claim(text, passages, [f"[@{i}]" for i in s.ids], section)))
    return out


def add_llm_verdicts(verdicts: list[Verdict], store: Any, llm: Any, req: Any, batch: int = 12) -> None:
    """Record the model's verdict beside each cited claim's offline verdict (one call per ``batch``
    claims); the claim keeps the stricter of the two. Never a model verdict alone: claims without a
    resolvable passage keep their offline verdict."""
    todo = [v for v in verdicts if v.passage_id]
    for i in range(0, len(todo), batch):
        part = todo[i:i + batch]
        items = []
        for v in part:
            p = store.get_passage(v.passage_id)
            items.append((v.sentence, v.passage_id, p.text if p is not None else ""))
        for v, (verdict, reason) in zip(part, llm.verify_claims(items, req), strict=True):
            if not verdict:
                continue
            v.llm, v.llm_reason = verdict, reason
            combined = stricter(v.verdict, verdict)
            if combined != v.verdict:
                v.offline = v.verdict
                v.verdict = combined
                v.reason = f"model: {reason}" if reason else f"model judged it {verdict}"
