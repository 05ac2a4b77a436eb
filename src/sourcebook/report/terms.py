"""Lexical terms of a sentence: character bigrams of its CJK runs and its Latin content words (used for
redundancy between sentences; claims are verified by ``sourcebook.grounding``)."""

from __future__ import annotations

import re

from sourcebook.report.prose import CJK

_CJK_RUN = re.compile(CJK.pattern + "+")
_WORD = re.compile(r"[a-z0-9]+(?:['’\-][a-z0-9]+)*")
_NUM = re.compile(r"\d+(?:[.,]\d+)*")
_STOP = frozenset(
    """a an the and or but of to in on at for from by with as is are was were be been being it its this that
    these those there their they them he she his her we our you your i not no do does did has have had can
    could will would should may might must into than then so such also which who whom whose what when where
    how all any each other more most some very about over under between after before during up down out""".split()
)
_ZH_STOP = frozenset("的了是在和与及或也而就都并对将从以为被把这那其之所中上下等个一")


def cjk_bigrams(text: str) -> set[str]:
    """Character bigrams of the CJK runs of ``text`` (a lone character counts unless it is a stop word)."""
    grams: set[str] = set()
    for run in _CJK_RUN.findall(text):
        if len(run) == 1:
            if run not in _ZH_STOP:
                grams.add(run)
            continue
        grams.update(run[i : i + 2] for i in range(len(run) - 1))
    return grams


def content_words(text: str) -> set[str]:
    """Lower-cased Latin words of ``text`` without stop words (numbers kept)."""
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1 or w.isdigit()}


def lexical_recall(sentence: str, passage: str) -> float:
    """Share of the sentence's CJK bigrams and Latin content words that occur in the passage (numbers the
    passage never states halve their share). A ranking aid for locating a sentence in a passage, not a
    verdict: claims are verified by ``sourcebook.grounding``."""
    s_grams, p_grams = cjk_bigrams(sentence), cjk_bigrams(passage)
    s_words, p_words = content_words(sentence), content_words(passage)
    total = len(s_grams) + len(s_words)
    if total == 0:
        return 0.0
    recall = (len(s_grams & p_grams) + len(s_words & p_words)) / total
    s_nums = set(_NUM.findall(sentence))
    if s_nums:
        recall *= 1.0 - 0.5 * len(s_nums - set(_NUM.findall(passage))) / len(s_nums)
    return recall
