"""Parse a free-text report request (Chinese or English) into :class:`Requirements`.

Everything the checks later measure comes from here: the length range and its counting unit, the required
sections in order, the output format, the language, "no bullet points", the writer's role and the title.
The parser is deliberately explicit (regular expressions over a lightly normalised copy of the request) so
that every parsed value can be traced back to the words that produced it.
"""

from __future__ import annotations

import re
import unicodedata

from sourcebook.report.types import CheckResult, Requirements

__all__ = ["parse_request", "reference_section_title", "section_key", "normalize_title", "cn_number"]

# --------------------------------------------------------------------------------------------- normalising

_FULLWIDTH_DIGITS = {ord(c): ord("0") + i for i, c in enumerate("０１２３４５６７８９")}
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}


def cn_number(s: str) -> int | None:
    """Value of a Chinese numeral such as ``三千``, ``一万五千``, ``十二``, ``两百``; None if not one."""
    if not s or any(c not in _CN_DIGITS and c not in _CN_UNITS for c in s):
        return None
    total, section, digit = 0, 0, None
    for c in s:
        if c in _CN_DIGITS:
            digit = _CN_DIGITS[c]
            continue
        unit = _CN_UNITS[c]
        if unit == 10000:
            section = (section + (digit or 0)) * unit
            total += section
            section = 0
        else:
            section += (digit if digit is not None else 1) * unit
        digit = None
    return total + section + (digit or 0)


def _normalise(text: str) -> str:
    """Copy of the request with ASCII digits, no thousands separators and quantities like 3千 / 三千 / 1.5万 /
    2k spelled as plain integers. Punctuation is kept (full-width and ASCII are both matched below)."""
    t = text.translate(_FULLWIDTH_DIGITS)
    t = re.sub(r"(?<=\d)[,，](?=\d{3}(?!\d))", "", t)

    def mult(m: re.Match[str]) -> str:
        value = float(m.group(1)) * {"千": 1000, "万": 10000, "k": 1000, "K": 1000}[m.group(2)]
        return str(int(round(value)))

    t = re.sub(r"(\d+(?:\.\d+)?)\s*([千万])", mult, t)
    t = re.sub(r"(\d+(?:\.\d+)?)\s*([kK])(?=\s*(?:字|词|words?\b|characters?\b|chars?\b))", mult, t)

    def cn(m: re.Match[str]) -> str:
        value = cn_number(m.group(0))
        return str(value) if value else m.group(0)

    # Chinese numerals that are clearly quantities: start with a digit word and contain 百/千/万,
    # or are directly followed by 字.
    t = re.sub(r"[一二两三四五六七八九][一二两三四五六七八九十百千万零]*[百千万][一二两三四五六七八九十百千万零]*", cn, t)
    t = re.sub(r"[一二两三四五六七八九十百千万]+(?=\s*(?:个)?字)", cn, t)
    return t


# --------------------------------------------------------------------------------------------- length

_N = r"(\d+(?:\.\d+)?)"
_CH_UNIT = r"(?:个)?(?:汉字|中文字|字符|字)"
_EN_UNIT = r"(?:words?|characters?|chars?|汉字|字符|字)"
_UNIT = rf"(?P<unit>{_CH_UNIT}|words?\b|characters?\b|chars?\b)"
_SEP = r"\s*(?:至|到|~|～|〜|-|–|—|－|to|and)\s*"


def _unit_of(word: str | None, default: str) -> str:
    if not word:
        return default
    return "words" if word.lower().startswith("word") else "chars"


