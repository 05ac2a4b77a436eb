"""Requirement checks measured in code: length, sections, format, bullets, citations, language, emptiness,
and the pipeline-level checks (inputs cited, citations resolvable, citations supported).

Every check returns a :class:`CheckResult` with the measured value and the expectation; a check that could
not be measured (nothing requested, nothing to measure) has ``passed=None`` and says why — a pass is only
ever reported for something that was actually measured.
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sourcebook.report.requirements import is_reference_title, normalize_title, section_key
from sourcebook.report.types import CITE_MARKER, CheckResult, Draft, Requirements

__all__ = [
    "count_units", "split_references", "ParsedReport", "parse_report", "read_report", "sniff_format",
    "check_text", "check_length", "check_sections", "check_format", "check_bullets",
    "check_citations", "check_language", "check_not_empty", "check_title", "check_inputs_cited",
    "check_citations_resolvable", "overall_verdict", "compliance_table",
    "compliance_dict", "write_compliance",
]

# ------------------------------------------------------------------------------------------------ counting

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


def _looks_html(text: str) -> bool:
    head = text.lstrip()[:2000].lower()
    return head.startswith(("<!doctype html", "<html")) or bool(re.search(r"<(?:body|h[1-6]|p|div)\b", head))


_REF_HINT = re.compile(r"参考|来源|文献|references?|bibliography|sources|works\s*cited|citations", re.I)
_REF_HEADING_LINE = re.compile(r"^(?:#{1,6}\s+)?(?:\*\*)?(.{1,40}?)(?:\*\*)?\s*[:：]?\s*$")


def _heading_level(line: str) -> int | None:
    m = re.match(r"^(#{1,6})\s+\S", line)
    return len(m.group(1)) if m else None


def split_references(md: str) -> tuple[str, str]:
    """Split Markdown/plain text into (body, references section).

    The references section starts at a heading (``## 参考资料``, ``（6）参考资料``, ``**References**`` or a bare
    line) whose title names references and runs to the next heading of the same or a higher level."""
    if not _REF_HINT.search(md):
        return md, ""
    lines = md.splitlines()
    for i, line in enumerate(lines):
        s = line.strip()
        if not s or len(s) > 60:
            continue
        m = _REF_HEADING_LINE.match(s)
        if not m or not is_reference_title(m.group(1).strip("#* ")):
            continue
        if re.match(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+", line) and s.rstrip().endswith(("：", ":")):
            continue  # a list item introducing its sources ("1. 资料来源：…") is not the references heading
        level = _heading_level(s) or 7
        end = len(lines)
        for j in range(i + 1, len(lines)):
            lv = _heading_level(lines[j].strip())
            if lv is not None and lv <= level:
                end = j
                break
        body = "\n".join(lines[:i] + lines[end:])
        return body, "\n".join(lines[i:end])
    return md, ""


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


# ------------------------------------------------------------------------------------------------ reading


def html_to_markdown(html: str) -> str:
    """HTML → Markdown (ATX headings, ``*`` lists) with scripts and styles dropped."""
    from bs4 import BeautifulSoup
    from markdownify import markdownify

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    for tag in soup(["head"]):
        tag.decompose()  # the <title> is read separately by parse_report
    return markdownify(str(soup), heading_style="ATX", bullets="*")


def _docx_to_markdown(path: Path) -> str:
    import docx
    from docx.oxml.ns import qn

    document = docx.Document(str(path))
    out: list[str] = []
    body = document.element.body
    for child in body.iterchildren():
        if child.tag == qn("w:p"):
            para = docx.text.paragraph.Paragraph(child, document)
            text = para.text.strip()
            if not text:
                continue
            style = (para.style.name if para.style is not None else "") or ""
            m = re.match(r"Heading\s*(\d)", style, re.I)
            has_num = child.find(qn("w:pPr")) is not None and child.find(qn("w:pPr")).find(qn("w:numPr")) is not None
            if style.lower() == "title":
                out.append(f"# {text}")
            elif m:
                out.append(f"{'#' * min(6, int(m.group(1)) + 1)} {text}")
            elif "list" in style.lower() or has_num:
                out.append(f"- {text}")
            else:
                out.append(text)
        elif child.tag == qn("w:tbl"):
            table = docx.table.Table(child, document)
            for r, row in enumerate(table.rows):
                cells = [c.text.replace("\n", " ").strip() for c in row.cells]
                out.append("| " + " | ".join(cells) + " |")
                if r == 0:
                    out.append("|" + "---|" * len(cells))
        out.append("")
    return "\n".join(out)


def sniff_format(text: str, path: Path | None = None) -> str:
    """markdown | html | text | docx, from the file suffix or the content."""
    if path is not None:
        suffix = path.suffix.lower()
        if suffix in (".html", ".htm", ".xhtml"):
            return "html"
        if suffix == ".docx":
            return "docx"
        if suffix in (".md", ".markdown"):
            return "markdown"
    if _looks_html(text):
        return "html"
    return "markdown" if re.search(r"^#{1,6}\s+\S", text, re.M) else "text"


def read_report(path: Path) -> tuple[str, str]:
    """Read a report file (md / txt / html / docx) → (text, format). DOCX comes back as Markdown.

    Raises ``ValueError`` naming the file and the reason when it cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    if path.suffix.lower() == ".docx":
        try:
            return _docx_to_markdown(path), "docx"
        except Exception as exc:  # python-docx raises several unrelated types for broken files
            raise ValueError(f"{path}: not a readable .docx file ({type(exc).__name__}: {exc})") from exc
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None:
            raise ValueError(f"{path}: not a text file (undecodable bytes)") from None
        text = str(best)
    return text, sniff_format(text, path)


