"""Split text into passages that follow sentence ends and stay within a size budget.

Sizes are measured in "units": one per CJK character, two per Latin word (so ~150–400 words land in the
same 300–800 window as CJK text). Chunks are exact slices of the input: no character is added or changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# a sentence ends after 。！？!?；; (with closing quotes/brackets), after "." before whitespace, or at a blank line
_BOUNDARY = re.compile(r"[。！？!?；;]+[\"”’」』）)]*|\.(?=\s)|\n\s*\n")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’\-][A-Za-z0-9]+)*")

TARGET = 600
MAX = 800
MIN = 300
OVERLAP = 80


def text_units(text: str) -> int:
    """Size of ``text`` in chunking units (CJK chars + 2 × Latin words)."""
    return len(_CJK.findall(text)) + 2 * len(_WORD.findall(text))


def _spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence; the spans cover the text without gaps."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        end = m.end()
        if end > start:
            spans.append((start, end))
            start = end
    if start < len(text):
        spans.append((start, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def split_sentences(text: str) -> list[str]:
    """Split on 。！？；.!?; (and blank lines), keeping the punctuation with its sentence."""
    return [text[s:e].strip() for s, e in _spans(text)]


def _hard_split(text: str, s: int, e: int, limit: int) -> list[tuple[int, int, int]]:
    """Cut an over-long sentence (tables, run-on text) at line breaks, then by length: (start, end, units)."""
    u = text_units(text[s:e])
    if u <= limit:
        return [(s, e, u)]
    out: list[tuple[int, int, int]] = []
    cur = s
    pieces = [m.end() + s for m in re.finditer(r"\n", text[s:e])] + [e]
    start = s
    for p in pieces:
        seg_units = text_units(text[start:p])
        if seg_units > limit and p != start:
            # flush what we had, then cut this line by characters
            if cur < start:
                out.append((cur, start, text_units(text[cur:start])))
            pos = start
            while pos < p:
                step = max(20, int(limit * (p - pos) / max(1, text_units(text[pos:p]))))
                step = min(step, p - pos)
                out.append((pos, pos + step, text_units(text[pos:pos + step])))
                pos += step
            cur = start = p
            continue
        if text_units(text[cur:p]) > limit and cur < start:
            out.append((cur, start, text_units(text[cur:start])))
            cur = start
        start = p
    if cur < e:
        out.append((cur, e, text_units(text[cur:e])))
    return [(a, b, n) for a, b, n in out if text[a:b].strip()]


def chunk_text(text: str, target: int = TARGET, maximum: int = MAX, overlap: int = OVERLAP) -> Iterator[str]:
    """Yield chunks of ``text`` of about ``target`` units, never above ``maximum``, split on sentence
    ends, each starting with up to ``overlap`` units of the previous chunk's last sentence(s)."""
    if not text.strip():
        return
    if text_units(text) <= maximum:
        yield text.strip()
        return
    sents: list[tuple[int, int, int]] = []
    for s, e in _spans(text):
        sents.extend(_hard_split(text, s, e, maximum - overlap))
    buf: list[tuple[int, int, int]] = []
    size = 0
    for sent in sents:
        u = sent[2]
        if buf and size + u > target and size >= MIN // 2:
            yield text[buf[0][0]:buf[-1][1]].strip()
            tail: list[tuple[int, int, int]] = []
            tsize = 0
            for prev in reversed(buf):
                if tsize + prev[2] > overlap:
                    break
                tail.insert(0, prev)
                tsize += prev[2]
            buf, size = tail, tsize
        buf.append(sent)
        size += u
    if buf:
        yield text[buf[0][0]:buf[-1][1]].strip()