_RANGE_PATTERNS = [
    # 2000至3000字 / 1200–1500 字 / 1500–2000 words / 2000–3000-character / between 1500 and 2000 words
    re.compile(rf"{_N}\s*(?:{_CH_UNIT}|words?)?{_SEP}{_N}\s*-?\s*{_UNIT}", re.I),
    # 字数在1500至2000之间 / 字数控制在 1200-1500 之间 / word count between 1500 and 2000
    re.compile(rf"(?P<ctx>字数|篇幅|长度|word\s*count|length)[^。；;\n\d]{{0,14}}?{_N}\s*(?:{_CH_UNIT}|words?)?"
               rf"{_SEP}{_N}(?!\s*年)", re.I),
]
_MIN_PATTERNS = [
    re.compile(rf"(?:不少于|不低于|不得少于|不应少于|不能少于|不可少于|至少|最少|最低|(?<!不)多于|(?<!不)超过|(?<!不)大于)"
               rf"\s*{_N}\s*{_UNIT}", re.I),
    re.compile(rf"{_N}\s*{_UNIT}\s*(?:以上|及以上|或以上|起)", re.I),
    re.compile(rf"(?:at\s+least|no\s+less\s+than|not\s+less\s+than|no\s+fewer\s+than|not\s+fewer\s+than|"
               rf"(?:a\s+)?minimum\s+of|(?<!no\s)(?<!not\s)more\s+than|(?<!not\s)over|upwards\s+of)\s*{_N}\s*{_UNIT}", re.I),
    re.compile(rf"{_N}\s*{_UNIT}\s*(?:or\s+more|minimum|at\s+(?:the\s+)?least)", re.I),
]
_MAX_PATTERNS = [
    re.compile(rf"(?:不超过|不多于|不高于|不得超过|不应超过|不能超过|不要超过|最多|至多|最高|(?<!不)少于|(?<!不)低于)"
               rf"\s*{_N}\s*{_UNIT}", re.I),
    re.compile(rf"{_N}\s*{_UNIT}\s*(?:以内|以下|之内|内)", re.I),
    re.compile(rf"(?:no\s+more\s+than|not\s+more\s+than|at\s+most|up\s+to|(?:a\s+)?maximum\s+of|under|"
               rf"(?<!no\s)(?<!not\s)fewer\s+than|(?<!no\s)(?<!not\s)less\s+than|not\s+(?:to\s+)?exceed(?:ing)?|within|below)\s*{_N}\s*{_UNIT}", re.I),
    re.compile(rf"{_N}\s*{_UNIT}\s*(?:or\s+less|or\s+fewer|max(?:imum)?)", re.I),
]
_APPROX_PATTERNS = [
    re.compile(rf"(?:大约|大概|约为|约|approximately|approx\.?|about|around|roughly|circa|some|~)\s*{_N}\s*{_UNIT}",
               re.I),
    re.compile(rf"{_N}\s*{_UNIT}?\s*(?:左右|上下)", re.I),
]
# last resort: a bare "写一篇800字的…" / "a 1000-word essay" / "write 1000 words" is read as a target ±10 %
_BARE_PATTERNS = [
    re.compile(rf"{_N}\s*-\s*(?P<unit>words?|characters?)\b", re.I),
    re.compile(rf"{_N}\s*{_UNIT}", re.I),
]


# a report this long is not a report: a length beyond it is a problem of the request, not a target
MAX_LENGTH_UNITS = 200_000


def _blank(text: str, span: tuple[int, int]) -> str:
    return text[: span[0]] + " " * (span[1] - span[0]) + text[span[1]:]


def _parse_length(t: str, default_unit: str) -> tuple[int | None, int | None, str | None, bool, str]:
    """(min, max, unit, approximate, problem) from the normalised request. A contradictory or impossible
    length is not reinterpreted: no bounds are returned and ``problem`` says what is wrong."""
    lo, hi, unit, approx = _length_bounds(t, default_unit)
    shown = "字" if unit == "chars" else " words"
    if lo is not None and hi is not None and lo > hi:
        return None, None, unit, False, f"length: minimum {lo}{shown} is above maximum {hi}{shown} (contradictory)"
    biggest = max(x for x in (lo, hi, 0) if x is not None)
    if biggest > MAX_LENGTH_UNITS:
        n = hi if approx else biggest
        return None, None, unit, False, (f"length: {round(n / 1.1) if approx else n:,}{shown} is beyond any "
                                         f"report (at most {MAX_LENGTH_UNITS:,})")
    if hi is not None and hi <= 0:
        return None, None, unit, False, "length: a report of at most 0 units is impossible"
    return lo, hi, unit, approx, ""


