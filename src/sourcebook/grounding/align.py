"""Order-aware alignment of a claim to the best span of a passage.

The passage is cut into sentences; every window of one to three consecutive sentences is aligned with the
claim by ``difflib.SequenceMatcher`` over tokens (CJK characters, Latin words), which yields matching blocks
in the order both texts share — a bag of n-grams would accept the same words in any order. Single CJK
characters matched on their own are noise and do not count. ``coverage`` is the weighted share of the
claim's tokens matched; ``cohesion`` the share of matched weight that sits in runs of at least three CJK
characters or two words (word salad matches in short scattered runs); the span is the passage text from the
first to the last counted match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from sourcebook.grounding.tokens import Token, normalise, tokenize

_SENT_END = re.compile(r"[。！？!?；;]+|\.(?=\s|$)|\n\s*\n")
_CLAUSE = re.compile(r"[，,；;：:]")
MAX_WINDOW = 3
MIN_CLAUSE = 4  # tokens: shorter pieces stay with the next clause


@dataclass
class Alignment:
    """The best span of one passage for one claim."""

    coverage: float = 0.0          # weighted share of the claim's tokens matched in order
    cohesion: float = 0.0          # share of matched weight in runs (≥ 3 CJK chars / ≥ 2 words)
    span: tuple[int, int] = (0, 0)  # char offsets of the matched span in the passage
    window: tuple[int, int] = (0, 0)  # char offsets of the sentence window holding the span
    blocks: list[tuple[int, int, int]] = field(default_factory=list)  # (claim tok, passage tok, size), counted
    claim_tokens: list[Token] = field(default_factory=list)
    passage_tokens: list[Token] = field(default_factory=list)  # tokens of the window


def sentence_bounds(text: str) -> list[tuple[int, int]]:
    """Character ranges of the sentences of ``text``."""
    out, start = [], 0
    for m in _SENT_END.finditer(text):
        if text[start:m.end()].strip():
            out.append((start, m.end()))
        start = m.end()
    if text[start:].strip():
        out.append((start, len(text)))
    return out or [(0, len(text))]


def _counted(block_tokens: list[Token]) -> bool:
    return not (len(block_tokens) == 1 and block_tokens[0].cjk)


def _align_tokens(ct: list[Token], pt: list[Token], clauses: list[tuple[int, int]]
                  ) -> tuple[float, float, list[tuple[int, int, int]]]:
    """Each clause of the claim is aligned in order with the window (clauses may come in another order:
    "Between 2015 and 2020, Portland added …" against "Portland … between 2015 and 2020")."""
    total = sum(t.weight for t in ct) or 1.0
    ptext = [t.text for t in pt]
    blocks, matched, runs = [], 0.0, 0.0
    for c0, c1 in clauses:
        sm = SequenceMatcher(None, [t.text for t in ct[c0:c1]], ptext, autojunk=False)
        for a, b, size in sm.get_matching_blocks():
            a += c0
            if size == 0 or not _counted(ct[a:a + size]):
                continue
            w = sum(t.weight for t in ct[a:a + size])
            blocks.append((a, b, size))
            matched += w
            cjk = ct[a].cjk
            if (cjk and size >= 3) or (not cjk and size >= 2):
                runs += w
    blocks.sort(key=lambda x: x[1])
    return matched / total, (runs / matched if matched else 0.0), blocks


def _clauses(claim: str, ct: list[Token]) -> list[tuple[int, int]]:
    """Token ranges of the claim's clauses (cut at commas and semicolons)."""
    cuts = [m.start() for m in _CLAUSE.finditer(claim)]
    out, start = [], 0
    for c in cuts:
        end = next((i for i, t in enumerate(ct) if t.start >= c), len(ct))
        if end - start >= MIN_CLAUSE:
            out.append((start, end))
            start = end
    if start < len(ct):
        out.append((start, len(ct)))
    return out or [(0, len(ct))]


def align(claim: str, passage: str) -> Alignment:
    """The best-aligned span of ``passage`` for ``claim`` (see the module doc)."""
    claim = normalise(claim)
    ct = tokenize(claim)
    if not ct or not passage.strip():
        return Alignment(claim_tokens=ct)
    bounds = sentence_bounds(passage)
    all_pt = tokenize(passage)
    best = Alignment(claim_tokens=ct)
    best_key = (-1.0, -1.0)
    clauses = _clauses(claim, ct)
    for i in range(len(bounds)):
        for w in range(1, MAX_WINDOW + 1):
            if i + w > len(bounds):
                break
            lo, hi = bounds[i][0], bounds[i + w - 1][1]
            pt = [t for t in all_pt if lo <= t.start < hi]
            if not pt:
                continue
            cov, coh, blocks = _align_tokens(ct, pt, clauses)
            key = (round(cov, 3), -w)
            if key > best_key:
                best_key = key
                span = ((pt[blocks[0][1]].start, pt[max(b + n for _, b, n in blocks) - 1].end) if blocks
                        else (lo, lo))
                best = Alignment(cov, coh, span, (lo, hi), blocks, ct, pt)
    return best
