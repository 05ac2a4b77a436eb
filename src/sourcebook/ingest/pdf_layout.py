"""Page layout of a PDF page read with pdfplumber: words grouped into line segments, columns ordered
(left column before right), running headers/footers and margin furniture removed, paragraphs rebuilt."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

RUNNING_BAND = 0.09        # top/bottom share of the page searched for running headers and footers
SIDE_BAND = 0.08           # left/right share of the page where rotated or lone text is furniture
SEGMENT_GAP = 1.8          # a horizontal gap wider than this many font sizes splits a line into segments

_CJK_END = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]$")
_CJK_START = re.compile(r"^[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
                            "\ufb05": "st", "\ufb06": "st"})

_PAGE_NUMBER = re.compile(
    r"^[\s\-—–·•|]*(?:第\s*\d{1,4}\s*页(?:\s*[/，,]?\s*共\s*\d{1,4}\s*页)?|(?:page|p\.)\s*\d{1,4}(?:\s*of\s*\d{1,4})?"
    r"|\d{1,4}(?:\s*/\s*\d{1,4})?|[ivxlc]{1,6})[\s\-—–·•|]*$", re.I)

# furniture stamped on pages by repositories and publishers, dropped wherever it stands in a margin band
_FURNITURE = re.compile(
    r"downloaded\s+(?:from|by|on)\b|download\s+date\b|this\s+content\s+downloaded|all\s+use\s+subject\s+to"
    r"|for\s+personal\s+use\s+only|terms\s+and\s+conditions\s+of\s+use|^\s*©|\bcopyright\b.*\ball\s+rights\s+reserved"
    r"|下载(?:日期|时间|自)|本文下载|网络首发|知网", re.I)


def is_page_number(text: str) -> bool:
    """A line that is only a page number ("— 2 —", "第 3 页", "Page 4 of 9", "5/12", "xii")."""
    return bool(_PAGE_NUMBER.match(text.strip()))


def is_furniture(text: str) -> bool:
    """A margin line stamped by a repository or publisher ("Downloaded from …", "Download date: …")."""
    return bool(_FURNITURE.search(text))


def band_key(text: str) -> str:
    """A running line's identity: whitespace normalised and digits replaced by ``#``."""
    return re.sub(r"\d+", "#", " ".join(text.split()))


def join_lines(lines: list[str]) -> str:
    """Join the lines of one text block: no space between CJK characters, none after a trailing
    hyphen, a single space otherwise."""
    out = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if not out:
            out = line
        elif out.endswith("-") or (_CJK_END.search(out) and _CJK_START.search(line)):
            out += line
        else:
            out += " " + line
    return out


@dataclass
class Segment:
    """A run of words on one line, without a wide gap: (x0, top, x1, bottom) in points from the top-left."""

    x0: float
    top: float
    x1: float
    bottom: float
    size: float
    text: str
    upright: bool = True
    words: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (self.x0, self.top, self.x1, self.bottom)


def _join_words(words: list[dict[str, Any]]) -> str:
    """Words of one segment left to right: touching words (a superscript after its base) without a space,
    CJK next to CJK without a space, a single space otherwise."""
    out = ""
    prev: dict[str, Any] | None = None
    for w in words:
        t = w["text"]
        if prev is not None:
            size = float(prev.get("size") or 10)
            touching = w["x0"] - prev["x1"] < 0.1 * size
            if not touching and not (_CJK_END.search(out) and _CJK_START.search(t)):
                out += " "
        out += t
        prev = w
    return out.translate(_LIGATURES)


def _overlap(a_top: float, a_bottom: float, b_top: float, b_bottom: float) -> float:
    return (min(a_bottom, b_bottom) - max(a_top, b_top)) / max(0.5, min(a_bottom - a_top, b_bottom - b_top))


