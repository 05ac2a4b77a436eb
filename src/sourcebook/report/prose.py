"""Passage text → readable prose: what the extractive writer may quote.

Extracted passages are not prose yet: PDF lines are hard-wrapped (often one line per paragraph), pages open
with page numbers and running heads, a passage can start or end in the middle of a sentence, slide and
video passages carry extractor labels (``Notes:``, ``[on screen]``, ``[speech]``), headings sit on their
own lines or glued to the text below them, reference lists look like sentences, and tables are pipe rows.
``prose_lines`` repairs the text line by line; the predicates below judge single sentences; ``row_sentences``
states a table's rows as short sentences made only of the table's own cells.
"""

from __future__ import annotations

import re

TERMINAL = "。！？!?；;.…"
_CLOSERS = "”’」』）)\"'"
# a CJK ideograph (extension A, unified, compatibility): the report modules' test for Chinese text
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

_PAGE_MARK = re.compile(r"^\s*(?:[—–\-－·•]*\s*(?:第\s*)?\d{1,4}\s*(?:页|/\s*\d{1,4})?\s*[—–\-－·•]*|page\s+\d+(?:\s+of\s+\d+)?)\s*$", re.I)
_LABEL = re.compile(
    r"^\s*(?:\[(?:on screen|speech|text in image|caption|ocr|image|slide(?: \d+)?|notes?|transcript)\][ \t]*|"
    r"#{0,6}\s*(?:speaker\s+)?notes?\s*[:：][ \t]*|(?:讲者)?备注\s*[:：][ \t]*|(?:slide|幻灯片)\s*\d+\s*[:：][ \t]*)", re.I)
_ON_SCREEN = re.compile(r"^\s*\[on screen\]", re.I)
_COUNTER = re.compile(r"\s*/\s*\d{1,3}\s*/\s*\d{1,3}\s*$|\s+\d{1,3}\s*/\s*\d{1,3}\s*$")
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_HEADING_MD = re.compile(r"^\s*#{1,6}\s")
_SECTION_WORDS = (r"引言|前言|导言|摘要|概述|背景|研究背景|项目概况|基本情况|数据与方法|数据和方法|研究方法|方法|结果|"
                  r"结果与讨论|讨论|结论|结论与建议|政策建议|建议|参考文献|附录|致谢|abstract|introduction|background|"
                  r"methods?|results|discussion|conclusions?|references")
# "2 项目概况", "3.1 方法", "第二章 背景", "一、背景", "（一）结果" — a numbered heading opening a sentence
_LEAD_HEADING = re.compile(
    r"^\s*(?:(?:第[一二三四五六七八九十百\d]+[章节部分])|\d{1,2}(?:\.\d{1,2}){0,2}|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[)）])"
    r"\s*(?:" + _SECTION_WORDS + r")\s*(?![，,、的和与])", re.I)
_REF_HEAD = re.compile(r"^\s*(?:#{1,6}\s*)?(?:参考文献|参考资料|references|bibliography|works cited)\s*[:：]?\s*$", re.I)
_BIB = re.compile(
    r"\[(?:J|M|C|D|R|N|S|P|Z|EB/OL|DB/OL)\]|\bet al\.|\bdoi\s*[:：]|\bvol\.\s*\d|\bpp?\.\s*\d|"
    r"[.．。]\s*《[^》]{2,80}》|《[^》]{2,80}》\s*[（(](?:演示文稿|电子表格|视频简报|视频|报告|论文|工作论文|内部资料|数据集)[)）]|"
    r"^[^，,。]{2,40}[.．]\s*[《\"“][^》\"”]{2,80}[》\"”][^，,]{0,40}[，,]\s*(?:19|20)\d{2}|"
    r"^\s*\[\d{1,3}\]\s*\S|(?:19|20)\d{2}\s*[,，]\s*\d+\s*[(（]\d+[)）]\s*[:：]", re.I)
_PARTICLE_START = re.compile(r"^[的了着过地得和与及或而但并就都也即则且之所其，、；：。！？）)”’》】,;:.!?]|^[a-z]")
_CLAUSE = re.compile(r"[，,、；;]")


def has_cjk(text: str) -> bool:
    return bool(CJK.search(text))


def width(line: str) -> int:
    """Display width: CJK characters count two, everything else one."""
    return len(line) + len(CJK.findall(line))


