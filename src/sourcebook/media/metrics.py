"""Transcript accuracy: character and word error counts, as used by the media tests and benchmark."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sourcebook.media.asr import to_simplified


def edit_distance(a: Sequence[str], b: Sequence[str]) -> int:
    """Levenshtein distance between two sequences (characters or words)."""
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
        prev = cur
    return prev[-1]


def normalize_chars(text: str) -> str:
    """Simplified Chinese, lower case, no punctuation or spaces: what a CER compares."""
    return re.sub(r"[\W_]+", "", to_simplified(text)).lower()


def normalize_words(text: str) -> list[str]:
    """Lower-case words without punctuation: what a WER compares."""
    return re.sub(r"[^\w' ]+", " ", text.lower()).split()


def char_errors(ref: str, hyp: str) -> tuple[int, int]:
    """(character edits, reference characters)."""
    r, h = normalize_chars(ref), normalize_chars(hyp)
    return edit_distance(r, h), len(r)


def word_errors(ref: str, hyp: str) -> tuple[int, int]:
    """(word edits, reference words)."""
    r, h = normalize_words(ref), normalize_words(hyp)
    return edit_distance(r, h), len(r)


def cer(ref: str, hyp: str) -> float:
    """Character error rate."""
    e, n = char_errors(ref, hyp)
    return e / max(1, n)


def wer(ref: str, hyp: str) -> float:
    """Word error rate."""
    e, n = word_errors(ref, hyp)
    return e / max(1, n)
