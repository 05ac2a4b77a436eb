"""Reading a report file (md / txt / html / docx) and parsing it into title, sections, body and
references."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sourcebook.report.requirements import is_reference_title


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
        if re.search(r"[：:]\s*\S", s.strip("*# ")):
            continue  # "资料来源：统计公报" states a source inline; it is not a heading
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