def strip_labels(line: str) -> str:
    """Remove extractor labels ('[speech] ', 'Notes:', 'Slide 3:') and on-screen counters ('/ 2/3')."""
    if _ON_SCREEN.match(line):
        line = _COUNTER.sub("", _LABEL.sub("", line, count=1))
        return "\n".join(p.strip() for p in line.split(" / ") if p.strip())
    prev = None
    while prev != line:
        prev, line = line, _LABEL.sub("", line, count=1)
    return line


def is_terminated(text: str) -> bool:
    """Ends with sentence-final punctuation (closing quotes/brackets after it allowed)."""
    t = text.rstrip().rstrip(_CLOSERS).rstrip()
    return bool(t) and t[-1] in TERMINAL


def prose_lines(text: str) -> tuple[str, bool]:
    """Repair a passage's text: drop page-number lines and strip labels; join hard-wrapped lines (a line
    as wide as the passage's widest lines and without end punctuation continues on the next line); cut
    everything from a 'References' heading on. Returns (paragraphs separated by blank lines, whether the
    last paragraph was cut off by the passage end)."""
    lines: list[str] = []
    for raw in text.splitlines():
        if not raw.strip() or _PAGE_MARK.match(raw):
            continue
        if _REF_HEAD.match(raw):
            break
        lines.extend(part for part in strip_labels(raw).split("\n") if part.strip())
    if not lines:
        return "", False
    widths = sorted(width(x.strip()) for x in lines)
    full = widths[int(0.9 * (len(widths) - 1))]
    paras: list[str] = []
    cur = ""
    prev_wide = False
    for line in lines:
        s = line.strip()
        table = bool(_TABLE_ROW.match(s))
        joinable = (cur and not table and not _HEADING_MD.match(s) and not _TABLE_ROW.match(cur)
                    and not is_terminated(cur) and (prev_wide or s[:1] in "，。、；：）)”,;:"))
        if joinable:
            sep = "" if (CJK.search(cur[-1:]) or CJK.search(s[:1]) or s[:1] in "，。、；：）)”") else " "
            cur = cur + sep + s
        else:
            if cur:
                paras.append(cur)
            cur = s
        prev_wide = not table and full >= 30 and width(s) >= 0.8 * full
    paras.append(cur)
    cut = prev_wide and not is_terminated(cur) and not _TABLE_ROW.match(cur)
    return "\n\n".join(paras), cut


def starts_mid_sentence(text: str) -> bool:
    """A passage (already repaired) that visibly begins inside a sentence: a particle, punctuation or a
    lower-case letter first."""
    return bool(_PARTICLE_START.match(text.lstrip()))


def ends_mid_sentence(text: str) -> bool:
    """The passage's last line is running text without end punctuation (its sentence continues in the
    next passage)."""
    last = text.rstrip().rsplit("\n", 1)[-1].strip()
    return bool(last) and not is_terminated(last) and not _TABLE_ROW.match(last) and not _HEADING_MD.match(last) \
        and width(last) >= 30


def cut_heading(sentence: str) -> str:
    """'2 项目概况梧桐社区建于…' → '梧桐社区建于…' (a numbered section heading glued to its first sentence)."""
    m = _LEAD_HEADING.match(sentence)
    if m and len(sentence) - m.end() >= 8:
        return sentence[m.end():].lstrip(" ：:")
    return sentence


def is_reference_entry(sentence: str) -> bool:
    """Looks like a bibliography entry (author. 《title》 (kind), year; [J]; et al.; doi; vol./pp.)."""
    return bool(_BIB.search(sentence))


def is_title_like(sentence: str) -> bool:
    """A title or caption rather than a statement: no end punctuation and no clause punctuation."""
    return not is_terminated(sentence) and not _CLAUSE.search(sentence)


def row_sentences(text: str, language: str) -> list[str]:
    """Each data row of a pipe table as '<first cell>：<header> <cell>，…。' (only the table's own words and
    numbers); header-only or very wide tables give none."""
    rows = [r.strip() for r in text.splitlines() if _TABLE_ROW.match(r)]
    cells = [[c.strip() for c in r.strip("|").split("|")] for r in rows]
    cells = [c for c in cells if not all(set(x) <= set("-: ") for x in c)]
    if len(cells) < 2 or not 2 <= len(cells[0]) <= 8:
        return []
    header = cells[0]
    out: list[str] = []
    zh = language == "zh"
    for row in cells[1:]:
        if len(row) != len(header) or not row[0] or not any(row[1:]):
            continue
        parts = [f"{h} {v}".strip() if h else v for h, v in zip(header[1:], row[1:], strict=True) if v]
        body = ("，" if zh else ", ").join(parts)
        out.append(f"{row[0]}：{body}。" if zh else f"{row[0]}: {body}.")
    return out
