"""Split text into passages that follow sentence ends and stay within a size budget.

Sizes are measured in "units": one per CJK character, two per Latin word (so ~150–400 words land in the
same 300–800 window as CJK text). Chunks are exact slices of the input: no character is added or changed.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

# a sentence ends after 。！？!?；; (with closing quotes/brackets), after "." before whitespace, or at a blank line
_BOUNDARY = re.compile(r"[。！？!?；;]+[\"”’」』）)]*|\.(?=\s)|\n\s*\n")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]")
_NEWLINE = re.compile(r"\n")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’\-][A-Za-z0-9]+)*")
_UNIT = re.compile(f"({_CJK.pattern})|{_WORD.pattern}")

TARGET = 600
MAX = 800
MIN = 300
OVERLAP = 80
# a passage never exceeds this many characters, whatever its units (text without letters counts none)
MAX_CHARS = 4000


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


def _cut_line(text: str, s: int, e: int, limit: int, max_chars: int) -> Iterator[tuple[int, int, int]]:
    """Cut one over-long line into pieces of at most ``limit`` units and ``max_chars`` characters.

    One scan of the counted tokens, never looking past the next cut, so any line is cut in linear time."""
    pos = s
    while pos < e:
        stop = min(e, pos + max_chars)
        units = 0
        cut = stop
        for m in _UNIT.finditer(text, pos, stop):
            units_here = 1 if m.group(1) else 2
            if units + units_here > limit:
                cut = m.start()
                break
            units += units_here
        if cut == pos:  # a single word longer than the budget: cut inside it
            cut = min(stop, pos + max(1, limit // 2))
            units = text_units(text[pos:cut])
        yield pos, cut, units
        pos = cut


def _hard_split(text: str, s: int, e: int, limit: int, max_chars: int = MAX_CHARS) -> list[tuple[int, int, int]]:
    """Cut an over-long sentence (tables, run-on text) at line breaks, then by length: (start, end, units).

    Pieces stay within ``limit`` units and ``max_chars`` characters; the work is linear in the length."""
    if e - s <= max_chars:
        u = text_units(text[s:e])
        if u <= limit:
            return [(s, e, u)]
    out: list[tuple[int, int, int]] = []
    cur, cur_units = s, 0  # pending lines [cur, start) and their size
    start = s
    for m in itertools.chain(_NEWLINE.finditer(text, s, e), [None]):
        p = m.end() if m is not None else e
        if p == start:
            continue
        seg_units = text_units(text[start:p])
        if seg_units > limit or p - start > max_chars:
            if cur < start:
                out.append((cur, start, cur_units))
            out.extend(_cut_line(text, start, p, limit, max_chars))
            cur, cur_units = p, 0
        elif cur < start and (cur_units + seg_units > limit or p - cur > max_chars):
            out.append((cur, start, cur_units))
            cur, cur_units = start, seg_units
        else:
            cur_units += seg_units
        start = p
    if cur < e:
        out.append((cur, e, cur_units))
    return [(a, b, n) for a, b, n in out if text[a:b].strip()]


def chunk_text(text: str, target: int = TARGET, maximum: int = MAX, overlap: int = OVERLAP) -> Iterator[str]:
    """Yield chunks of ``text`` of about ``target`` units, never above ``maximum``, split on sentence
    ends, each starting with up to ``overlap`` units of the previous chunk's last sentence(s)."""
    if not text.strip():
        return
    if len(text) <= MAX_CHARS and text_units(text) <= maximum:
        yield text.strip()
        return
    sents: list[tuple[int, int, int]] = []
    for s, e in _spans(text):
        sents.extend(_hard_split(text, s, e, maximum - overlap, MAX_CHARS - MAX_CHARS // 8))
    buf: list[tuple[int, int, int]] = []
    size = 0
    for sent in sents:
        u = sent[2]
        too_long = bool(buf) and sent[1] - buf[0][0] > MAX_CHARS
        if buf and ((size + u > target and size >= MIN // 2) or too_long):
            yield text[buf[0][0]:buf[-1][1]].strip()
            tail: list[tuple[int, int, int]] = []
            tsize = 0
            for prev in reversed(buf):
                if tsize + prev[2] > overlap or buf[-1][1] - prev[0] > MAX_CHARS // 8:
                    break
                tail.insert(0, prev)
                tsize += prev[2]
            buf, size = tail, tsize
        buf.append(sent)
        size += u
    if buf:
        yield text[buf[0][0]:buf[-1][1]].strip()