# ------------------------------------------------------------------------------------------------ parsing


@dataclass
class ReportSection:
    level: int
    title: str
    start: int  # line index of the heading in ``markdown``
    end: int    # line index after the section including its subsections
    weak: bool = False  # a numbered/bold line taken as a heading, not a Markdown heading


@dataclass
class ParsedReport:
    """A report reduced to what the checks need."""

    fmt: str
    markdown: str
    title: str | None
    sections: list[ReportSection]
    body: str          # without the references section
    references: str    # the references section ("" when absent)
    list_lines: list[str] = field(default_factory=list)
    html_problems: list[str] = field(default_factory=list)
    html_lists: int = 0
    html_headings: int = 0
    html_has_body: bool | None = None

    def section_text(self, sec: ReportSection) -> str:
        lines = self.markdown.splitlines()
        return "\n".join(lines[sec.start + 1: sec.end])


_WEAK_HEADING = re.compile(
    r"^(?:\*\*)?\s*(?:[（(]\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*[）)]|[一二三四五六七八九十]{1,3}\s*[、.．]|"
    r"第\s*[\d一二三四五六七八九十]+\s*[章节部分])\s*\S.{0,40}$")


def _md_sections(md: str) -> list[ReportSection]:
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(md)
    heads: list[tuple[int, int, str, bool]] = []  # (line, level, title, weak)
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.map:
            heads.append((tok.map[0], int(tok.tag[1]), tokens[i + 1].content.strip(), False))
        elif tok.type == "paragraph_open" and tok.map and tok.map[1] - tok.map[0] == 1 and tok.level == 0:
            content = tokens[i + 1].content.strip()
            bold = re.fullmatch(r"\*\*([^*\n]{1,50})\*\*\s*[:：]?", content)
            if bold or (_WEAK_HEADING.match(content) and not re.search(r"[。.!?！？；;]$", content)
                        and len(content) <= 50):
                heads.append((tok.map[0], 7, (bold.group(1) if bold else content).strip("* "), True))
    lines = md.splitlines()
    out = []
    for k, (line, level, title, weak) in enumerate(heads):
        end = len(lines)
        for line2, level2, _t, _w in heads[k + 1:]:
            if level2 <= level:
                end = line2
                break
        out.append(ReportSection(level, title, line, end, weak))
    return out


