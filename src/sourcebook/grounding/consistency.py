"""Consistency checks of a claim against the span of the passage it is aligned to.

Each check returns ``None`` when it finds nothing wrong, else a one-line reason:

* numbers — every number in the claim, with its unit, is stated in the passage for the same quantity: an
  altered value, a value with another unit, or two values swapped between their labels is a contradiction;
  a number the passage never states is unsupported unless it is the difference or sum of two stated ones;
* direction — rise/fall words (提高/降低, increase/decrease, more/less …) agree with the span;
* negation — a negation (不/没/未/无/非/否, not/no/never …) present on one side only;
* entities — names, places, organisations, years and model names of the claim occur in the passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sourcebook.grounding.align import Alignment
from sourcebook.grounding.tokens import CJK_CHAR

# ---------------------------------------------------------------------------------------------- numbers
_UNITS = (r"个小时|个百分点|百分点|%|％|‰|万亿元|亿元|万元|千元|元|美元|万亿|亿|万|千|百|年|个月|月|日|天|小时|分钟|秒|"
          r"公里|千米|km|米|m|厘米|cm|毫米|mm|公斤|千克|kg|克|g|吨|t|千瓦时|kwh|千瓦|kw|兆瓦|mw|吉瓦|gw|瓦|w|"
          r"mmhg|db|gb|mb|tb|ms|hz|ghz|倍|人次|人|名|位|家|个|项|篇|条|次|台|辆|套|座|所|户|件|张|页|bleu|分|points?|percent|"
          r"million|billion|thousand|years?|months?|days?|hours?|minutes?|seconds?|people|times|x")
NUMBER = re.compile(r"(?<![\d.@A-Za-z_\-])(\d+(?:[,，]\d{3})*(?:\.\d+)?)\s*(" + _UNITS + r")?(?![A-Za-z])", re.I)
_UNIT_GROUP = {"％": "%", "个百分点": "pp", "百分点": "pp", "percent": "%", "千米": "km", "公里": "km", "千克": "kg",
               "公斤": "kg", "point": "pp", "points": "pp", "year": "年", "years": "年", "month": "月", "months": "月",
               "个月": "月", "个小时": "小时", "days": "天", "day": "天", "日": "天", "hours": "小时", "hour": "小时", "people": "人",
               "人次": "人"}
_LABEL_SKIP = re.compile(r"(?:约|大约|近|达到?|为|是|有|共|了|至|到|从|超过|增长|提高|下降|降低|减少|增加|"
                         r"about|around|nearly|over|of|to|from|by|was|is|were|are|reached|the|a|[\s，,：:（(])+$", re.I)


@dataclass
class Quantity:
    value: float
    unit: str
    start: int
    label: str   # the words right before the number (what it measures)


def _unit(u: str | None) -> str:
    if not u:
        return ""
    u = u.lower()
    return _UNIT_GROUP.get(u, u)


def quantities(text: str) -> list[Quantity]:
    """Numbers of ``text`` with their unit and the label in front of them."""
    out = []
    for m in NUMBER.finditer(text):
        raw = m.group(1).replace(",", "").replace("，", "")
        try:
            value = float(raw)
        except ValueError:
            continue
        before = text[max(0, m.start() - 14):m.start()]
        before = re.split(r"[。；;！!？?\d]", before)[-1]
        label = _LABEL_SKIP.sub("", before)
        out.append(Quantity(value, _unit(m.group(2)), m.start(), label[-6:] if CJK_CHAR.search(label) else
                            " ".join(label.split()[-3:]).lower()))
    return out


def _label_grams(label: str) -> set[str]:
    if CJK_CHAR.search(label):
        chars = [c for c in label if CJK_CHAR.match(c)]
        return {a + b for a, b in zip(chars, chars[1:], strict=False)}
    from sourcebook.grounding.tokens import STOP

    return {w for w in re.findall(r"[a-z]+", label.lower()) if len(w) > 2 and w not in STOP}


def _compatible(a: str, b: str) -> bool:
    return not a or not b or a == b or {a, b} <= {"%", "pp"}


def check_numbers(claim: str, passage: str, window: str) -> tuple[str, str] | None:
    """('contradicted' | 'unsupported', reason) for a number the passage does not back, else None."""
    cq = quantities(claim)
    if not cq:
        return None
    pq = quantities(passage)
    wq = quantities(window) or pq
    for q in cq:
        same = [p for p in pq if abs(p.value - q.value) < 1e-9]
        if not same:
            if q.unit == "pp" and _derived(q.value, [p for p in wq if p.unit == "%"]):
                continue
            if _is_year(q) and _PREVIOUS_YEAR.search(passage) and any(
                    _is_year(p) and p.value - q.value == 1 for p in pq):
                continue
            rivals = [p for p in wq if p.unit == q.unit and q.unit and
                      (_label_grams(p.label) & _label_grams(q.label) or not q.label)]
            if rivals:
                return "contradicted", f"number {_fmt(q)} differs from the passage's {_fmt(rivals[0])}"
            return "unsupported", f"number {_fmt(q)} is not stated in the passage"
        if q.unit and not any(_compatible(q.unit, p.unit) for p in same):
            return "contradicted", f"{_fmt(q)} in the claim, {_fmt(same[0])} in the passage"
        qg = _label_grams(q.label)
        if qg and not _is_year(q) and not any(_label_grams(p.label) & qg for p in same):
            other = [p for p in wq if len(_label_grams(p.label) & qg) >= (2 if CJK_CHAR.search(q.label) else 1)
                     and abs(p.value - q.value) > 1e-9 and not _is_year(p) and (p.unit or q.unit)]
            if other:
                return "contradicted", (f"{_fmt(q)} is attached to '{q.label}' in the claim; the passage gives "
                                        f"'{other[0].label}' as {_fmt(other[0])}")
    return _order_swap(cq, wq)


_PREVIOUS_YEAR = re.compile(r"previous year|last year|a year earlier|prior year|year[- ]on[- ]year|上年|去年|同比|上一年",
                            re.I)


def _is_year(q: Quantity) -> bool:
    return q.unit in ("", "年") and q.value == int(q.value) and 1900 <= q.value <= 2100


def _order_swap(cq: list[Quantity], wq: list[Quantity]) -> tuple[str, str] | None:
    """Two values of the same unit that the claim states in the opposite order of the passage ("from A to
    B" turned into "from B to A")."""
    for i, a in enumerate(cq):
        for b in cq[i + 1:]:
            if a.unit != b.unit or a.value == b.value or b.start - a.start > 40 or _is_year(a) or _is_year(b):
                continue
            pa = [p.start for p in wq if p.value == a.value and _compatible(p.unit, a.unit)]
            pb = [p.start for p in wq if p.value == b.value and _compatible(p.unit, b.unit)]
            if pa and pb and min(pa) > max(pb) and min(pa) - max(pb) < 40:
                return "contradicted", f"{_fmt(a)} and {_fmt(b)} appear in the opposite order in the passage"
    return None


def _derived(v: float, qs: list[Quantity]) -> bool:
    vals = [q.value for q in qs]
    for i, a in enumerate(vals):
        for b in vals[i + 1:]:
            for d in (abs(a - b), a + b):
                if d and abs(d - v) <= max(0.051, 0.005 * v):
                    return True
    return False


def _fmt(q: Quantity) -> str:
    v = int(q.value) if q.value == int(q.value) else q.value
    return f"{v}{q.unit}" if q.unit else str(v)


# -------------------------------------------------------------------------------------------- direction
_UP_ZH = ("提高", "增加", "上升", "增长", "扩大", "升高", "提升", "上涨", "增多", "加快", "加速", "改善", "高于", "多于",
          "更好", "更高", "更多", "更快", "攀升", "走高", "翻番", "增强", "变长", "延长", "领先")
_DOWN_ZH = ("降低", "减少", "下降", "缩短", "缩小", "降到", "降至", "下滑", "下跌", "减弱", "回落", "减缓", "放缓", "恶化",
            "低于", "少于", "更差", "更低", "更少", "更慢", "萎缩", "走低", "减半", "削弱", "落后")
_UP_EN = re.compile(r"\b(?:ris(?:e|es|ing)|rose|risen|increas(?:e|ed|es|ing)|gr(?:ow|ew|own|ows|owing)|growth|"
                    r"higher|more|improv(?:e|ed|es|ing)|gain(?:ed|s)?|expand(?:ed|s)?|better|faster|longer|"
                    r"up|boost(?:ed|s)?|doubl(?:e|ed|es)|outperform(?:s|ed)?|exceed(?:s|ed)?)\b", re.I)
_DOWN_EN = re.compile(r"\b(?:f(?:all|alls|ell|allen|alling)|decreas(?:e|ed|es|ing)|declin(?:e|ed|es|ing)|"
                      r"drop(?:ped|s)?|lower|less|fewer|reduc(?:e|ed|es|ing|tion)|shr(?:ink|ank|unk|inks)|worse|"
                      r"slower|shorter|down|cut|halv(?:e|ed)|underperform(?:s|ed)?|weaken(?:ed|s)?)\b", re.I)


_UP_CMP = re.compile(r"比[^，。,；]{1,14}?(?:高|多|好|快|强|大|长)|%\s*(?:over|above)\b|\b(?:tripled|quadrupled|above)\b",
                     re.I)
_DOWN_CMP = re.compile(r"比[^，。,；]{1,14}?(?:低|少|差|慢|弱|小|短)|%\s*(?:under|below)\b|\bbelow\b", re.I)


def directions(text: str) -> set[str]:
    """'up' and/or 'down' for the rise/fall words and comparatives in ``text``."""
    out = set()
    if any(w in text for w in _UP_ZH) or _UP_EN.search(text) or _UP_CMP.search(text):
        out.add("up")
    if any(w in text for w in _DOWN_ZH) or _DOWN_EN.search(text) or _DOWN_CMP.search(text):
        out.add("down")
    return out


def check_direction(claim: str, span: str, window: str = "") -> tuple[str, str] | None:
    """Contradicted when the span says the opposite; unsupported when the claim states a rise or fall and
    the passage window states none."""
    c, s = directions(claim), directions(span)
    word = "rise/increase" if "up" in c else "fall/decrease"
    if len(c) == 1 and s and not (c & s):
        return "contradicted", f"the claim says {word}; the passage says the opposite"
    if c and not s and window and not directions(window):
        return "unsupported", f"the claim says {word}; the passage states no change"
    return None


# --------------------------------------------------------------------------------------------- negation
_NEG_ZH = re.compile(r"[不没未无非否莫勿]")
_NOT_NEG_ZH = re.compile(r"不断|不同|不仅|不少|不但|不过|不久|不管|不论|不一|无论|无数|无人机|无线|无机|非常|除非|未来|"
                         r"是否|否则|不妨|能否|可否|与否|无疑|莫过于|并非只|非洲|非遗|不亚于|不良|不利|不足|无偿|无形|非法|非营利")
_NEG_EN = re.compile(r"\b(?:not|no|never|none|cannot|without|nor|neither|nobody|nothing|lacks?|lacked|fails?|failed)\b"
                     r"|n't\b", re.I)


def negations(text: str) -> int:
    """How many negation markers ``text`` carries."""
    return len(_NEG_ZH.findall(_NOT_NEG_ZH.sub("", text))) + len(_NEG_EN.findall(text))


def check_negation(claim: str, span: str) -> str | None:
    c, s = negations(claim), negations(span)
    if c != s:
        return "the claim negates what the passage states" if c > s else "the passage negates what the claim states"
    return None


# --------------------------------------------------------------------------------------------- entities
_LATIN_ENTITY = re.compile(r"\b(?:[A-Z][a-z]+(?:[A-Z][a-z]+)*|[A-Z]{2,}[A-Za-z0-9\-]*|[A-Za-z]+-?\d+[A-Za-z0-9.\-]*)\b")
_ZH_ADMIN = re.compile(r"[该本全我][省市县区国州镇村]|[\u4e00-\u9fff]{2,6}(?:公司|集团|大学|学院|研究院|研究所|银行|医院|委员会)")
_YEAR = re.compile(r"(?:19|20)\d{2}(?=年|\b)")
_COMMON_CAPS = frozenset("The This These Those It Its In A An Such They There For On As At When While With "
                         "However Moreover Further Furthermore Also And But Our We Each All Both After Before By "
                         "From Of To Over Under Between Since Than Most Many Some One Two Three Compared".split())


_NOT_NAME = re.compile(r"[不没未无会到的了是在将从对把被和与及]")


def entities(text: str) -> list[str]:
    """Names, places, organisations, years and model names in ``text`` (a heuristic, tuned on the
    labelled set)."""
    first = re.match(r"\s*[\"“(]?([A-Za-z]+)\b", text)
    out = [m.group(0) for m in _LATIN_ENTITY.finditer(text) if m.group(0) not in _COMMON_CAPS
           and not (first and m.start() == first.start(1) and m.group(0).isalpha())]
    out += [m.group(0) for m in _ZH_ADMIN.finditer(text) if not _NOT_NAME.search(m.group(0)[1:])]
    out += _YEAR.findall(text)
    if CJK_CHAR.search(text):
        out += _zh_names(text)
    return list(dict.fromkeys(out))


def _zh_names(text: str) -> list[str]:
    import jieba
    import jieba.posseg as pseg

    jieba.setLogLevel(60)
    return [w.word for w in pseg.cut(text) if w.flag in ("nr", "ns", "nt", "nrt") and len(w.word) >= 2
            and not _NOT_NAME.search(w.word)]


def check_entities(claim: str, passage: str) -> str | None:
    low = passage.lower()
    for e in entities(claim):
        if e.lower() in low:
            continue
        org = re.match(r"([\u4e00-\u9fff]+?)(公司|集团|大学|学院|研究院|研究所|银行|医院|委员会)$", e)
        if org and any(e[i:].lower() in low for i in range(0, len(org.group(1)) - 1)):
            continue
        if re.fullmatch(r"[该本全我]([省市县区国州镇村])", e):
            return f"'{e}' does not match the passage"
        return f"'{e}' is not named in the passage"
    return None


def consistency(claim: str, passage: str, al: Alignment, context: str = "") -> tuple[str, str] | None:
    """The first failed check as (verdict, reason), else None. ``context`` (file name, title) counts as
    passage text for entities."""
    window = passage[al.window[0]:al.window[1]]
    span = _span_text(passage, al)
    num = check_numbers(claim, passage, window)
    if num:
        return num
    neg = check_negation(claim, span)
    if neg:
        return "contradicted", neg
    direction = check_direction(claim, span, window)
    if direction:
        return direction
    ent = check_entities(claim, f"{context}\n{passage}") or check_substitution(passage, al)
    if ent:
        return "contradicted", ent
    return None


SUBSTITUTION_COVERAGE = 0.75


def check_substitution(passage: str, al: Alignment) -> str | None:
    """A claim that follows the span closely (coverage ≥ ``SUBSTITUTION_COVERAGE``) except for one short
    stretch where it names something the passage never mentions, in place of what the passage says there
    ("该校体育馆…" for "该校图书馆…", "tunnel" for "bridge")."""
    if al.coverage < SUBSTITUTION_COVERAGE or not al.blocks:
        return None
    ct, pt = al.claim_tokens, al.passage_tokens
    blocks = sorted(al.blocks)
    low = passage.lower()
    prev_a, prev_b = 0, max(0, blocks[0][1] - 4)
    for a, b, size in blocks:
        if b < prev_b:
            prev_a, prev_b = max(prev_a, a + size), max(prev_b, b + size)
            continue
        gc = [t for t in ct[prev_a:a] if t.weight >= 1.0]
        gp = [t for t in pt[prev_b:b] if t.weight >= 1.0]
        if gc and gp and len(gc) <= 4 and len(gp) <= 4:
            joiner = "" if gc[0].cjk else " "
            said = joiner.join(t.text for t in gc)
            if said not in low and not _stem_in(gc, low) and (not gc[0].cjk or ((len(gc) >= 2 or len(gp) == 1) and _nounish(said)))\
                    and not _numeric(gc) \
                    and not directions(said):
                there = ("" if gp[0].cjk else " ").join(t.text for t in gp)
                return f"the claim says '{said}' where the passage says '{there}'"
        prev_a, prev_b = a + size, b + size
    return None


def _stem_in(tokens: list, low: str) -> bool:
    """Latin words that rephrase rather than name: verb/adverb forms, or stems the passage uses."""
    if tokens[0].cjk:
        return False
    if any(t.text.endswith(("ed", "ing", "ly")) for t in tokens):
        return True  # a verb or adverb rephrased, not a thing named differently
    stems = [re.sub(r"(?:ations?|es|s)$", "", t.text) for t in tokens]
    return all(len(s) >= 4 and s in low for s in stems)


def _nounish(text: str) -> bool:
    """Chinese text whose words are all nouns (a thing named, not a verb or adverb rephrased)."""
    import jieba.posseg as pseg

    words = [w for w in pseg.cut(text) if w.word.strip()]
    return bool(words) and all(w.flag.startswith("n") or w.flag == "vn" for w in words)


def _numeric(tokens: list) -> bool:
    return any(t.text[:1].isdigit() for t in tokens)


def _span_text(passage: str, al: Alignment) -> str:
    """The aligned span, widened by two tokens on either side within its clause (a negation or adverb just before the first match)
    and with long unmatched stretches of the passage (a clause the claim skipped) left out."""
    pt = al.passage_tokens
    if not al.blocks or not pt:
        return passage[al.span[0]:al.span[1]]
    parts = []
    first = al.blocks[0][1]
    lo_tok = max(0, first - 2)
    start = pt[lo_tok].start
    # stay inside the clause
    clause = max(passage.rfind(x, 0, pt[first].start) for x in "，,；;。.!?！？")
    start = max(start, clause + 1)
    prev_end_tok = first
    prev_char = start
    for _a, b, size in al.blocks:
        gap = b - prev_end_tok
        if gap >= 8:
            parts.append(passage[prev_char:pt[prev_end_tok - 1].end if prev_end_tok > 0 else prev_char])
            # a negation or adverb right before the resumed match belongs to it
            lead = max(prev_end_tok, b - 2)
            cut = max(passage.rfind(x, 0, pt[b].start) for x in "，,；;。.!?！？")
            prev_char = max(pt[lead].start, cut + 1)
        prev_end_tok = max(prev_end_tok, b + size)
    end = pt[prev_end_tok - 1].end
    tail = pt[min(len(pt) - 1, prev_end_tok + 1)].end  # a verb right after the last match ("连续三年增加")
    stops = [i for i in (passage.find(x, end) for x in "，,；;。.!?！？") if i >= 0]
    parts.append(passage[prev_char:max(end, min([tail, *stops]))])
    return " … ".join(p for p in parts if p)