def _length_bounds(t: str, default_unit: str) -> tuple[int | None, int | None, str | None, bool]:
    """(min, max, unit, approximate) as the request states them (``min > max`` when it contradicts itself)."""
    lo = hi = None
    unit: str | None = None
    for pat in _RANGE_PATTERNS:
        m = pat.search(t)
        if not m:
            continue
        first = 2 if "ctx" in pat.groupindex else 1
        a, b = int(float(m.group(first))), int(float(m.group(first + 1)))
        word = m.groupdict().get("unit")
        ctx = (m.groupdict().get("ctx") or "").lower()
        if word:
            unit = _unit_of(word, default_unit)
        elif ctx:
            unit = "chars" if ctx in ("字数", "篇幅") else ("words" if "word" in ctx else default_unit)
        if max(a, b) < 50 and not word:  # "1-2 段" etc. are not lengths; "10到20字" is one
            continue
        return a, b, unit, False
    for pat in _MIN_PATTERNS:
        m = pat.search(t)
        if m:
            lo = int(float(m.group(1)))
            unit = _unit_of(m.group("unit"), default_unit)
            t = _blank(t, m.span())
            break
    for pat in _MAX_PATTERNS:
        m = pat.search(t)
        if m:
            hi = int(float(m.group(1)))
            unit = unit or _unit_of(m.group("unit"), default_unit)
            break
    if lo is not None or hi is not None:
        return lo, hi, unit, False
    for pat in (*_APPROX_PATTERNS, *_BARE_PATTERNS):
        m = pat.search(t)
        if m:
            n = int(float(m.group(1)))
            if n < 50:
                continue
            word = m.groupdict().get("unit")
            return round(n * 0.9), round(n * 1.1), _unit_of(word, default_unit), True
    return None, None, None, False


# --------------------------------------------------------------------------------------------- sections

_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_BEFORE = r"(?:^|(?<=[\s：:；;，,。.、]))"
_MARKERS = {
    "paren": re.compile(r"[（(]\s*(\d{1,2})\s*[）)]"),
    "cn_paren": re.compile(r"[（(]\s*([一二三四五六七八九十]{1,3})\s*[）)]"),
    "dot": re.compile(_BEFORE + r"(\d{1,2})\s*[.、．)）](?!\d)"),
    "cn": re.compile(_BEFORE + r"([一二三四五六七八九十]{1,3})\s*、"),
    "circled": re.compile(f"([{_CIRCLED}])"),
}
_TOP_TERMINATORS = "。；;\n，,"
_OPEN, _CLOSE = "（(《“\"'‘[【", "）)》”\"'’]】"


def _marker_value(kind: str, s: str) -> int:
    if kind == "circled":
        return _CIRCLED.index(s) + 1
    if kind in ("cn", "cn_paren"):
        return cn_number(s) or 0
    return int(s)


def _cut_top_level(s: str, terminators: str) -> str:
    """Cut ``s`` at the first terminator that is not inside brackets/quotes."""
    depth = 0
    for i, c in enumerate(s):
        if c in _OPEN and not (c in "\"'" and depth):
            depth += 1
        elif c in _CLOSE and depth:
            depth -= 1
        elif depth == 0 and (c in terminators or (c == "." and (i + 1 == len(s) or s[i + 1].isspace()))):
            return s[:i]
    return s


def _clean_item(s: str) -> str:
    s = s.strip().strip("；;，,、。.:：").strip()
    s = re.sub(r"^(?:和|及|以及|与|and)\s*", "", s)
    s = re.sub(r"\s*(?:等(?:几个|若干)?(?:部分|章节|板块|内容|方面)?|(?:几个)?(?:部分|章节))$", "", s)
    s = re.sub(r"\s*(?:and|or)$", "", s)
    return s.strip().strip("；;，,、。.:：").strip()


