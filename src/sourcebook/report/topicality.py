"""Section relevance judged from a sentence's text alone: the ``section_relevance`` compliance check.

The extractive writer picks sentences with a lexical rule (``report.relevance``: intent terms, and every
sentence of a relevant file of the user's own). A check that reused that rule would pass whatever the
writer wrote by construction, so this measure shares nothing with it: no file, no writer, no term weights.

A sentence is embedded with the shared e5 embedder and compared with two prompts made from the request —
the section (report title, section name, the request's instruction for it) and the report title alone. Raw
e5 similarity does not separate on- from off-topic text (page furniture such as "内容提供方：… 大小：53 KB"
is as close to any prompt as real prose is), so both tests are *contrastive*:

* ``topic margin``: the best prompt similarity minus the similarity to the nearest of ``OTHER_TOPICS``
  (everyday subjects no report here is about: sport, shopping, download pages, thesis formatting …) must
  reach ``TOPIC_MARGIN`` — the sentence is closer to this section than to any other subject;
* ``reference margin``: the best prompt similarity minus the mean similarity to the sentence's
  ``NEIGHBOURS`` nearest ``REFERENCE`` sentences (everyday, commercial, administrative and web-boilerplate
  text) must reach ``REFERENCE_MARGIN`` — text that is close to everything gets no credit (a hubness
  correction in the manner of CSLS).

Both margins were chosen on the tuning half of ``tests/data/relevance_set.json`` and are reported on its
held-out half by ``benchmarks/bench_relevance.py``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sourcebook.report.relevance import split_heading

# what a finished report holds besides claims: figures and their captions (whole lines); the pipeline's
# notes are not claims (``grounding.claims``)
_FIGURE_LINE = re.compile(r"^\s*(?:!\[|[*_]+\s*(?:图|Figure\s*)\d)", re.I)
TOPIC_MARGIN = 0.008         # over the nearest other subject (chosen on the tuning half)
REFERENCE_MARGIN = -0.014    # over the mean of the nearest reference sentences (tuning half)
NEIGHBOURS = 5               # reference sentences averaged per sentence

# Subjects no report of this kind is about; a sentence closer to one of them than to its section is off topic.
OTHER_TOPICS = (
    "天气预报", "体育比赛新闻", "美食餐厅推荐", "手机数码产品", "商场促销打折", "电视剧电影娱乐", "小区物业通知", "公司年会",
    "学校开学招生", "网站版权声明", "网页导航菜单", "文档下载页面信息", "作者简介", "论文写作格式规范", "旅游景点行程",
    "网购退换货", "房产买卖租房", "汽车保养维修", "健康养生减肥", "股票基金理财", "宠物饲养", "婚恋情感", "招聘求职", "游戏攻略",
    "weather forecast", "sports results", "restaurant reviews", "consumer electronics", "shopping discounts",
    "movies and celebrities", "company announcements", "school admissions", "website terms and copyright notice",
    "site navigation menu", "document download page", "thesis formatting guidelines", "travel itinerary",
    "online shopping returns", "real estate listings", "car maintenance", "diet and fitness", "personal finance", "pet care",
    "job vacancies", "video game guides", "cooking recipes",
)

# Text about nothing in particular: none of it is about any report's subject. Written for sourcebook;
# kept apart from the labelled set the margin is measured on.
REFERENCE = (
    "今天天气晴朗，最高气温二十八度，适合外出散步。",
    "这家餐厅的招牌菜是红烧肉，周末需要提前订位。",
    "球队在主场以二比一战胜对手，取得三连胜。",
    "新款手机将于下月发布，起售价为四千九百九十九元。",
    "超市本周推出生鲜特价活动，会员可额外享受九折。",
    "电视剧大结局收视率创下今年新高。",
    "小区物业通知本周六上午停水四小时。",
    "公司召开年度总结大会，表彰了优秀员工。",
    "学校将于九月一日开学，新生需携带录取通知书报到。",
    "本网站所有内容仅供参考，转载请注明出处。",
    "登录 注册 首页 新闻 图片 视频 更多",
    "文件格式：DOC 页数：20 上传日期：2021-05-12",
    "作者简介：张三，男，硕士研究生，研究方向为管理学。",
    "基金项目：国家社会科学基金一般项目。",
    "收稿日期：2022-03-15；修回日期：2022-05-20。",
    "以上内容由网友整理，如有侵权请联系删除。",
    "会议将于下午两点在三楼会议室举行，请准时参加。",
    "旅游团行程包括古城、湖泊和温泉，共五天四晚。",
    "本店支持七天无理由退换货，运费由买家承担。",
    "报名截止日期为本月底，逾期不予受理。",
    "该市今年计划新建三所中学和五所幼儿园。",
    "春节期间高速公路小型客车免费通行。",
    "这本小说讲述了一个家族三代人的故事。",
    "研究生复试包括专业笔试、英语口语和综合面试。",
    "The weather will be sunny with a high of 28 degrees tomorrow.",
    "The restaurant is famous for its seafood and fresh pasta.",
    "The team won the championship after a dramatic final match.",
    "The new smartphone goes on sale next month at a lower price.",
    "The store offers free shipping on orders over fifty dollars.",
    "The film became the highest-grossing movie of the summer.",
    "The meeting has been moved to Thursday afternoon in room 204.",
    "Applications close at the end of the month and late entries are not accepted.",
    "All rights reserved. No part of this publication may be reproduced without permission.",
    "Home | About | News | Contact | Login",
    "File type: DOCX | Pages: 20 | Uploaded: 12 May 2021",
    "The author is a graduate student in business administration.",
    "This work was supported by a national research grant.",
    "Received 15 March 2022; accepted 20 May 2022.",
    "The tour includes three nights in a seaside hotel and a guided city walk.",
    "Customers may return items within thirty days for a full refund.",
    "The novel tells the story of three generations of one family.",
    "The company held its annual meeting and announced a new chief executive.",
    "The school term starts in September and new students must register in person.",
    "Click here to subscribe and never miss an update.",
    "The city plans to open two new parks and a public library next year.",
    "The museum is closed on Mondays and public holidays.",
    "Interviews for the graduate programme include a written test and an oral exam.",
    "Please read the terms and conditions before using this service.",
)


@dataclass(frozen=True)
class SectionTopic:
    """What one section of a report is about, as the request states it."""

    report: str              # the report's title (or the request's opening words when it names none)
    name: str                # the section's name
    instruction: str = ""    # the request's instruction for the section

    def prompts(self) -> list[str]:
        """The texts a sentence is compared with: the section in its report, and the report alone."""
        cjk = any("\u4e00" <= ch <= "\u9fff" for ch in self.report + self.name)
        head = f"{self.report}：{self.name}" if cjk else f"{self.report}: {self.name}"
        sec = f"{head}。{self.instruction}" if cjk and self.instruction else (
            f"{head}. {self.instruction}" if self.instruction else head)
        return [sec, self.report] if self.report and self.report != self.name else [sec]


def report_topic(req: Any) -> str:
    """The report's subject in a few words: the requested title, else the request's first sentence."""
    if getattr(req, "title", None):
        return req.title
    first = re.split(r"[。！？!?\n]|\.\s", getattr(req, "raw", "") or "", maxsplit=1)[0]
    return first.strip()[:120]


def section_topic(req: Any, title: str, instruction: str = "") -> SectionTopic:
    """The :class:`SectionTopic` of a section titled ``title`` (a bracketed instruction in the title or the
    request's own section entry supplies the instruction when ``instruction`` is empty)."""
    name, inner = split_heading(title)
    if not instruction and not inner:
        for wanted in getattr(req, "sections", None) or []:
            w_name, w_inner = split_heading(wanted)
            if w_name == name:
                inner = w_inner
                break
    return SectionTopic(report_topic(req), name, instruction or inner)


class TopicJudge:
    """Scores sentences against section topics with one embedder; the reference and prompt vectors are kept
    for the judge's lifetime, sentence vectors are not."""

    def __init__(self, embedder: Any = None) -> None:
        if embedder is None:
            from sourcebook.store.dense import default_embedder

            embedder = default_embedder()
        self.embedder = embedder
        self._vecs: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def _embed(self, texts: Sequence[str], keep: bool = True) -> np.ndarray:
        """Unit rows of ``texts`` (query side); ``keep``: remember them (the fixed references and prompts,
        not every sentence ever judged)."""
        dim = self.embedder.dim or 1
        if not texts:
            return np.zeros((0, dim), np.float32)
        with self._lock:
            todo = [t for t in dict.fromkeys(texts) if t not in self._vecs]
            fresh = dict(zip(todo, self.embedder.embed_queries(todo), strict=True)) if todo else {}
            if keep:
                self._vecs.update(fresh)
            return np.vstack([np.asarray(self._vecs[t] if t in self._vecs else fresh[t], dtype=np.float32)
                              for t in texts])

    def margins(self, topic: SectionTopic, sentences: Sequence[str]) -> list[tuple[float, float]]:
        """(topic margin, reference margin) of each sentence (see the module doc)."""
        if not sentences:
            return []
        others = self._embed(OTHER_TOPICS)
        ref = self._embed(REFERENCE)
        prompts = self._embed(topic.prompts())
        sents = self._embed(list(sentences), keep=False)
        pos = (sents @ prompts.T).max(axis=1)
        nearest_topic = (sents @ others.T).max(axis=1)
        near = np.sort(sents @ ref.T, axis=1)[:, ::-1][:, :NEIGHBOURS].mean(axis=1)
        return [(round(float(p - t), 4), round(float(p - r), 4)) for p, t, r in zip(pos, nearest_topic, near,
                                                                                    strict=True)]

    def on_topic(self, topic: SectionTopic, sentences: Sequence[str],
                 margins: tuple[float, float] | None = None) -> list[bool]:
        """Whether each sentence is about ``topic``: both margins reached (``margins``: other values of
        ``TOPIC_MARGIN`` and ``REFERENCE_MARGIN``, for tuning)."""
        tm, rm = margins or (TOPIC_MARGIN, REFERENCE_MARGIN)
        return [t >= tm and r >= rm for t, r in self.margins(topic, sentences)]

    def share(self, topic: SectionTopic, sentences: Sequence[str]) -> float:
        """The on-topic share of a section's sentences (rounded to 3 places; 0.0 for none)."""
        ok = self.on_topic(topic, sentences)
        return round(sum(ok) / len(ok), 3) if ok else 0.0


_judges: dict[int, TopicJudge] = {}


def default_judge(embedder: Any = None) -> TopicJudge:
    """One judge per embedder and process (the settings' embedder when none is given)."""
    if embedder is None:
        from sourcebook.store.dense import default_embedder

        embedder = default_embedder()
    key = id(embedder)
    if key not in _judges:
        _judges[key] = TopicJudge(embedder)
    return _judges[key]


def markdown_relevance(body: str, req: Any, judge: TopicJudge | None = None
                       ) -> tuple[dict[str, float], dict[str, int]]:
    """For a finished Markdown report body: section title → on-topic share of its claim sentences, and
    section title → number of sentences judged (the references section, the pipeline's notes and figure
    captions, and sections without claims are left out)."""
    from sourcebook.grounding.claims import split_claims
    from sourcebook.grounding.report import markdown_sections
    from sourcebook.report.plan import is_references_title

    judge = judge or default_judge()
    shares: dict[str, float] = {}
    sizes: dict[str, int] = {}
    for heading, text in markdown_sections(body):
        if not heading or is_references_title(heading):
            continue
        text = "\n".join(ln for ln in text.splitlines() if not _FIGURE_LINE.match(ln))
        claims = [c.text for c in split_claims(text, heading)]
        if claims:
            shares[heading] = judge.share(section_topic(req, heading), claims)
            sizes[heading] = len(claims)
    return shares, sizes
