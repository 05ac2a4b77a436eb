"""Split text into passages that follow sentence ends and stay within a size budget.

Sizes are measured in "units": one per CJK character, one per Latin word times 2 (so ~150–400 words
land in the same 300–800 window as CJK text).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_SENT_END = re.compile(r"(?<=[。！？!?；;])|(?<=[.](?=\s))|\n{2,}")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’\-][A-Za-z0-9]+)*")

TARGET = 600
MAX = 800
MIN = 300
OVERLAP = 80


def text_units(text: str) -> int:
    """Size of ``text`` in chunking units (CJK chars + 2 × Latin words)."""
    return len(_CJK.findall(text)) + 2 * len(_WORD.findall(text))


def split_sentences(text: str) -> list[str]:
    """Split on 。！？.!? (and blank lines), keeping the punctuation with its sentence."""
    parts = [p.strip() for p in _SENT_END.split(text) if p and p.strip()]
    return parts


def _hard_split(sentence: str, limit: int) -> list[str]:
    # A sentence longer than the limit (tables, run-on text): cut on line breaks, then by length.
    if text_units(sentence) <= limit:
        return [sentence]
    out: list[str] = []
    buf = ""
    for line in sentence.splitlines(keepends=True):
        if buf and text_units(buf + line) > limit:
            out.append(buf)
            buf = ""
        while text_units(line) > limit:
            # cut by characters; CJK-heavy text ~1 unit/char, Latin ~0.35 unit/char
            step = max(50, int(limit * (len(line) / max(1, text_units(line)))))
            out.append(line[:step])
            line = line[step:]
        buf += line
    if buf.strip():
        out.append(buf)
    return [o.strip() for o in out if o.strip()]


def chunk_text(text: str, target: int = TARGET, maximum: int = MAX, overlap: int = OVERLAP) -> Iterator[str]:
    """Yield chunks of ``text`` of about ``target`` units, never above ``maximum``, split on sentence
    ends, each starting with up to ``overlap`` units of the previous chunk's last sentence(s)."""
    text = text.strip()
    if not text:
        return
    if text_units(text) <= maximum:
        yield text
        return
    sentences: list[str] = []
    for s in split_sentences(text):
        sentences.extend(_hard_split(s, maximum - overlap))
    buf: list[str] = []
    size = 0
    for s in sentences:
        u = text_units(s)
        if buf and size + u > target and size >= MIN // 2:
            yield _join(buf)
            tail: list[str] = []
            tsize = 0
            for prev in reversed(buf):
                pu = text_units(prev)
                if tsize + pu > overlap:
                    break
                tail.insert(0, prev)
                tsize += pu
            buf, size = tail, tsize
        buf.append(s)
        size += u
    if buf:
        chunk = _join(buf)
        yield chunk


def _join(sentences: list[str]) -> str:
    out = ""
    for s in sentences:
        if out and not _CJK.match(s[:1]) and not out.endswith("\n"):
            out += " "
        out += s
    return out.strip()