def _numbered_sections(t: str) -> list[str]:
    best: list[tuple[int, int]] = []  # (start, end) of each marker of the best run
    best_first = len(t) + 1
    for kind, pat in _MARKERS.items():
        found = [(m.start(), m.end(), _marker_value(kind, m.group(1))) for m in pat.finditer(t)]
        # longest run 1, 2, 3, ... of consecutive numbers, in text order
        i = 0
        while i < len(found):
            if found[i][2] != 1:
                i += 1
                continue
            run = [found[i]]
            j = i + 1
            while j < len(found):
                if found[j][2] == run[-1][2] + 1:
                    run.append(found[j])
                elif found[j][2] == 1:
                    break
                j += 1
            if len(run) >= 2 and (len(run) > len(best) or (len(run) == len(best) and run[0][0] < best_first)):
                best = [(s, e) for s, e, _ in run]
                best_first = run[0][0]
            i = j if j > i + 1 else i + 1
    items = []
    for k, (_s, e) in enumerate(best):
        end = best[k + 1][0] if k + 1 < len(best) else len(t)
        chunk = t[e:end]
        chunk = _cut_top_level(chunk, _TOP_TERMINATORS if k + 1 == len(best) else "。\n")
        item = _clean_item(chunk)
        if item:
            items.append(item)
    return items if len(items) >= 2 else []


_ZH_LIST = re.compile(
    r"(?:包含|包括|涵盖|分为|由)(?:以下|如下)?(?:几个|若干|[一二三四五六七八九十\d]+个)?(?:章节|部分|板块|内容|方面)?"
    r"\s*(?P<colon>[：:])?\s*(?P<list>[^。；;\n]+?)"
    r"(?P<end>等?(?:几个|若干)?(?:部分|章节|板块|方面)|(?=[。；;\n]|$))")
_EN_LIST = re.compile(
    r"(?:(?:with|include|includes|including|contain|containing|cover|covering|has|have)\s+(?:the\s+)?"
    r"(?:following\s+)?(?:sections?|parts?|headings?)(?:\s+on)?|(?:sections?|headings?|structure)\s*"
    r"(?:should|must|will)?\s*(?:include|be|cover|contain)?)\s*[:：]\s*(?P<list>.+?)(?=\.(?:\s|$)|\n|$)"
    r"|(?:with|include|including)\s+sections?\s+(?:on|for)\s+(?P<list2>.+?)(?=\.(?:\s|$)|[;\n]|$)",
    re.I)


def _list_sections(t: str) -> list[str]:
    for m in _ZH_LIST.finditer(t):
        if not (m.group("colon") or (m.group("end") or "").strip()):
            continue
        parts = [p for p in re.split(r"[、，,]", m.group("list")) if p.strip()]
        if len(parts) < 2:
            continue
        last = re.split(r"(?:以及|和|及)", parts[-1])
        parts = parts[:-1] + last
        items = [_clean_item(p) for p in parts]
        items = [i for i in items if i]
        if len(items) >= 2:
            return items
    for m in _EN_LIST.finditer(t):
        raw = m.group("list") or m.group("list2") or ""
        parts = re.split(r"\s*(?:,|;|\band\b|&)\s*", raw)
        items = [_clean_item(re.sub(r"^(?:an?|the)\s+", "", p.strip(), flags=re.I)) for p in parts]
        items = [i for i in items if i]
        if len(items) >= 2:
            return items
    return []


# --------------------------------------------------------------------------------------------- titles

_NUM_PREFIX = re.compile(
    r"^\s*(?:[（(]\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*[）)]|[" + _CIRCLED + r"]|"
    r"(?:第\s*[\d一二三四五六七八九十]+\s*[章节部分篇]\s*)|"
    r"(?:part|section|chapter)\s+[\dIVXivx]+[.:：]?|"
    r"\d{1,2}(?:\.\d{1,2})*\s*[.、．)）]?(?=\s|[^\d\s])|[一二三四五六七八九十]{1,3}\s*[、.．]|[IVX]{1,4}\.)\s*",
    re.I)


def normalize_title(title: str) -> str:
    """Comparable form of a heading: NFKC, lower case, numbering like ``（1）``/``1.``/``一、`` removed,
    markdown emphasis, punctuation and whitespace removed."""
    t = unicodedata.normalize("NFKC", title).strip().strip("#*_ ").strip()
    t = _NUM_PREFIX.sub("", t, count=1)
    t = t.lower()
    return "".join(c for c in t if c.isalnum())


