"""Length: how a report's body is counted (``count_units``, ``body_text``) and the length checks."""

from __future__ import annotations

import re
import unicodedata

from sourcebook.report.checks.reading import _looks_html, html_to_markdown, split_references
from sourcebook.report.types import CITE_MARKER, CheckResult, Requirements

_HAN_RANGES = (r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
               r"\u3040-\u309f\u30a0-\u30ff\uac00-\ud7af")
_HAN = re.compile(f"[{_HAN_RANGES}]")
_WORD = re.compile(r"[A-Za-z0-9]+(?:[.'’_\-][A-Za-z0-9]+)*")
_LATIN_WORD = re.compile(r"[A-Za-z]+(?:['’\-][A-Za-z]+)*")

# citation markers as they appear in drafts and rendered reports
_NUM_CITE = re.compile(r"\[\^?(\d{1,4}(?:\s*[,，、\-–]\s*\d{1,4})*)\](?!\()")
_CJK_NUM_CITE = re.compile(r"【(\d{1,4}(?:\s*[,，、\-–]\s*\d{1,4})*)】")
_LABEL_CITE = re.compile(
    r"(?<!!)\[[^\[\]\n]{1,120}?\.(?:pdf|pptx?|docx?|xlsx?|csv|json|txt|md|html?|mp4|mov|mkv|avi|mp3|wav|m4a|"
    r"png|jpe?g|gif|webp)\b[^\[\]\n]{0,80}\](?!\()", re.I)
_FOOTNOTE_DEF = re.compile(r"^\[\^\d+\]:.*$", re.M)


