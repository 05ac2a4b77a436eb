r"""Question-answer scoring: the last ``\boxed{…}`` of a text, normalised, compared exactly with the answer."""

from __future__ import annotations

import re
import unicodedata

_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")


def boxed_answers(text: str) -> list[str]:
    r"""Every ``\boxed{…}`` content in ``text`` (nested braces balanced), in order."""
    out: list[str] = []
    for m in _BOXED.finditer(text or ""):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
            i += 1
        if depth == 0:
            out.append(text[m.end(): i - 1])
    return out


def last_boxed(text: str) -> str | None:
    r"""The last ``\boxed{…}`` content of ``text``, or None."""
    found = boxed_answers(text)
    return found[-1] if found else None


def normalize_answer(text: str) -> str:
    r"""Fold an answer for exact match: NFKC, case, ``\text{}``/``$``/spaces/thousands commas, trailing
    punctuation and enclosing quotes or brackets removed."""
    t = unicodedata.normalize("NFKC", text or "").strip()
    t = re.sub(r"\\(?:text|mathrm|textbf|mathbf)\s*\{([^{}]*)\}", r"\1", t)
    t = t.replace("$", "").replace("\\%", "%").replace("\\,", "").replace("\\!", "")
    t = re.sub(r"(?<=\d),(?=\d{3}\b)", "", t)
    t = t.lower()
    t = re.sub(r"\s+", "", t)
    t = t.strip("。.,，;；:：!！?？")
    while len(t) >= 2 and (t[0], t[-1]) in {("(", ")"), ("[", "]"), ('"', '"'), ("'", "'"), ("「", "」"),
                                               ("《", "》"), ("“", "”")}:
        t = t[1:-1]
    return t


def exact_match(prediction: str | None, answer: str) -> bool:
    """Normalised exact match; a missing prediction never matches."""
    return prediction is not None and normalize_answer(prediction) == normalize_answer(answer)
