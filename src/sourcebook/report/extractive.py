"""The writer interface and the extractive writer (no LLM).

The extractive writer builds each section from evidence sentences: it cleans them (no table rows, URLs or
fragments), picks them with maximal marginal relevance (relevance to the section vs redundancy with what is
already chosen, over e5 sentence embeddings), never repeats a sentence anywhere in the report, fills the
section's length budget, orders the picks as they occur in the evidence and joins them into paragraphs with
connectors in the request's language. Every sentence cites its passage with ``[@id]``.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any, Protocol

from sourcebook.ingest.chunking import split_sentences
from sourcebook.report.checks import count_units
from sourcebook.report.evidence import EvidenceItem, SectionEvidence
from sourcebook.report.plan import request_keywords
from sourcebook.report.prose import (
    CJK,
    cut_heading,
    ends_mid_sentence,
    has_cjk,
    is_reference_entry,
    is_terminated,
    is_title_like,
    prose_lines,
    row_sentences,
    starts_mid_sentence,
    strip_labels,
)
from sourcebook.report.relevance import Intent, background_on_topic, relevance, section_intent, terms_of
from sourcebook.report.terms import cjk_bigrams, content_words
from sourcebook.report.types import Draft, DraftSection, Requirements

EXTRACTIVE_NOTE = {
    "zh": "（说明：本报告为抽取式草稿，正文句子均直接摘自所提供的资料并逐句标注来源，未经大模型改写。）",
    "en": "(Note: this is an extractive draft: every sentence is taken from the provided sources and cites "
          "its passage; no language model rewrote it.)",
}
CONNECTORS = {
    "zh": ["此外，", "同时，", "另外，", "进一步看，", "与此相关，", "从另一角度看，"],
    "en": ["In addition, ", "Moreover, ", "Relatedly, ", "Further, ", "At the same time, "],
}
MMR_LAMBDA = 0.7
FILE_E5 = 0.80
DUPLICATE_JACCARD = 0.6

_URL = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+")
_MD = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*•·●▪◆■]\s+|\d{1,2}[.)、](?!\d)\s*|[（(]\d+[)）]\s*|[一二三四五六七八九十]+、\s*)")
_PIPE_ROW = re.compile(r"\|.*\|")
_SPACES = re.compile(r"[ \t\u3000]+")
_WORD = re.compile(r"[A-Za-z]+")
_NOISE = re.compile(
    r"推荐[:：]|点击|扫码|关注我们|关注公众号|版权所有|免责声明|原文链接|阅读原文|责任编辑|上传人|上传时间|IP属地|积分[:：]|"
    r"文档描述|页数[:：]|欢迎.{0,12}(合作|咨询|联系)|虚构|目录|广告|转载|来源[:：]|编辑[:：]|作者[:：]|"
    r"小编|欢迎阅读|希望大家|[．.·…]{4,}|copyright|all rights reserved|subscribe|cookie", re.I)
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")
_HEADING_LINE = re.compile(r"^\s*#{1,6}\s")
_CODE = re.compile(r"(?:^|[\s，,：:（(])--?[a-z][\w-]+|\b(?:cd|pip|python|sudo|npm|git)\s+\S|\w+\(\)|\w+\.(?:py|sh|json|yaml)\b|[{}]\s*$")
_FOREIGN_CITE = re.compile(r"\[\^?\d{1,4}(?:\s*[,，、\-–]\s*\d{1,4})*\]|【\d{1,4}】")
_LEADING_CONNECTOR = re.compile(r"^(此外|同时|另外|而且|并且|但是|因此|所以|然而|其次|首先|最后|总之|moreover|however|therefore|also|in addition|furthermore)", re.I)
_FRAGMENT = re.compile(r"[：:]\s*$|[\[【][^\]】]{0,8}(?:数|名称|内容|标题|日期|XX|xx|某某)[\]】]|(?<!\d)0\d0\d0\d|"
                       r"【免费下载链接】|^(?:本文将|下面|以下是|如下)")
_LOWER_OK = {"The", "This", "These", "Those", "It", "Its", "In", "A", "An", "Such", "They", "There", "For", "On", "As", "At", "When", "While", "With"}


class Writer(Protocol):
    """What every writer offers: the body (with ``[@id]`` markers) of one section."""

    def write_section(self, section: DraftSection, evidence: SectionEvidence, req: Requirements, draft: Draft) -> str: ...


@dataclass
class Candidate:
    text: str          # cleaned sentence, no marker
    passage_id: str
    source: str
    rank: int          # evidence rank of its passage
    pos: int           # sentence position in the passage
    units: int
    coverage: bool = False
    fallback: bool = False  # a description of a passage without a quotable sentence (used only when needed)


def _terms(text: str) -> set[str]:
    return cjk_bigrams(text) | content_words(text)


def _jaccard(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def clean_sentence(s: str) -> str:
    """Strip markdown/list prefixes, URLs and extra spaces; '' when nothing readable is left."""
    if _PIPE_ROW.search(s) or s.count("|") >= 2 or s.count("\t") >= 2:
        return ""
    s = _URL.sub("", s)
    s = _MD_ESCAPE.sub(r"\1", s).replace("**", "").replace("__", "")
    s = _FOREIGN_CITE.sub("", s)  # the sources' own footnote numbers would read as our citations
    lines = [line for line in s.splitlines() if line.strip()]
    if len(lines) > 1:  # a heading line glued to the sentence below it is not part of the sentence
        lines = [line for line in lines if not _HEADING_LINE.match(line)]
    s = " ".join(_MD.sub("", strip_labels(line).replace("\n", " ")).strip() for line in lines)
    s = _SPACES.sub(" ", s).strip(" -—_*#>")
    # quotes at either end go only when unpaired ('“十五五”时期…' keeps its opening quote)
    while s and s[:1] in "\"'“”" and (s[:1] in "”'\"" and s.count(s[:1]) % 2 == 1 or s[:1] == "“" and "”" not in s[1:]):
        s = s[1:].lstrip()
    while s and s[-1:] in "\"'“”" and (s[-1:] in "“'\"" and s.count(s[-1:]) % 2 == 1 or s[-1:] == "”" and "“" not in s[:-1]):
        s = s[:-1].rstrip()
    return cut_heading(s)


def usable_sentence(s: str, language: str) -> bool:
    """Long enough to say something, short enough to read, and not boilerplate."""
    if not s or _NOISE.search(s) or _CODE.search(s) or is_reference_entry(s) or is_title_like(s):
        return False
    if s.rstrip()[-1:] in "？?":  # questions are not statements of the source
        return False
    if _FRAGMENT.search(s):  # a lead-in ending in a colon, a template placeholder, glued slide numbers
        return False
    symbols = sum(s.count(c) for c in "\\/=_{}<>$|~^`")
    if symbols > 0.03 * len(s) + 1:
        return False
    cjk = len(CJK.findall(s))
    words = len(_WORD.findall(s))
    if cjk:
        if cjk < 12 or cjk > 220:
            return False
    elif words < 6 or words > 70:
        return False
    # mostly digits/symbols (tables flattened into text)
    letters = cjk + sum(len(w) for w in _WORD.findall(s))
    return letters >= 0.6 * len(s.replace(" ", ""))


def _table_sentence(item: EvidenceItem, language: str) -> str:
    """A plain description for a passage that is a table: which columns it holds."""
    rows = [r for r in item.text.splitlines() if r.count("|") >= 2]
    if not rows:
        return ""
    cells = [c.strip() for c in rows[0].strip().strip("|").split("|") if c.strip() and not set(c.strip()) <= set("-: ")]
    cells = cells[:8]
    if not cells:
        return ""
    name = item.source.rsplit("/", 1)[-1]
    # the file name and its header cells, verbatim: nothing the passage does not state
    if language == "zh":
        return f"{name}：{'、'.join(cells)}。"
    return f"{name}: {', '.join(cells)}."


def _fallback_sentence(item: EvidenceItem, language: str) -> str:
    """For a passage without a readable sentence (tables, run-on text, lists): its header row for a table,
    else the first clean sentence, cut at a clause boundary when it runs on ('' when nothing is clean)."""
    t = _table_sentence(item, language)
    if t:
        return t
    text, _ = prose_lines(item.text)
    for raw in split_sentences(text):
        s = clean_sentence(raw)
        if not s or _NOISE.search(s) or _CODE.search(s) or is_reference_entry(s):
            continue
        cjk = has_cjk(s)
        limit = 120 if cjk else 260
        if len(s) > limit:
            cut = max(s.rfind(sep, 0, limit) for sep in ("，", "；", ", ", "; "))
            if cut < limit // 3:
                continue
            s = s[:cut]
        s = s.rstrip("，,；;：: ")
        if (cjk and len(CJK.findall(s)) < 8) or (not cjk and len(_WORD.findall(s)) < 4):
            continue
        return s + ("" if s[-1] in "。！？.!?" else ("。" if cjk else "."))
    # last resort (OCR text, captions, lists): the file name and the head of its text, verbatim
    text = clean_sentence(" ".join(text.split()))
    if len(CJK.findall(text)) + len(_WORD.findall(text)) < 2 or _NOISE.search(text):
        return ""
    words = text.split(" ")
    head = ""
    for w in words:
        if len(CJK.findall(head + w)) + len(_WORD.findall(head + w)) > 60:
            break
        head = f"{head} {w}" if head else w
    head = (head or text[:60]).rstrip("，,；;：: ")
    name = item.source.rsplit("/", 1)[-1]
    return f"{name}：{head}" + ("" if head[-1] in "。！？.!?" else ("。" if language == "zh" else "."))


def is_facts_passage(item: EvidenceItem) -> bool:
    """A data table's computed facts (one line per fact, in Chinese and in English)."""
    return item.label.rstrip("] ").endswith("(facts)")