def _md_list_lines(md: str) -> list[str]:
    from markdown_it import MarkdownIt

    lines = md.splitlines()
    found = []
    for tok in MarkdownIt("commonmark").enable("table").parse(md):
        if tok.type == "list_item_open" and tok.map:
            found.append(lines[tok.map[0]].strip())
    return found


def parse_report(text: str, fmt: str | None = None) -> ParsedReport:
    """Parse a final report (Markdown, plain text, HTML, or DOCX already converted to Markdown)."""
    fmt = fmt or sniff_format(text)
    html_problems: list[str] = []
    html_lists = html_headings = 0
    html_has_body: bool | None = None
    title: str | None = None
    if fmt == "html":
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(text, "html.parser")
        html_lists = len(soup.find_all(["ul", "ol", "li"]))
        html_headings = len(soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6"]))
        if soup.title and soup.title.get_text(strip=True):
            title = soup.title.get_text(strip=True)
        root = soup.body or soup
        for tag in root(["script", "style"]):
            tag.decompose()
        visible = root.get_text("\n", strip=True)
        html_has_body = bool(visible)
        if not soup.find("html") and not soup.find("body"):
            html_problems.append("no <html>/<body> element")
        leftovers = [ln for ln in visible.splitlines() if re.match(r"^#{1,6}\s|^\s*[-*]\s|.*\*\*[^*]+\*\*", ln)]
        if leftovers:
            html_problems.append(f"Markdown syntax left in HTML text ({len(leftovers)} lines, e.g. {leftovers[0][:40]!r})")
        md = html_to_markdown(text)
    else:
        md = text
    sections = _md_sections(md)
    if title is None:
        h1 = next((s for s in sections if s.level == 1 and not s.weak), None)
        title = h1.title if h1 else None
    body, refs = split_references(md)
    list_lines = [] if fmt == "html" else _md_list_lines(md)
    return ParsedReport(fmt=fmt, markdown=md, title=title, sections=sections, body=body, references=refs,
                        list_lines=list_lines, html_problems=html_problems, html_lists=html_lists,
                        html_headings=html_headings, html_has_body=html_has_body)


# ------------------------------------------------------------------------------------------------ checks


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


def _title_matches(required: str, heading: str) -> bool:
    key, full, head = section_key(required), normalize_title(required), normalize_title(heading)
    if not head or not key:
        return False
    hkey = section_key(heading)
    if key in head or (len(head) >= 2 and head in full) or (len(hkey) >= 2 and hkey == key):
        return True
    return difflib.SequenceMatcher(None, key, hkey).ratio() >= 0.75


_TITLE_SECTION = {"报告标题", "标题", "题目", "title", "reporttitle"}


def check_sections(parsed: ParsedReport, req: Requirements) -> list[CheckResult]:
    """Required sections present, in the requested order, and none empty (fuzzy title matching)."""
    if not req.sections:
        why = "the request names no sections"
        return [CheckResult(n, None, None, None, why)
                for n in ("sections_present", "sections_order", "sections_nonempty")]
    secs = parsed.sections
    # prefer real headings; fall back to weak (numbered / bold line) ones
    strong = [s for s in secs if not s.weak]
    matched: list[tuple[str, ReportSection | None, int]] = []  # (required, section, index in secs)
    last = -1
    out_of_order: list[str] = []
    for r in req.sections:
        if section_key(r) in _TITLE_SECTION:
            matched.append((r, None, -2 if parsed.title else -3))
            continue
        cands = [i for i, s in enumerate(secs) if _title_matches(r, s.title)]
        if strong:
            strong_c = [i for i in cands if not secs[i].weak]
            cands = strong_c or cands
        after = [i for i in cands if i > last]
        if after:
            idx = after[0]
        elif cands:
            idx = cands[0]
            out_of_order.append(r)
        else:
            matched.append((r, None, -1))
            continue
        matched.append((r, secs[idx], idx))
        last = max(last, idx)
    missing = [r for r, _s, i in matched if i in (-1, -3)]
    found = len(req.sections) - len(missing)
    results = [CheckResult(
        "sections_present", not missing, f"{found}/{len(req.sections)}", req.sections,
        ("missing: " + "; ".join(missing)) if missing else "all required sections have a heading")]
    indices = [i for _r, s, i in matched if s is not None]
    in_order = indices == sorted(indices) and not out_of_order
    if len(indices) < 2:
        results.append(CheckResult("sections_order", None, indices, "requested order",
                                   "fewer than two required sections found; order not measurable"))
    else:
        results.append(CheckResult(
            "sections_order", in_order, [secs[i].title for i in indices], "requested order",
            "" if in_order else "out of order: " + "; ".join(out_of_order or ["see measured sequence"])))
    empty: list[str] = []
    sizes: dict[str, int] = {}
    floor = 20 if req.unit == "chars" else 10
    for r, s, _i in matched:
        if s is None:
            continue
        text = parsed.section_text(s)
        if is_reference_title(s.title) or is_reference_title(r):
            n = len(re.sub(r"\s", "", text))
        else:
            n = count_units(text, req.unit)
        sizes[r] = n
        if n < floor:
            empty.append(f"{r} ({n})")
    if not sizes:
        results.append(CheckResult("sections_nonempty", None, sizes, f"≥ {floor} {req.unit} each",
                                   "no required section found"))
    else:
        results.append(CheckResult("sections_nonempty", not empty, sizes, f"≥ {floor} {req.unit} each",
                                   ("empty or near-empty: " + "; ".join(empty)) if empty else ""))
    return results


def check_format(parsed: ParsedReport, req: Requirements) -> CheckResult:
    """The file is the requested format and well-formed (HTML with body content; Markdown with headings)."""
    want = req.format
    got = parsed.fmt
    if want == "html" and got != "html":
        return CheckResult("format", False, got, want, "HTML was requested")
    if want == "docx" and got != "docx":
        return CheckResult("format", False, got, want, "a Word document was requested")
    if got == "html":
        problems = list(parsed.html_problems)
        if not parsed.html_has_body:
            problems.append("no visible body content")
        if parsed.html_headings == 0:
            problems.append("no <h1>–<h6> headings")
        return CheckResult("format", not problems, "html", want, "; ".join(problems) or "parses, has body and headings")
    real = [s for s in parsed.sections if not s.weak]
    if got == "docx":
        return CheckResult("format", bool(real), "docx", want,
                           f"{len(real)} heading paragraphs" if real else "no Heading-styled paragraphs")
    if re.search(r"<(?:div|p|h[1-6]|ul|ol|table)\b[^>]*>", parsed.markdown) and not real:
        return CheckResult("format", False, got, want, "raw HTML tags in a Markdown report")
    return CheckResult("format", bool(real), "markdown" if real else got, want,
                       f"{len(real)} Markdown headings" if real else "no Markdown headings (# …)")


def check_bullets(parsed: ParsedReport, req: Requirements) -> CheckResult:
    """No bullet or numbered lists anywhere when the request forbids them."""
    if parsed.fmt == "html":
        n, sample = parsed.html_lists, "<ul>/<ol>/<li> elements"
    else:
        n, sample = len(parsed.list_lines), (parsed.list_lines[0][:40] if parsed.list_lines else "")
    if not req.no_bullets:
        return CheckResult("no_bullets", None, n, "not requested", "the request allows lists")
    return CheckResult("no_bullets", n == 0, n, 0, f"list items found, e.g. {sample!r}" if n else "")


def _cited_numbers(text: str) -> list[int]:
    nums: list[int] = []
    for m in (*_NUM_CITE.finditer(text), *_CJK_NUM_CITE.finditer(text)):
        for part in re.split(r"\s*[,，、]\s*", m.group(1)):
            if re.fullmatch(r"\d+\s*[\-–]\s*\d+", part):
                a, b = (int(x) for x in re.split(r"\s*[\-–]\s*", part))
                if 0 < b - a < 50:
                    nums.extend(range(a, b + 1))
                    continue
            if part.strip().isdigit():
                nums.append(int(part))
    return nums


def _reference_numbers(refs: str) -> list[int]:
    nums = []
    for line in refs.splitlines()[1:]:
        m = re.match(r"^\s*(?:[-*+]\s*)?(?:\\?\[\^?(\d{1,4})\\?\]|(\d{1,4})[.、)）]|【(\d{1,4})】)", line)
        if m:
            nums.append(int(next(g for g in m.groups() if g)))
    return nums


def check_citations(parsed: ParsedReport, req: Requirements) -> list[CheckResult]:
    """Citations present in the body, and every cited number has an entry in the references section."""
    body = parsed.body
    nums = _cited_numbers(body)
    ids = CITE_MARKER.findall(body)
    labels = _LABEL_CITE.findall(body)
    total = len(nums) + len(ids) + len(labels)
    if not req.cite_sources:
        present = CheckResult("citations_present", None, total, "not requested", "the request does not ask for citations")
    else:
        present = CheckResult("citations_present", total > 0, total, "≥ 1 citation in the body",
                              "" if total else "no citation markers ([1], [@id], [file, locator]) in the body")
    refs = _reference_numbers(parsed.references)
    if not nums:
        numbered = CheckResult("citations_numbered", None, 0, "cited numbers listed in references",
                               "no numbered citations to resolve")
    else:
        dangling = sorted(set(nums) - set(refs))
        unused = sorted(set(refs) - set(nums))
        detail = []
        if not parsed.references:
            detail.append("no references section")
        if dangling:
            detail.append(f"cited but not listed: {dangling[:10]}")
        if unused:
            detail.append(f"listed but never cited: {unused[:10]}")
        numbered = CheckResult("citations_numbered", bool(parsed.references) and not dangling,
                               f"{len(set(nums))} cited / {len(refs)} listed", "every cited number listed",
                               "; ".join(detail))
    return [present, numbered]


def check_language(body: str, req: Requirements) -> CheckResult:
    """Share of CJK characters among CJK characters + Latin words matches the requested language."""
    han, latin = _script_counts(split_references(body)[0])
    if han + latin == 0:
        return CheckResult("language", None, None, req.language, "no letters to measure")
    share = han / (han + latin)
    ok = share >= 0.5 if req.language == "zh" else share <= 0.2
    return CheckResult("language", ok, f"CJK share {share:.2f}", req.language,
                       "zh needs CJK share ≥ 0.50; en needs ≤ 0.20")


def check_not_empty(body: str, req: Requirements) -> CheckResult:
    """Not empty or near-empty: at least 30 % of the minimum length (or 200 chars / 100 words)."""
    n = count_units(body_text(body, req.raw), req.unit)
    default_floor = 200 if req.unit == "chars" else 100
    floor = max(50, round(0.3 * req.min_units)) if req.min_units else default_floor
    return CheckResult("not_empty", n >= floor, n, f"≥ {floor} {req.unit}",
                       "" if n >= floor else "empty or near-empty report")


def check_title(parsed: ParsedReport, req: Requirements) -> CheckResult:
    """The document title carries the requested 《title》."""
    if not req.title:
        return CheckResult("title", None, parsed.title, None, "the request gives no title")
    want, got = normalize_title(req.title), normalize_title(parsed.title or "")
    ok = bool(got) and (want in got or difflib.SequenceMatcher(None, want, got).ratio() >= 0.8)
    return CheckResult("title", ok, parsed.title, req.title, "" if ok else "document title differs from the request")


def check_text(text: str, req: Requirements, fmt: str | None = None) -> list[CheckResult]:
    """Check a FINAL report (Markdown, plain text, HTML, or DOCX converted by :func:`read_report`)."""
    parsed = parse_report(text, fmt)
    body = parsed.body
    results = [check_not_empty(body, req), check_length(body, req)]
    results += check_sections(parsed, req)
    results.append(check_format(parsed, req))
    results.append(check_bullets(parsed, req))
    results += check_citations(parsed, req)
    results.append(check_language(body, req))
    results.append(check_title(parsed, req))
    return results


# ------------------------------------------------------------------------------------------------ pipeline


def check_inputs_cited(cited_sources: Iterable[str], usable_sources: Iterable[str]) -> CheckResult:
    """Every usable input file is cited at least once."""
    usable = sorted(set(usable_sources))
    cited = set(cited_sources)
    if not usable:
        return CheckResult("inputs_cited", None, 0, "every usable input cited", "no usable input files")
    missing = [s for s in usable if s not in cited]
    return CheckResult("inputs_cited", not missing, f"{len(usable) - len(missing)}/{len(usable)}",
                       "every usable input cited", ("not cited: " + ", ".join(missing[:20])) if missing else "")


def check_citations_resolvable(marker_ids: Iterable[str], resolve: Callable[[str], Any]) -> CheckResult:
    """Every citation marker names a passage that exists."""
    ids = list(dict.fromkeys(marker_ids))
    if not ids:
        return CheckResult("citations_resolvable", None, 0, "all markers resolve", "no citation markers")
    bad = [i for i in ids if resolve(i) is None]
    return CheckResult("citations_resolvable", not bad, f"{len(ids) - len(bad)}/{len(ids)}", "all markers resolve",
                       ("unresolvable: " + ", ".join(bad[:20])) if bad else "")


def draft_markdown(draft: Draft) -> str:
    """The draft as Markdown with its ``[@id]`` markers (references section listed by cited ids)."""
    parts = [f"# {draft.title}", ""]
    cited: list[str] = []
    def is_refs(sec: Any) -> bool:
        return sec.is_references or (is_reference_title(sec.title) and not sec.body.strip())

    for sec in draft.sections:
        if not is_refs(sec):
            cited += [m for m in CITE_MARKER.findall(sec.body) if m not in cited]
    for sec in draft.sections:
        parts.append(f"## {sec.title}")
        parts.append("")
        if is_refs(sec):
            parts += [f"[{n}] {pid}" for n, pid in enumerate(cited, 1)]
        else:
            parts.append(sec.body.strip())
        parts.append("")
    return "\n".join(parts)


# ------------------------------------------------------------------------------------------------ output


def overall_verdict(results: Iterable[CheckResult]) -> str:
    """``pass`` (no measured check failed), ``fail``, or ``unmeasured`` (nothing could be measured)."""
    results = list(results)
    if any(r.passed is False for r in results):
        return "fail"
    if any(r.passed is True for r in results):
        return "pass"
    return "unmeasured"


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        return " → ".join(str(v) for v in value) if len(value) <= 8 else f"{len(value)} items"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in list(value.items())[:8])
    return str(value)