def _rows(words: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Words grouped into text lines: a word joins the line it overlaps most vertically (so sub- and
    superscripts stay with their line); lines are seeded by words of the typical height."""
    rows: list[list[Any]] = []  # [top, bottom, upright, words]: extent of the line's seeding word
    heights = sorted(w["bottom"] - w["top"] for w in words) or [0.0]
    typical = heights[len(heights) // 2]
    for w in sorted(words, key=lambda w: (round(abs(w["bottom"] - w["top"] - typical)), w["top"], w["x0"])):
        centre = (w["top"] + w["bottom"]) / 2
        best, best_key = None, (0.3, 0.0)
        for row in rows:
            slack = 0.3 * (row[1] - row[0])
            if row[2] != w["upright"] or not row[0] - slack <= centre <= row[1] + slack:
                continue
            key = (round(_overlap(row[0], row[1], w["top"], w["bottom"]), 2), -abs((row[0] + row[1]) / 2 - centre))
            if key > best_key:
                best, best_key = row, key
        if best is None:
            rows.append([w["top"], w["bottom"], w["upright"], [w]])
        else:
            best[3].append(w)
    rows.sort(key=lambda r: r[0])
    return [sorted(r[3], key=lambda w: w["x0"]) for r in rows]


def _split(rows: list[list[dict[str, Any]]]) -> list[Segment]:
    out: list[Segment] = []
    for row in rows:
        run: list[dict[str, Any]] = []
        for w in row:
            size = float(w.get("size") or (w["bottom"] - w["top"]) or 10)
            if run and w["x0"] - run[-1]["x1"] > SEGMENT_GAP * size:
                out.append(_segment(run))
                run = []
            run.append(w)
        if run:
            out.append(_segment(run))
    return out


def segments(words: list[dict[str, Any]], width: float | None = None) -> list[Segment]:
    """Group pdfplumber words (with ``size`` and ``upright``) into line segments, split at wide gaps.
    Given the page ``width``, lines of a two-column page are built per column (their baselines differ)."""
    segs = _split(_rows(words))
    gutter = _gutter(segs, width) if width else None
    if gutter is None:
        return segs
    groups: dict[str, list[dict[str, Any]]] = {"left": [], "right": [], "across": []}
    for s in segs:
        side = "left" if s.x1 <= gutter else "right" if s.x0 >= gutter else "across"
        groups[side] += s.words
    return [seg for ws in groups.values() if ws for seg in _split(_rows(ws))]


def _segment(run: list[dict[str, Any]]) -> Segment:
    sizes = sorted(float(w.get("size") or 0) for w in run)
    return Segment(min(w["x0"] for w in run), min(w["top"] for w in run), max(w["x1"] for w in run),
                   max(w["bottom"] for w in run), sizes[len(sizes) // 2], _join_words(run),
                   bool(run[0].get("upright", True)), run)


def in_band(seg: Segment, width: float, height: float) -> bool:
    """Whether a segment lies in the top/bottom band or a side margin of the page."""
    return (seg.bottom <= height * RUNNING_BAND or seg.top >= height * (1 - RUNNING_BAND)
            or seg.x1 <= width * SIDE_BAND or seg.x0 >= width * (1 - SIDE_BAND))


def is_dropped(seg: Segment, width: float, height: float, running: set[str] | frozenset[str]) -> bool:
    """Page furniture: page numbers, repository stamps, running lines and rotated text in the margins."""
    if not in_band(seg, width, height):
        return False
    side = seg.x1 <= width * SIDE_BAND or seg.x0 >= width * (1 - SIDE_BAND)
    return (is_page_number(seg.text) or is_furniture(seg.text) or band_key(seg.text) in running
            or (side and not seg.upright))


def running_lines(pages: list[tuple[list[Segment], float, float]]) -> set[str]:
    """Header/footer lines (running titles, numbered page lines): text in a margin band that repeats,
    digits aside, on at least half of the pages (two or more) at about the same height."""
    if len(pages) < 2:
        return set()
    counts: dict[str, int] = {}
    for segs, width, height in pages:
        keys = set()
        for s in segs:
            if in_band(s, width, height):
                key = band_key(s.text)
                if key:
                    keys.add((key, "top" if s.top < height / 2 else "bottom"))
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
    return {k for (k, _), c in counts.items() if c >= max(2, 0.5 * len(pages))}


def _gutter(segs: list[Segment], width: float) -> float | None:
    """The x position of a column gutter, when the page has two columns, else None."""
    if len(segs) < 6:
        return None
    best: tuple[int, float] | None = None
    x = width * 0.3
    while x <= width * 0.7:
        left = sum(1 for s in segs if s.x1 <= x)
        right = sum(1 for s in segs if s.x0 >= x)
        cross = len(segs) - left - right
        if left >= 3 and right >= 3 and cross <= 0.15 * len(segs) and (best is None or cross < best[0]):
            best = (cross, x)
        x += 2.0
    if best is None:
        return None
    # both columns must hold body text, not a label column beside a figure
    x = best[1]
    left_chars = sum(len(s.text) for s in segs if s.x1 <= x)
    right_chars = sum(len(s.text) for s in segs if s.x0 >= x)
    return x if min(left_chars, right_chars) >= 0.2 * max(left_chars, right_chars) else None


def reading_order(segs: list[Segment], width: float) -> list[Segment]:
    """Segments in reading order: top to bottom; on two-column pages, between full-width lines, the
    left column before the right one."""
    segs = sorted(segs, key=lambda s: (s.top, s.x0))
    gutter = _gutter(segs, width)
    if gutter is None:
        return segs
    out: list[Segment] = []
    left: list[Segment] = []
    right: list[Segment] = []
    for s in segs:
        if s.x1 <= gutter:
            left.append(s)
        elif s.x0 >= gutter:
            right.append(s)
        else:  # a full-width line (title, figure caption) closes the columns above it
            out += left + right + [s]
            left, right = [], []
    return out + left + right


def continues(prev: tuple[float, ...], cur: tuple[float, ...], right: float) -> bool:
    """Whether line ``cur`` continues the paragraph whose last line is ``prev`` (``right`` = the
    paragraph's right edge so far): directly below it, horizontally overlapping, ``prev`` running to
    the right edge (a short line ends a paragraph or is a heading) and ``cur`` not indented."""
    height = max(1.0, prev[3] - prev[1])
    gap = cur[1] - prev[3]
    if not -height * 0.5 < gap < height * 0.9:  # up to 1.9× line spacing (common in Chinese documents)
        return False
    if min(prev[2], cur[2]) - max(prev[0], cur[0]) <= 0:
        return False
    if prev[2] < max(right, cur[2]) - 2 * height:
        return False
    return cur[0] <= prev[0] + height


def paragraphs(segs: list[Segment]) -> list[str]:
    """Join ordered line segments into paragraphs."""
    out: list[str] = []
    para: list[str] = []
    last: tuple[float, ...] | None = None
    right = 0.0
    for s in segs:
        if para and last is not None and not continues(last, s.box, right):
            out.append(join_lines(para))
            para = []
        if not para:
            right = 0.0
        para.append(s.text)
        right = max(right, s.x1)
        last = s.box
    if para:
        out.append(join_lines(para))
    return [p for p in out if p]