def with_marker(sentence: str, pid: str) -> str:
    """Put ``[@pid]`` just before the sentence's end punctuation (or at its end)."""
    marker = f"[@{pid}]"
    s = sentence.rstrip()
    if s and s[-1] in "。！？!?.；;":
        return s[:-1] + marker + s[-1]
    return s + marker + ("。" if has_cjk(s) else ".")


class ExtractiveWriter:
    """Evidence sentences, chosen by MMR, ordered and joined into paragraphs."""

    def __init__(self, store: Any = None) -> None:
        self.store = store  # optional: neighbouring passages tell whether a passage starts mid-sentence
        self.used_texts: set[str] = set()
        self._sentences: dict[tuple[str, int, str], list[str]] = {}
        self.used_grams: list[set[str]] = []
        self._connector = 0
        self.chosen: dict[str, list[Candidate]] = {}
        self._intents: dict[tuple[str, str], Intent] = {}
        self._topic: list[str] | None = None
        self._kinds: dict[str, str] = {}
        self._req: Requirements | None = None
        self.relevant_sources: set[str] = set()  # files with at least one on-topic sentence
        self._file_rel: dict[str, bool] = {}

    # -- candidates
    def candidates(self, evidence: SectionEvidence, language: str, include_used: bool = False) -> list[Candidate]:
        """Clean, usable sentences of the evidence passages (a fallback description for a passage without
        one); sentences already used in the report are left out unless ``include_used``."""
        out: list[Candidate] = []
        for rank, item in enumerate(evidence.items):
            if is_facts_passage(item):   # computed facts are stated in the report's language by the pipeline
                continue
            readable = 0
            for pos, sent in enumerate(self.passage_sentences(item, language)):
                readable += 1
                if include_used or sent not in self.used_texts:
                    out.append(Candidate(sent, item.passage_id, item.source, rank, pos, count_units(sent),
                                         item.via == "coverage"))
            if not readable:  # a table or fragments only: describe it instead
                fb = _fallback_sentence(item, language)
                if fb and (include_used or fb not in self.used_texts):
                    out.append(Candidate(fb, item.passage_id, item.source, rank, 0, count_units(fb),
                                         item.via == "coverage", fallback=True))
        return out

    def passage_sentences(self, item: EvidenceItem, language: str) -> list[str]:
        """The quotable sentences of a passage, in order: text repaired (``prose.prose_lines``), a leading
        fragment (the passage starts inside a sentence) and a trailing one (cut off by the passage end)
        dropped, each sentence cleaned and filtered; table rows stated as short sentences."""
        key = (item.passage_id, len(item.text), language)
        if key in self._sentences:
            return self._sentences[key]
        text, cut = prose_lines(item.text)
        raws = split_sentences(text)
        if raws and not is_terminated(raws[-1]) and (cut or self._continues(item, after=True)):
            raws.pop()
        if raws and (starts_mid_sentence(text) or self._continues(item, after=False)):
            raws.pop(0)
        out = [s for s in (clean_sentence(r) for r in raws) if usable_sentence(s, language)]
        for row in row_sentences(item.text, language):
            if (len(CJK.findall(row)) >= 6 or len(_WORD.findall(row)) >= 4) and not _NOISE.search(row):
                out.append(row)
        self._sentences[key] = list(dict.fromkeys(out))
        return self._sentences[key]

    def _continues(self, item: EvidenceItem, after: bool) -> bool:
        """Whether the sentence at the passage's start (``after=False``: the previous passage of the same
        file ends mid-sentence) or end (``after=True``: this passage ends mid-sentence and a next passage
        follows) runs across the passage boundary."""
        if self.store is None:
            return False
        try:
            near = self.store.neighbours(item.passage_id, before=0 if after else 1, after=1 if after else 0)
        except Exception:  # noqa: BLE001 - a store without neighbours: judge the text alone
            return False
        me = next((p for p in near if p.id == item.passage_id), None)
        other = [p for p in near if p.id != item.passage_id and p.source == item.source
                 and (me is None or (p.ordinal > me.ordinal) == after)]
        if not other:
            return False
        if after:
            return ends_mid_sentence(prose_lines(item.text)[0])
        return ends_mid_sentence(prose_lines(other[-1].text)[0])

    # -- selection
    def select(self, section: DraftSection, evidence: SectionEvidence, req: Requirements, budget: int,
               exclude: set[str] | None = None) -> list[Candidate]:
        """MMR selection of candidates up to ``budget`` units; sources that only reached this section through
        coverage get their best sentence first. Relevance mixes the passage's retrieval rank with the
        sentence's term overlap with the section's query; redundancy is bigram/word Jaccard against every
        sentence already used in the report."""
        lang = req.language
        self._req = req
        if section.sources_missing:
            return []
        cands = [c for c in self.candidates(evidence, lang) if not exclude or c.text not in exclude]
        if not cands or budget <= 0:
            return []
        intent = self.intent(section, req)
        keep = [i for i, c in enumerate(cands) if self.on_topic(c, intent)]
        cands = [cands[i] for i in keep]
        if not cands:
            return []
        grams = [_terms(c.text) for c in cands]
        rel = []
        for c in cands:
            rank_score = 1.0 / (1.0 + c.rank / 3.0)
            lang_ok = 1.0 if has_cjk(c.text) == (lang == "zh") else 0.6
            primary = 1.0 if self.is_primary(c.source) else 0.0
            rel.append(lang_ok * (0.5 * relevance(c.text, intent) + 0.3 * rank_score + 0.2 * primary))
        picked: list[int] = []
        total = 0
        # a file that reached this section only through coverage gets its best on-topic sentence first
        forced_sources = {c.source for c in cands if c.coverage}
        for src in sorted(forced_sources):
            idx = [i for i, c in enumerate(cands) if c.source == src]
            best = max(idx, key=lambda i: (not cands[i].fallback, rel[i]))
            picked.append(best)
            total += cands[best].units
        chosen_grams = [grams[i] for i in picked] + self.used_grams
        has_quotes = any(not c.fallback for c in cands)
        while total < budget:
            best_i, best_v = -1, -1e9
            for i, c in enumerate(cands):
                if i in picked or (c.fallback and has_quotes):
                    continue
                red = max((_jaccard(grams[i], g) for g in chosen_grams), default=0.0)
                if red >= DUPLICATE_JACCARD:
                    continue
                over = total + c.units - budget
                if over > 0 and over > budget - total:  # would overshoot more than it fills
                    continue
                v = MMR_LAMBDA * rel[i] - (1 - MMR_LAMBDA) * red
                if v > best_v:
                    best_i, best_v = i, v
            if best_i < 0:
                break
            picked.append(best_i)
            chosen_grams.append(grams[best_i])
            total += cands[best_i].units
        for i in picked:
            self.used_grams.append(grams[i])
            self.used_texts.add(cands[i].text)
        return self.order([cands[i] for i in picked])

    def order(self, chosen: list[Candidate]) -> list[Candidate]:
        """Primary sources first, the sentences of one source together (sources by their best evidence
        rank), each source's sentences in evidence order."""
        first: dict[str, int] = {}
        for c in chosen:
            first[c.source] = min(first.get(c.source, c.rank), c.rank)
        return sorted(chosen, key=lambda c: (not self.is_primary(c.source), first[c.source], c.source, c.rank,
                                             c.pos))

    # -- relevance
    def intent(self, section: DraftSection, req: Requirements) -> Intent:
        """The section's intent (cached per section title)."""
        key = (section.title, section.intent)
        if key not in self._intents:
            if self._topic is None:
                self._topic = request_keywords(req, top_k=10)
            self._intents[key] = section_intent(f"{section.title}（{section.intent}）" if section.intent
                                                else section.title, self._topic)
        return self._intents[key]

    def is_primary(self, source: str) -> bool:
        """The user's own documents (papers, slides, data, media) as opposed to a background article corpus."""
        if source not in self._kinds:
            rec = self.store.source(source) if self.store is not None else None
            self._kinds[source] = getattr(rec, "kind", "") or ""
        return self._kinds[source] != "corpus"

    def file_relevant(self, source: str, intent: Intent) -> bool:
        """A file of the user's own is relevant when its text names a topic word of the request, or when
        one of its first passages is close to the request in e5 (cosine ≥ ``FILE_E5``; off-topic text
        measured 0.71–0.83, on-topic files 0.81–0.89, so e5 alone decides only for the user's own files)."""
        if source not in self._file_rel:
            passages = list(itertools.islice(self.store.passages(source), 40)) if self.store is not None else []
            topic = intent.topic - set(terms_of(intent.heading))
            ok = any(t in p.text.lower() for p in passages for t in topic)
            if not ok and passages and self._req is not None:
                from sourcebook.store.dense import embed_query, passage_vectors

                q = embed_query(self._req.title or " ".join(self._topic or []) or self._req.raw[:200])
                ok = float((passage_vectors(self.store, passages[:8]) @ q).max()) >= FILE_E5
            self._file_rel[source] = ok
        return self._file_rel[source]

    def on_topic(self, c: Candidate, intent: Intent) -> bool:
        """A sentence of a relevant file of the user's own, or a background-corpus sentence above the
        (stricter) floor; the file then counts as relevant to the request."""
        if self.is_primary(c.source):
            ok = self.file_relevant(c.source, intent)
        else:
            ok = background_on_topic(c.text, intent)
        if ok:
            self.relevant_sources.add(c.source)
        return ok

    def relevance(self, section: DraftSection, text: str) -> float:
        """Absolute relevance (0…1) of ``text`` to the section's intent (``report.relevance``)."""
        return relevance(text, self.intent(section, self._req)) if self._req is not None else 0.0

    # -- assembly
    def compose(self, chosen: list[Candidate], language: str, start_paragraph: int = 0, par_units: int = 220) -> str:
        """Join sentences into paragraphs (a new paragraph when the passage changes and the current one is
        long enough); paragraphs after the first open with a connector."""
        lang = "zh" if language == "zh" else "en"
        sep = "" if lang == "zh" else " "
        paragraphs: list[list[str]] = []
        cur: list[str] = []
        cur_units = 0
        last_pid = None
        for c in chosen:
            if cur and c.passage_id != last_pid and cur_units >= par_units:
                paragraphs.append(cur)
                cur, cur_units = [], 0
            text = c.text
            if not cur and (paragraphs or start_paragraph) and not _LEADING_CONNECTOR.match(text):
                conn = CONNECTORS[lang][self._connector % len(CONNECTORS[lang])]
                self._connector += 1
                if lang == "en":
                    first, _, rest = text.partition(" ")
                    text = (first.lower() if first in _LOWER_OK else first) + (" " + rest if rest else "")
                text = conn + text
            if cur and lang == "zh" and cur[-1][-1:] in ".!?" and not has_cjk(text[:1]):
                text = " " + text  # Latin sentences inside a Chinese paragraph keep a space between them
            cur.append(with_marker(text, c.passage_id))
            cur_units += c.units
            last_pid = c.passage_id
        if cur:
            paragraphs.append(cur)
        return "\n\n".join(sep.join(p) for p in paragraphs)

    def write_section(self, section: DraftSection, evidence: SectionEvidence, req: Requirements, draft: Draft) -> str:
        """Body of ``section`` filled to its budget from ``evidence``."""
        chosen = self.select(section, evidence, req, section.budget)
        self.chosen[section.title] = chosen
        return self.compose(chosen, req.language)

    def write_all(self, draft: Draft, evidence: list[SectionEvidence], req: Requirements) -> None:
        """Fill every content section of ``draft`` in two passes (half the budget each), so that sections
        sharing passages do not leave the later ones starved of sentences."""
        picks: dict[int, list[Candidate]] = {}
        for share in (0.5, 1.0):
            for i, (sec, ev) in enumerate(zip(draft.sections, evidence, strict=True)):
                if sec.is_references:
                    continue
                have = sum(c.units for c in picks.get(i, []))
                want = int(sec.budget * share) - have
                if want > 0 or (share == 0.5 and not picks.get(i)):
                    picks.setdefault(i, []).extend(self.select(sec, ev, req, max(want, 1)))
        for i, chosen in picks.items():
            chosen.sort(key=lambda c: (c.rank, c.pos))
            sec = draft.sections[i]
            self.chosen[sec.title] = chosen
            sec.body = self.compose(chosen, req.language)

    def more(self, section: DraftSection, evidence: SectionEvidence, req: Requirements, units: int,
             start_paragraph: int = 1) -> str:
        """Extra paragraph(s) of about ``units`` not used anywhere yet ('' when the evidence is exhausted)."""
        chosen = self.select(section, evidence, req, units)
        self.chosen.setdefault(section.title, []).extend(chosen)
        return self.compose(chosen, req.language, start_paragraph=start_paragraph)

