"""Citations → stored passages, for every citation form a report may carry.

``[@id]`` is a passage id; ``[n]`` / ``[n, m]`` / ``[^n]`` / ``【n】`` name entries of the report's reference
list, whose labels are resolved like inline labels; ``[file.pdf, p. 3]``, ``[deck.pptx, slide 5]``,
``[data.xlsx, Sheet1!A1:B9]``, ``[talk.mp4, 01:20–01:45]`` name a file of the folder and a place in it;
``[long_context: "title", chunk N]`` (and the store's own ``[corpus-stem: "title", chunk N]``) name an
article of a JSON corpus. A citation that names a file or place the folder does not hold resolves to nothing,
with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_NUMS = re.compile(r"^(?:\[\^?|【)(\d{1,4}(?:\s*[,，、\-–]\s*\d{1,4})*)(?:\]|】)$")
_CORPUS = re.compile(r"^(?P<stem>[^:\[\]]{1,80}):\s*\"(?P<title>[^\"]+)\"\s*,\s*chunk\s*(?P<chunk>\d+)")
_FILE = re.compile(r"^(?P<name>[^\[\],，]{1,200}?\.[A-Za-z0-9]{2,5})\s*(?:[,，]\s*(?P<loc>.+))?$")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_REF_LINE = re.compile(r"^\s*(?:[-*+]\s*)?(?:\\?\[\^?(\d{1,4})\\?\]:?|(\d{1,4})[.、)）]|【(\d{1,4})】)\s*(.+?)\s*$")
MAX_PASSAGES = 40  # a citation of a whole file is checked against its first passages


@dataclass
class Resolution:
    """What one citation resolved to."""

    citation: str
    passages: list[Any] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.passages)


def reference_entries(references: str) -> dict[int, str]:
    """Number → label of a rendered reference list (``[1] file.pdf, p. 3`` / ``1. …`` / ``【1】…``)."""
    out: dict[int, str] = {}
    for line in references.splitlines():
        m = _REF_LINE.match(line)
        if m:
            n = int(next(g for g in m.groups()[:3] if g))
            out.setdefault(n, m.group(4).strip())
    return out


def _numbers(spec: str) -> list[int]:
    nums: list[int] = []
    for part in re.split(r"\s*[,，、]\s*", spec):
        if re.fullmatch(r"\d+\s*[\-–]\s*\d+", part):
            a, b = (int(x) for x in re.split(r"\s*[\-–]\s*", part))
            nums.extend(range(a, b + 1) if 0 < b - a < 50 else [a, b])
        elif part.strip().isdigit():
            nums.append(int(part))
    return nums


class Resolver:
    """Resolves citations against one store (and the report's reference list, for numbered citations)."""

    def __init__(self, store: Any, references: str = "") -> None:
        self.store = store
        self.entries = reference_entries(references)
        self._sources = list(store.sources())
        self._cache: dict[str, Resolution] = {}

    def seen(self) -> list[tuple[str, Resolution]]:
        """Every citation resolved so far (each once, as written in the report) with its resolution."""
        return list(self._cache.items())

    def resolve(self, citation: str) -> Resolution:
        if citation not in self._cache:
            self._cache[citation] = self._resolve(citation.strip())
        return self._cache[citation]

    def _resolve(self, cite: str) -> Resolution:
        if cite.startswith("[@"):
            p = self.store.get_passage(cite[2:-1])
            return Resolution(cite, [p]) if p else Resolution(cite, error=f"no stored passage {cite[2:-1]}")
        m = _NUMS.match(cite)
        if m:
            out = Resolution(cite)
            for n in _numbers(m.group(1)):
                label = self.entries.get(n)
                if label is None:
                    out.error = f"reference [{n}] is not in the reference list"
                    return Resolution(cite, error=out.error)
                r = self.resolve_label(label)
                if not r.ok:
                    return Resolution(cite, error=f"reference [{n}]: {r.error}")
                out.passages += r.passages
            return out
        return self.resolve_label(cite.strip("[]【】"))

    def resolve_label(self, label: str) -> Resolution:
        """A label such as ``file.pdf, p. 3`` or ``long_context: "title", chunk 2`` (brackets optional)."""
        label = label.strip().strip("[]").strip()
        label = re.split(r"\s+[—–]\s+(?=[^,，]*$)", label)[0] if "chunk" in label else label
        m = _CORPUS.match(label)
        if m:
            return self._corpus(label, m.group("stem").strip(), m.group("title").strip(), int(m.group("chunk")))
        m = _FILE.match(label)
        if not m:
            return Resolution(label, error=f"not a citation of a file: {label[:60]!r}")
        name, loc = m.group("name").strip(), (m.group("loc") or "").strip()
        srcs = [s for s in self._sources if s.path.rsplit("/", 1)[-1].lower() == name.lower()
                or s.path.lower() == name.lower()]
        if not srcs:
            return Resolution(label, error=f"{name} is not in the folder")
        passages = [p for s in srcs for p in self.store.passages(s.path)]
        if not passages:
            return Resolution(label, error=f"{name} has no readable text")
        if not loc:
            return Resolution(label, passages[:MAX_PASSAGES])
        hit = [p for p in passages if _same_locator(p.locator, loc)] or _by_place(passages, loc)
        if not hit:
            return Resolution(label, error=f"{name} has no {loc}")
        return Resolution(label, hit)

    def _corpus(self, label: str, stem: str, title: str, chunk: int) -> Resolution:
        corpora = [s for s in self._sources if s.kind == "corpus"]
        named = [s for s in corpora if s.path.rsplit("/", 1)[-1].rsplit(".", 1)[0] == stem]
        pool = named or (corpora if stem in ("long_context", "corpus") or stem.startswith("long_context") else [])
        if not pool:
            return Resolution(label, error=f"no article corpus {stem!r} in the folder")
        titled = [p for s in pool for p in self.store.passages(s.path) if _same_title(p, title)]
        if not titled:
            return Resolution(label, error=f'no article "{title}" in the corpus')
        hit = [p for p in titled if re.search(rf"chunk\s*{chunk}\b", p.locator) or p.loc.get("chunk") == chunk]
        if not hit:
            return Resolution(label, error=f'article "{title}" has no chunk {chunk}')
        return Resolution(label, hit)


def _same_title(p: Any, title: str) -> bool:
    if (p.title or "").strip() == title:
        return True
    m = re.match(r'^"([^"]+)"', p.locator)
    short = m.group(1).rstrip("…. ") if m else ""
    return bool(short) and (short == title or title.startswith(short) or short.startswith(title))


def _norm_loc(s: str) -> str:
    return re.sub(r"[\s.。]", "", s.lower().replace("–", "-").replace("—", "-").replace("page", "p").replace("第", "")
                  .replace("页", ""))


def _same_locator(a: str, b: str) -> bool:
    return _norm_loc(a) == _norm_loc(b)


def _seconds(m: re.Match[str]) -> int:
    a, b, c = m.groups()
    return int(a) * 3600 + int(b) * 60 + int(c) if c else int(a) * 60 + int(b)


def _by_place(passages: list[Any], loc: str) -> list[Any]:
    """Passages at a page / slide / sheet / time range named in ``loc``."""
    low = loc.lower()
    m = re.search(r"(?:p\.?|page|第)\s*(\d+)", low)
    if m and not low.startswith("slide"):
        n = int(m.group(1))
        return [p for p in passages if p.loc.get("page") == n]
    m = re.search(r"(?:slide|幻灯片)\s*(\d+)", low)
    if m:
        n = int(m.group(1))
        return [p for p in passages if p.loc.get("slide") == n]
    if "!" in loc:
        sheet = loc.split("!", 1)[0].strip().strip("'\"")
        return [p for p in passages if str(p.loc.get("sheet", "")) == sheet or p.locator.startswith(sheet + "!")]
    times = list(_TIME.finditer(loc))
    if times:
        lo = _seconds(times[0])
        hi = _seconds(times[-1]) if len(times) > 1 else lo
        out = []
        for p in passages:
            s, e = p.loc.get("start_s"), p.loc.get("end_s")
            if s is not None and e is not None and float(s) <= hi and float(e) >= lo:
                out.append(p)
        return out
    return []
