"""Absolute relevance of a sentence to a section's intent.

A section's intent is its name (the request's section title without the bracketed instruction), the
instruction text, and the report's topic (the request's keywords, with words that name the task rather
than its subject — 报告, 论文, 视频, report, paper … — left out). A sentence's relevance is the weight of
the distinct intent terms it contains (section name 1.0, instruction 0.8, topic 0.7), saturating at
``SATURATION`` → a value in [0, 1] that means the same in every section and every report. A sentence is
on topic when it reaches the floor (``FLOOR`` for the user's own files; the extractive writer asks more of
background-corpus sentences) *and* names at least one topic term (a section name like 引言 alone
says nothing about the subject). e5 similarity is not used here: measured on the anchor corpora it scores
page furniture ("内容提供方：… 大小：53 KB") as high as on-topic prose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sourcebook.report.prose import CJK

FLOOR = 0.25            # the user's own files: one topic word is enough
FLOOR_BACKGROUND = 0.7  # background-corpus sentences: the section's name or several intent words
SATURATION = 1.4
_BRACKET = re.compile(r"\s*[（(]([^）)]*)[）)]\s*")
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9\-]+")
GENERIC = frozenset(
    """报告 撰写 论文 视频 讲解 材料 资料 文章 文档 图片 图像 表格 数据 内容 部分 章节 要求 需要 提供 相关 进行 包括 以及 结合
    基于 根据 研究 分析 解读 介绍 说明 概述 概括 总结 结论 引言 前言 背景 方法 结果 讨论 建议 展望 基本 信息 核心 关键 主要 重要
    要点 补充 方面 问题 情况 现状 趋势 影响 因素 策略 对策 计划 评估 风险 提示 简要 详细 明细 板块 摘要 技术 知识 学习 课程 作业
    学生 初学者 分点 一名 一位 回答 返回 格式 控制 之间 清晰 准确 真实 可靠 正式 书面语 结构 字数 全文 来源 注明 标注 引用 公开 权威 可查 确保 以下 一份 一篇 假设 你是
    一名 正在 我们 他们 这个 这些 一个 可以 能够 应该 如何 什么 以及 并且 其中 所有 必要 时可 辅助 理解 适合 形成 整合 系统 梳理
    report paper papers video videos slides slide data document documents section sections write based provided
    analysis summary introduction conclusion background method methods results discussion overview key main
    important information content sources source include including should please words word about their this that
    with from into using used study titled attached pdf mp4 pptx ppt docx xlsx csv json png jpg html markdown""".split())


@dataclass
class Intent:
    """What a section is about."""

    heading: str                                   # the section name without its bracketed instruction
    instruction: str = ""                          # the bracketed / after-colon instruction text
    terms: dict[str, float] = field(default_factory=dict)
    topic: set[str] = field(default_factory=set)       # subject words and the section name's words
    subject: set[str] = field(default_factory=set)     # the report's subject words (from the request)


def split_heading(title: str) -> tuple[str, str]:
    """'核心数据摘要（需要在一页内概括…）' → ('核心数据摘要', '需要在一页内概括…')."""
    inner = " ".join(m.group(1) for m in _BRACKET.finditer(title))
    head = _BRACKET.sub("", title).strip() or title.strip()
    return head, inner.strip()


def terms_of(text: str) -> set[str]:
    """Content terms: jieba words (≥ 2 characters) for Chinese, words of ≥ 3 letters for Latin text."""
    out = {w.lower() for w in _LATIN.findall(text) if len(w) >= 3}
    if CJK.search(text):
        import jieba

        jieba.setLogLevel(60)
        out |= {w for w in jieba.cut(text) if len(w) >= 2 and CJK.search(w)}
    return {t for t in out if not is_generic(t)}


def is_generic(term: str) -> bool:
    """A word that names the task rather than its subject (also compounds of two such words: 内容摘要)."""
    t = term.lower()
    if t in GENERIC:
        return True
    return len(t) == 4 and bool(CJK.match(t)) and t[:2] in GENERIC and t[2:] in GENERIC


def section_intent(title: str, topic_words: list[str], extra: str = "") -> Intent:
    """The intent of a section titled ``title`` in a report about ``topic_words`` (``extra``: more words
    about the section, e.g. what the request says of it outside the title)."""
    head, instruction = split_heading(title)
    head_core = re.sub(r"^\s*(?:[（(]?\s*[0-9一二三四五六七八九十]+\s*[)）.、．])\s*", "", head)
    head_core = re.split(r"[:：]", head_core, maxsplit=1)
    name, after = head_core[0], (head_core[1] if len(head_core) > 1 else "")
    topic = {t.lower() for t in topic_words if not is_generic(t) and len(t) >= 2}
    terms: dict[str, float] = {}
    for t in list(topic):
        terms[t] = 0.7
        if len(t) >= 4 and CJK.match(t):  # 绿色交通 → 绿色, 交通 (half weight each)
            for half in (t[:2], t[2:4]):
                if not is_generic(half):
                    terms.setdefault(half, 0.35)
                    topic.add(half)
    for t in terms_of(f"{instruction} {after} {extra}"):
        terms[t] = max(terms.get(t, 0.0), 0.8)
    for t in terms_of(name):
        terms[t] = 1.0
    return Intent(head, (instruction + " " + after).strip(), terms, topic | set(terms_of(name)), set(topic))


def relevance(text: str, intent: Intent) -> float:
    """Absolute relevance (0…1) of ``text`` to ``intent`` (see the module doc)."""
    low = text.lower()
    got = sum(w for t, w in intent.terms.items() if t in low)
    return min(1.0, got / SATURATION)


def on_topic(text: str, intent: Intent) -> bool:
    """Relevance at or above ``FLOOR`` and at least one topic term named."""
    low = text.lower()
    return relevance(text, intent) >= FLOOR and any(t in low for t in intent.topic)


def background_on_topic(text: str, intent: Intent) -> bool:
    """A background-corpus sentence is on topic when it reaches ``FLOOR_BACKGROUND`` *and* names a subject
    word of the request itself (a sentence sharing only the section's name — 全球 in 全球价值与发展展望 — may
    be about anything). Chosen on anchor tasks 001–005 with ``section_relevance`` as the measure; 006–010
    held out (``benchmarks/bench_anchor_reports.py``)."""
    low = text.lower()
    return relevance(text, intent) >= FLOOR_BACKGROUND and any(t in low for t in intent.subject)