def section_key(title: str) -> str:
    """The short name of a required section: its normalised title without a trailing explanation
    (``引言：确立鉴赏的核心视角`` → ``引言``; ``研究方法（含材料来源说明）`` → ``研究方法``)."""
    t = unicodedata.normalize("NFKC", title).strip()
    t = _NUM_PREFIX.sub("", t, count=1)
    t = re.split(r"[:：]|\s[-–—]\s", t, maxsplit=1)[0]
    t = re.sub(r"\([^)]*\)$", "", t.strip())
    key = normalize_title(t)
    return key or normalize_title(title)


_REF_KEYS = ("参考资料", "参考文献", "参考来源", "资料来源", "引用来源", "信息来源", "数据来源", "引用文献", "references",
             "reference", "bibliography", "sources", "workscited", "citations")


def is_reference_title(title: str) -> bool:
    """True when a heading names a references / bibliography section."""
    key = section_key(title)
    return bool(key) and any(key == k or (key.startswith(k) and len(key) <= len(k) + 4) for k in _REF_KEYS)


def reference_section_title(req: Requirements) -> str | None:
    """The request's own title for the references section (e.g. ``参考资料``), when it requires one."""
    for s in req.sections:
        if is_reference_title(s):
            return s
    return None


# --------------------------------------------------------------------------------------------- the rest

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+(?:['’\-][A-Za-z]+)*")

_HTML_OUT = re.compile(
    r"(?:以|用|返回|输出|生成|采用|使用|写成|做成|导出|提供|格式[为是：:]?)\s*(?:一份|一个)?\s*html"
    r"|html\s*(?:格式|形式|网页|页面|版本|代码|文档)"
    r"|\b(?:as|in|into)\s+(?:an?\s+)?(?:single\s+|self-contained\s+|standalone\s+)?html\b"
    r"|\bhtml\s+(?:format|page|document|report|output)\b"
    r"|\b(?:output|return|render|format)\s*(?:it\s+)?(?:as|in|:)?\s*html\b",
    re.I)
_NO_HTML = re.compile(r"(?:不要|不用|无需|不需要|不必)\s*(?:以|用|返回|输出)?\s*html|\bnot?\s+(?:in\s+)?html\b", re.I)
_DOCX_OUT = re.compile(r"(?:以|用|返回|输出|生成|写成|导出|提供)\s*(?:一份|一个)?\s*(?:word|docx)(?:\s*(?:格式|文档|文件))?"
                       r"|\b(?:as|in)\s+(?:an?\s+)?(?:word|docx)\s*(?:document|file|format)?\b", re.I)
_NO_BULLETS = re.compile(
    r"不要?(?:使用|用|采用)?(?:分点|列表|项目符号|条目|要点式|清单)|不分点|不要分条|避免(?:使用)?(?:分点|列表|项目符号)|"
    r"禁止(?:使用)?(?:分点|列表)|不得(?:使用)?(?:分点|列表)|不以(?:分点|列表)"
    r"|\bno\s+(?:bullet(?:ed)?(?:\s+points?|\s+lists?)?|bullets|lists?|numbered\s+lists?)\b"
    r"|\b(?:without|avoid(?:ing)?|don'?t\s+use|do\s+not\s+use|never\s+use)\s+(?:any\s+)?(?:bullet|list)",
    re.I)
_NO_CITES = re.compile(r"(?:不需要|无需|不用|不必|不要)(?:注明|标注|列出|给出)?(?:引用|来源|出处|参考)|\bno\s+citations?\b|"
                       r"\b(?:without|don'?t\s+(?:need|include)|no\s+need\s+for)\s+(?:any\s+)?(?:citations?|references|sources)\b",
                       re.I)
_ROLE_PATTERNS = [
    re.compile(r"(?:假设|假如|设想|想象)你(?:现在)?是\s*(?:一名|一位|一个|一家|名|位)?\s*(?P<role>[^，,。；;\n]{2,60})"),
    re.compile(r"(?:请你?|你)(?:扮演|作为|担任)\s*(?:一名|一位|一个|名|位)?\s*(?P<role>[^，,。；;\n]{2,60})"),
    re.compile(r"你(?:现在)?是\s*(?:一名|一位|一个)\s*(?P<role>[^，,。；;\n]{2,60})"),
    re.compile(r"(?:^|[.!?]\s+)(?:you\s+are|you're|act\s+as|acting\s+as|imagine\s+you\s+are|assume\s+you\s+are|"
               r"as)\s+(?:an?|the)\s+(?P<role>[^,.;\n]{2,80})", re.I),
]
_TITLE_ZH = re.compile(r"《([^》\n]{1,80})》")
_TITLE_EN = re.compile(r"\b(?:titled|entitled|called|named|title[:：])\s*[:：]?\s*[\"“'‘]([^\"”'’\n]{1,120})[\"”'’]",
                       re.I)
_LANG_EN = re.compile(r"用英文|英文撰写|英语撰写|以英文|使用英文|用英语|英文报告|\bin\s+english\b", re.I)
_LANG_ZH = re.compile(r"用中文|中文撰写|以中文|使用中文|\bin\s+(?:chinese|mandarin)\b", re.I)


def _language(text: str) -> str:
    if _LANG_EN.search(text):
        return "en"
    if _LANG_ZH.search(text):
        return "zh"
    han = len(_HAN.findall(text))
    words = len(_LATIN_WORD.findall(text))
    return "zh" if han >= words else "en"


def _title(text: str) -> str | None:
    titles = list(_TITLE_ZH.finditer(text))
    if titles:
        for m in titles:
            if re.search(r"(?:撰写|写|形成|题为|名为|标题|题目|拟定|完成)[^。；\n]{0,8}$", text[max(0, m.start() - 12): m.start()]):
                return m.group(1).strip()
        return titles[0].group(1).strip()
    m = _TITLE_EN.search(text)
    return m.group(1).strip() if m else None


def _role(text: str) -> str | None:
    for pat in _ROLE_PATTERNS:
        m = pat.search(text)
        if m:
            role = m.group("role").strip()
            role = re.sub(r"^(?:an?|the)\s+", "", role, flags=re.I)
            return role or None
    return None


def parse_request(text: str) -> Requirements:
    """Parse a report request into :class:`Requirements`.

    Understands length ranges and bounds (``2000至3000字``, ``字数在1500至2000之间``, ``不少于800字``, ``约1000字``
    → ±10 %, ``3千字``, full-width digits, "1500–2000 words", "at least 800 words", "about 1000 words"),
    required sections in order (``（1）引言；（2）…``, ``1. … 2. …``, ``包含引言、方法…等部分``, "sections: A, B"),
    output format (Markdown unless HTML is asked for), language, "no bullet points", role and ``《title》``.
    """
    raw = text or ""
    t = _normalise(raw)
    language = _language(raw)
    default_unit = "chars" if language == "zh" else "words"
    lo, hi, unit, approx, problem = _parse_length(t, default_unit)

    sections = _numbered_sections(t) or _list_sections(t)

    fmt = "markdown"
    if _HTML_OUT.search(raw) and not _NO_HTML.search(raw):
        fmt = "html"
    elif _DOCX_OUT.search(raw):
        fmt = "docx"

    return Requirements(
        raw=raw,
        min_units=lo,
        max_units=hi,
        unit=unit or default_unit,
        approximate=approx,
        sections=sections,
        format=fmt,
        language=language,
        no_bullets=bool(_NO_BULLETS.search(raw)),
        title=_title(raw),
        role=_role(raw),
        cite_sources=not _NO_CITES.search(raw),
        problems=[problem] if problem else [],
    )


def check_request(req: Requirements) -> list[CheckResult]:
    """A FAIL row naming each contradiction or impossible ask of the request (none when it is satisfiable)."""
    return [CheckResult("request", False, problem.split(":", 1)[0], "a satisfiable request",
                        f"request problem: {problem}") for problem in req.problems]