def _strip_markup(md: str) -> str:
    t = re.sub(r"```.*?```", " ", md, flags=re.S)              # fenced code
    t = re.sub(r"<!--.*?-->", " ", t, flags=re.S)
    t = re.sub(r"!\[(?:[^\[\]]|\[[^\[\]]*\])*\]\([^)]*\)", " ", t)  # images
    t = re.sub(r"\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\((?:[^()\s]|\([^)]*\))*\)", r"\1", t)  # links → their text
    t = _FOOTNOTE_DEF.sub(" ", t)
    t = CITE_MARKER.sub(" ", t)
    t = _NUM_CITE.sub(" ", t)
    t = _CJK_NUM_CITE.sub(" ", t)
    t = _LABEL_CITE.sub(" ", t)
    t = re.sub(r"https?://\S+|www\.\S+", " ", t)
    t = re.sub(r"<[^>\n]{1,300}>", " ", t)                      # inline HTML tags
    t = re.sub(r"&(?:[a-z]+|#\d+|#x[0-9a-f]+);", " ", t, flags=re.I)
    t = re.sub(r"^\s{0,3}#{1,6}\s+", "", t, flags=re.M)
    t = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", t, flags=re.M)  # list markers
    t = re.sub(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$", " ", t, flags=re.M)
    return t


def count_units(text: str, unit: str = "chars") -> int:
    """Count the length of a report body the way every check in sourcebook does.

    Counted: each CJK character (Han ideographs incl. extension A/B and compatibility ideographs, plus
    Japanese kana and Hangul syllables) is 1; each run of Latin letters/digits (``GPT-4``, ``3.5``,
    ``don't`` — one word each) is 1. Not counted: whitespace, punctuation (CJK and ASCII), emoji and other
    symbols, Markdown/HTML syntax (``#``, ``**``, ``|``, list markers, tags, link targets, images), bare
    URLs, citation markers (``[1]``, ``[1, 2]``, ``[^1]``, ``【1】``, ``[@passage_id]``, ``[file.pdf, p. 3]``)
    and the references section (see :func:`split_references`).

    ``unit="chars"`` returns that sum (the Chinese "字数" rule: Han characters + Latin words).
    ``unit="words"`` returns the same tokens read as words, i.e. Latin/digit words + CJK characters,
    which for English text is the ordinary word count.
    Text that looks like an HTML document is converted to Markdown first.
    """
    if _looks_html(text):
        text = html_to_markdown(text)
    body, _refs = split_references(text)
    plain = unicodedata.normalize("NFKC", _strip_markup(body))
    if unit not in ("chars", "words"):
        raise ValueError(f"unknown unit {unit!r} (use 'chars' or 'words')")
    han = len(_HAN.findall(plain))
    words = len(_WORD.findall(_HAN.sub(" ", plain)))
    return han + words


def _script_counts(text: str) -> tuple[int, int]:
    plain = unicodedata.normalize("NFKC", _strip_markup(text))
    return len(_HAN.findall(plain)), len(_LATIN_WORD.findall(plain))


def _range_text(req: Requirements) -> str:
    lo, hi = req.min_units, req.max_units
    if lo is not None and hi is not None:
        return f"{lo}–{hi} {req.unit}"
    if lo is not None:
        return f"≥ {lo} {req.unit}"
    if hi is not None:
        return f"≤ {hi} {req.unit}"
    return "no length requirement"


def body_text(text: str, request: str = "") -> str:
    """The report's body as length counts it: without the title block (the ``#`` title and the short
    metadata lines under it), without a block that repeats the request, without notes the pipeline adds
    (``（说明：…）``, ``（资料说明：…）``). References are removed by :func:`count_units`."""
    lines = text.splitlines()
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i < len(lines) and re.match(r"^#\s+\S", lines[i]):
        i += 1
        while i < len(lines) and (not lines[i].strip() or (len(lines[i].strip()) <= 40 and not lines[i].startswith("#")
                                                         and not re.search(r"[。！？.!?]$", lines[i].strip()))):
            i += 1
        lines = lines[i:]
    blocks = re.split(r"\n\s*\n", "\n".join(lines))
    keep = [b for b in blocks if not _NOTE_BLOCK.match(b.strip()) and not (request and _echoes(b, request))]
    return "\n\n".join(keep)


_NOTE_BLOCK = re.compile(r"^[*_]*[（(](?:说明|资料说明|Note|Note on sources)[:：]")


def _echoes(block: str, request: str) -> bool:
    """A block of at least 40 characters most of whose character bigrams come from the request."""
    b = re.sub(r"\s|^>+", "", block)
    if len(b) < 40:
        return False
    req_grams = {request[i:i + 2] for i in range(len(request) - 1)}
    grams = [b[i:i + 2] for i in range(len(b) - 1)]
    return sum(g in req_grams for g in grams) >= 0.7 * len(grams)


def check_length(body: str, req: Requirements) -> CheckResult:
    """Body length (title block, echoed request, notes and references excluded) within the requested range."""
    n = count_units(body_text(body, req.raw), req.unit)
    expected = _range_text(req)
    if req.min_units is None and req.max_units is None:
        return CheckResult("length", None, n, expected, "the request sets no length; measured only")
    ok = (req.min_units is None or n >= req.min_units) and (req.max_units is None or n <= req.max_units)
    detail = "approximate target ±10 %" if req.approximate else ""
    if not ok:
        if req.min_units is not None and n < req.min_units:
            detail = f"{req.min_units - n} {req.unit} short"
        else:
            detail = f"{n - (req.max_units or 0)} {req.unit} over"
    return CheckResult("length", ok, n, expected, detail)


def check_not_empty(body: str, req: Requirements) -> CheckResult:
    """Not empty or near-empty: at least 30 % of the minimum length (or 200 chars / 100 words)."""
    n = count_units(body_text(body, req.raw), req.unit)
    default_floor = 200 if req.unit == "chars" else 100
    floor = max(50, round(0.3 * req.min_units)) if req.min_units else default_floor
    return CheckResult("not_empty", n >= floor, n, f"≥ {floor} {req.unit}",
                       "" if n >= floor else "empty or near-empty report")