def compliance_table(results: Iterable[CheckResult], title: str = "Requirement checks") -> Any:
    """A rich Table with one row per check (PASS / FAIL / n/a)."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(title), show_lines=False)
    table.add_column("check", style="bold")
    table.add_column("result")
    table.add_column("measured", overflow="fold", max_width=40)
    table.add_column("expected", overflow="fold", max_width=40)
    table.add_column("detail", overflow="fold", max_width=60)
    for r in results:
        verdict = {True: "[green]PASS[/green]", False: "[red]FAIL[/red]", None: "[dim]n/a[/dim]"}[r.passed]
        table.add_row(r.name, verdict, escape(_show(r.measured)), escape(_show(r.expected)), escape(r.detail))
    return table


def compliance_dict(results: Iterable[CheckResult]) -> dict[str, Any]:
    """JSON-ready summary: overall verdict, counts and every check."""
    results = list(results)
    return {
        "verdict": overall_verdict(results),
        "passed": sum(r.passed is True for r in results),
        "failed": sum(r.passed is False for r in results),
        "unmeasured": sum(r.passed is None for r in results),
        "checks": [r.to_dict() for r in results],
    }


def write_compliance(results: Iterable[CheckResult], path: Path, extra: Mapping[str, Any] | None = None) -> Path:
    """Write :func:`compliance_dict` (plus ``extra`` keys: claims, section_relevance, …) as UTF-8 JSON."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = compliance_dict(results)
    doc.update(extra or {})
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2, default=str),
                    encoding="utf-8")
    return path
