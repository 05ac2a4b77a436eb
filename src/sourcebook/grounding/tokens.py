"""Tokens for alignment: each CJK character is a token, each Latin word or number is a token; every token
keeps its character offsets in the original text."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

CJK_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|\d+(?:[.,]\d+)*|[A-Za-z]+(?:['’\-][A-Za-z0-9]+)*")
STOP = frozenset(
    """a an the and or but of to in on at for from by with as is are was were be been being it its this that
    these those there their they them he she his her we our you your i do does did has have had can could
    will would should may might must into than then so such also which who whom whose what when where how
    all any each other some very about over under between after before during out per via""".split()
)
ZH_LIGHT = frozenset("的了是在和与及或也而就都并对将从以为被把这那其之所中等个一着过")


@dataclass(frozen=True)
class Token:
    text: str    # normalised: lower-case word, digits, or one CJK character
    start: int
    end: int

    @property
    def cjk(self) -> bool:
        return len(self.text) == 1 and bool(CJK_CHAR.match(self.text))

    @property
    def weight(self) -> float:
        """How much the token says: light CJK function characters and Latin stop words count little."""
        if self.cjk:
            return 0.3 if self.text in ZH_LIGHT else 1.0
        return 0.2 if self.text in STOP else 1.0


def normalise(text: str) -> str:
    """NFKC (full-width digits and letters become ASCII) without changing the string's length much."""
    return unicodedata.normalize("NFKC", text)


def tokenize(text: str) -> list[Token]:
    """Tokens of ``text`` with offsets into ``text`` itself (NFKC is applied per token)."""
    out = []
    for m in _TOKEN.finditer(text):
        t = unicodedata.normalize("NFKC", m.group(0)).lower().replace(",", "") if not CJK_CHAR.match(m.group(0)) \
            else m.group(0)
        if t.endswith(("'s", "’s")):
            t = t[:-2]
        out.append(Token(t, m.start(), m.end()))
    return out


def has_cjk(text: str) -> bool:
    return bool(CJK_CHAR.search(text))
