"""Render a :class:`Draft` into the final report files: Markdown, self-contained HTML and DOCX.

Inline ``[@passage_id]`` markers become ``[1]``, ``[2]``… in order of first appearance; passages with the same
citation label share a number; ids that do not resolve are removed (and returned, and logged). The references
section lists each number with its locator (``pdf.pdf, p. 3``, ``006law.pptx, slide 5``, ``video.mp4, 03:12``,
``yahoo_data.xlsx, Sheet1!A2:G40``, corpus article title + chunk), under the request's own title for that
section when it requires one, else ``参考资料`` / ``References``.
"""

from __future__ import annotations

import base64
import html
import logging
import mimetypes
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sourcebook.models import Passage
from sourcebook.report.prose import has_cjk
from sourcebook.report.requirements import is_reference_title, reference_section_title
from sourcebook.report.types import Draft, DraftSection, Requirements

__all__ = ["Reference", "RenderResult", "number_citations", "render_markdown", "render_html", "render_docx",
           "render_report"]

log = logging.getLogger(__name__)

_CLUSTER = re.compile(r"[ \t]*\[@[A-Za-z0-9_\-:.]+\](?:\s*\[@[A-Za-z0-9_\-:.]+\])*")
_ID = re.compile(r"\[@([A-Za-z0-9_\-:.]+)\]")
_OPEN, _CLOSE = "\ue000", "\ue001"  # citation placeholders that survive Markdown rendering
_PLACEHOLDER = re.compile(f"{_OPEN}(\\d+){_CLOSE}")

CJK_FONT_STACK = ('"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", '
                  '"WenQuanYi Micro Hei", -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif')

_CSS = """
body { max-width: 860px; margin: 2rem auto; padding: 0 1.2rem; font-family: FONTS;
       line-height: 1.8; color: #222; background: #fff; }
h1 { font-size: 1.8rem; line-height: 1.4; border-bottom: 2px solid #333; padding-bottom: .4rem; }
h2 { font-size: 1.35rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
h3 { font-size: 1.15rem; margin-top: 1.4rem; }
p { margin: .7rem 0; text-align: justify; }
table { border-collapse: collapse; margin: 1rem 0; width: 100%; font-size: .92rem; }
th, td { border: 1px solid #bbb; padding: .35rem .6rem; vertical-align: top; }
th { background: #f3f3f3; }
figure { margin: 1.2rem 0; text-align: center; }
figure img { max-width: 100%; height: auto; }
figcaption { font-size: .9rem; color: #555; margin-top: .3rem; }
a.cite { text-decoration: none; color: #1a5fb4; font-size: .85em; }
.references p, .references li { font-size: .92rem; margin: .3rem 0; }
.gap { color: #6b4e00; background: #fff8e1; padding: .4rem .7rem; border-left: 3px solid #e0a800; }
code { background: #f5f5f5; padding: 0 .2rem; }
""".replace("FONTS", CJK_FONT_STACK)


@dataclass
class Reference:
    """One numbered entry of the references section."""

    number: int
    label: str                 # e.g. "pdf.pdf, p. 3" (no brackets)
    source: str
    locator: str
    kind: str = ""
    title: str = ""
    passage_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "label": self.label, "source": self.source, "locator": self.locator,
                "kind": self.kind, "title": self.title, "passage_ids": list(self.passage_ids)}


@dataclass
class RenderResult:
    """What rendering produced: file paths per format, the numbered references, removed ids, texts."""

    paths: dict[str, Path]
    references: list[Reference]
    removed_ids: list[str]
    body_text: str             # Markdown of the report without the references section (for checks)
    markdown: str              # the full Markdown report
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Numbered:
    title: str
    sections: list[tuple[DraftSection, str]]   # (section, body with placeholders)
    ref_index: int | None                      # position of the references section among ``sections``
    ref_title: str
    references: list[Reference]
    removed: list[str]
    language: str
    no_bullets: bool
    warnings: list[str]


def _reference_label(p: Passage) -> str:
    label = p.label
    if label.startswith("[") and label.endswith("]"):
        label = label[1:-1]
    if p.kind == "corpus" and p.title and p.title not in label:
        label = f"{label} — {p.title}"
    return label


def _delist(body: str) -> tuple[str, int]:
    """Turn Markdown list items into plain paragraphs (for requests that forbid bullet points)."""
    count = 0

    def bullet(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return "\n" + m.group(1)

    def numbered(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f"\n（{m.group(1)}）{m.group(2)}" if has_cjk(m.group(2)) else \
            f"\n({m.group(1)}) {m.group(2)}"

    out = re.sub(r"^[ \t]*[-*+•][ \t]+(.*)$", bullet, body, flags=re.M)
    out = re.sub(r"^[ \t]*(\d{1,3})[.)][ \t]+(.*)$", numbered, out, flags=re.M)
    return out, count


def number_citations(draft: Draft, resolve: Callable[[str], Passage | None],
                     req: Requirements | None = None) -> _Numbered:
    """Number the draft's citations in order of first appearance and pick the references title/slot."""
    language = (req.language if req else None) or draft.language or "zh"
    no_bullets = bool(req and req.no_bullets)
    by_label: dict[str, Reference] = {}
    by_id: dict[str, int | None] = {}
    removed: list[str] = []
    warnings: list[str] = []

    def number_for(pid: str) -> int | None:
        if pid in by_id:
            return by_id[pid]
        passage = resolve(pid)
        if passage is None:
            by_id[pid] = None
            removed.append(pid)
            log.warning("citation [@%s] does not resolve to a passage; removed", pid)
            return None
        label = _reference_label(passage)
        ref = by_label.get(label)
        if ref is None:
            ref = Reference(len(by_label) + 1, label, passage.source, passage.locator, passage.kind, passage.title)
            by_label[label] = ref
        ref.passage_ids.append(pid)
        by_id[pid] = ref.number
        return ref.number

    def replace(m: re.Match[str]) -> str:
        nums: list[int] = []
        for pid in _ID.findall(m.group(0)):
            n = number_for(pid)
            if n is not None and n not in nums:
                nums.append(n)
        if not nums:
            return ""
        lead = m.group(0)[: len(m.group(0)) - len(m.group(0).lstrip(" \t"))]
        return lead + "".join(f"{_OPEN}{n}{_CLOSE}" for n in nums)

    sections: list[tuple[DraftSection, str]] = []
    ref_index: int | None = None
    ref_title: str | None = None
    for sec in draft.sections:
        if sec.is_references or (is_reference_title(sec.title) and not sec.body.strip()):
            ref_index = len(sections)
            ref_title = sec.title
            sections.append((sec, ""))
            continue
        body = _CLUSTER.sub(replace, sec.body)
        body = re.sub(r"[ \t]+([，。；：！？、,.;:!?）)])", r"\1", body)
        if no_bullets:
            body, n = _delist(body)
            if n:
                warnings.append(f"{sec.title}: {n} list items written as paragraphs (the request forbids lists)")
        sections.append((sec, body.strip()))
    if ref_title is None:
        ref_title = (reference_section_title(req) if req else None) or ("参考资料" if language == "zh" else "References")
    return _Numbered(draft.title, sections, ref_index, ref_title, list(by_label.values()), removed, language,
                     no_bullets, warnings)


# ------------------------------------------------------------------------------------------------ figures


def _provenance_text(prov: Any, zh: bool) -> str:
    if not prov:
        return ""
    if isinstance(prov, str):
        return prov
    parts = []
    inputs = prov.get("inputs") or prov.get("input") or prov.get("sources")
    if inputs:
        inputs = [inputs] if isinstance(inputs, str) else list(inputs)
        parts.append(("数据来源：" if zh else "data: ") + ", ".join(str(i) for i in inputs))
    code = prov.get("code")
    if code:
        code = str(code)
        shown = code if len(code) <= 80 and "\n" not in code else ("见运行记录" if zh else "see run records")
        parts.append(("生成代码：" if zh else "code: ") + shown)
    return ("；" if zh else "; ").join(parts)


def _figure_caption(number: int, fig: dict[str, Any], zh: bool) -> str:
    caption = str(fig.get("caption") or "").strip()
    prov = _provenance_text(fig.get("provenance"), zh)
    head = f"图{number}：{caption}" if zh else f"Figure {number}: {caption}"
    if prov:
        head += f"（{prov}）" if zh else f" ({prov})"
    return head


def _figures(numbered: _Numbered) -> list[tuple[int, int, dict[str, Any], Path]]:
    """(section index, figure number, figure, path) for figures whose file exists; warns about the rest."""
    out = []
    n = 0
    for si, (sec, _body) in enumerate(numbered.sections):
        for fig in sec.figures or []:
            path = Path(str(fig.get("path", "")))
            if not fig.get("path") or not path.is_file():
                msg = f"figure {fig.get('path')!r} in section {sec.title!r} not found; left out"
                numbered.warnings.append(msg)
                log.warning(msg)
                continue
            n += 1
            out.append((si, n, fig, path))
    return out


# ------------------------------------------------------------------------------------------------ markdown


def _gap_text(gap: str, zh: bool) -> str:
    return f"（资料说明：{gap}）" if zh else f"(Note on sources: {gap})"


def _md_cites(text: str) -> str:
    return _PLACEHOLDER.sub(lambda m: f"[{m.group(1)}]", text)


def render_markdown(numbered: _Numbered, out_dir: Path | None = None) -> tuple[str, str]:
    """(full Markdown, Markdown without the references section). Figures outside ``out_dir`` are copied into
    ``out_dir/figures`` and linked relatively."""
    zh = numbered.language == "zh"
    figs = _figures(numbered)
    parts = [f"# {numbered.title}", ""]
    body_parts = list(parts)
    refs_md = _references_md(numbered)
    used_names: set[str] = set()
    for si, (sec, body) in enumerate(numbered.sections):
        if si == numbered.ref_index:
            parts += [refs_md, ""]
            continue
        chunk = [f"## {sec.title}", ""]
        if body:
            chunk += [_md_cites(body), ""]
        for gap in sec.gaps:
            chunk += [f"*{_gap_text(gap, zh)}*", ""]
        for fsi, num, fig, path in figs:
            if fsi != si:
                continue
            link = str(path)
            if out_dir is not None:
                link = _figure_link(path, Path(out_dir), used_names)
            caption = _figure_caption(num, fig, zh)
            chunk += [f"![{caption}]({link})", "", f"*{caption}*", ""]
        parts += chunk
        body_parts += chunk
    if numbered.ref_index is None and (numbered.references or numbered.removed):
        parts += [refs_md, ""]
    return "\n".join(parts).rstrip() + "\n", "\n".join(body_parts).rstrip() + "\n"


def _figure_link(path: Path, out_dir: Path, used: set[str]) -> str:
    out_dir = out_dir.resolve()
    src = path.resolve()
    try:
        return src.relative_to(out_dir).as_posix()
    except ValueError:
        pass
    name = src.name
    stem, suffix = src.stem, src.suffix
    k = 1
    while name in used:
        k += 1
        name = f"{stem}_{k}{suffix}"
    used.add(name)
    dest = out_dir / "figures" / name
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.exists() or dest.stat().st_size != src.stat().st_size:
        shutil.copy2(src, dest)
    return f"figures/{name}"


def _references_md(numbered: _Numbered) -> str:
    lines = [f"## {numbered.ref_title}", ""]
    if not numbered.references:
        lines.append("本报告正文未引用资料。" if numbered.language == "zh" else "The report cites no sources.")
    for ref in numbered.references:
        lines += [f"[{ref.number}] {ref.label}", ""]
    return "\n".join(lines).rstrip()


# ------------------------------------------------------------------------------------------------ html


def _md_renderer() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")


def _html_cites(fragment: str) -> str:
    return _PLACEHOLDER.sub(lambda m: f'<a class="cite" href="#ref-{m.group(1)}">[{m.group(1)}]</a>', fragment)


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def render_html(numbered: _Numbered) -> str:
    """A self-contained HTML page: inline CSS, CJK font stack, figures as data URIs, anchored references."""
    md = _md_renderer()
    zh = numbered.language == "zh"
    figs = _figures(numbered)
    esc = html.escape
    out = ["<!DOCTYPE html>", f'<html lang="{"zh-CN" if zh else "en"}">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{esc(numbered.title)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>", "<main>",
           f"<h1>{esc(numbered.title)}</h1>"]
    refs_html = _references_html(numbered)
    for si, (sec, body) in enumerate(numbered.sections):
        if si == numbered.ref_index:
            out.append(refs_html)
            continue
        out.append("<section>")
        out.append(f"<h2>{esc(sec.title)}</h2>")
        if body:
            out.append(_html_cites(md.render(body)))
        for gap in sec.gaps:
            out.append(f'<p class="gap">{esc(_gap_text(gap, zh))}</p>')
        for fsi, num, fig, path in figs:
            if fsi == si:
                cap = esc(_figure_caption(num, fig, zh))
                out.append(f'<figure><img src="{_data_uri(path)}" alt="{cap}"><figcaption>{cap}</figcaption></figure>')
        out.append("</section>")
    if numbered.ref_index is None and (numbered.references or numbered.removed):
        out.append(refs_html)
    out += ["</main>", "</body>", "</html>"]
    return "\n".join(out) + "\n"


def _references_html(numbered: _Numbered) -> str:
    esc = html.escape
    parts = ['<section class="references">', f"<h2>{esc(numbered.ref_title)}</h2>"]
    if not numbered.references:
        parts.append(f"<p>{'本报告正文未引用资料。' if numbered.language == 'zh' else 'The report cites no sources.'}</p>")
    elif numbered.no_bullets:
        parts += [f'<p id="ref-{r.number}">[{r.number}] {esc(r.label)}</p>' for r in numbered.references]
    else:
        parts.append("<ol>")
        parts += [f'<li id="ref-{r.number}" value="{r.number}">{esc(r.label)}</li>' for r in numbered.references]
        parts.append("</ol>")
    parts.append("</section>")
    return "\n".join(parts)


# ------------------------------------------------------------------------------------------------ docx


def _docx_inline(paragraph: Any, children: Iterable[Any]) -> None:
    bold = italic = False
    for child in children:
        t = child.type
        if t == "strong_open":
            bold = True
        elif t == "strong_close":
            bold = False
        elif t == "em_open":
            italic = True
        elif t == "em_close":
            italic = False
        elif t in ("softbreak", "hardbreak"):
            paragraph.add_run("\n" if t == "hardbreak" else " ")
        elif t in ("text", "code_inline"):
            run = paragraph.add_run(_md_cites(child.content))
            run.bold = bold or None
            run.italic = italic or None
            if t == "code_inline":
                run.font.name = "Consolas"
        elif t == "image":
            paragraph.add_run(child.content or "")


def _docx_markdown(doc: Any, text: str, no_bullets: bool) -> None:
    tokens = _md_renderer().parse(text)
    list_stack: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open":
            level = min(9, int(tok.tag[1]) + 1)
            h = doc.add_heading(level=level)
            _docx_inline(h, tokens[i + 1].children or [])
            i += 3
            continue
        if tok.type in ("bullet_list_open", "ordered_list_open"):
            list_stack.append("List Bullet" if tok.type == "bullet_list_open" else "List Number")
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            list_stack.pop()
        elif tok.type == "paragraph_open":
            style = list_stack[-1] if list_stack and not no_bullets else None
            try:
                p = doc.add_paragraph(style=style)
            except KeyError:
                p = doc.add_paragraph()
            _docx_inline(p, tokens[i + 1].children or [])
            i += 3
            continue
        elif tok.type in ("fence", "code_block"):
            p = doc.add_paragraph()
            run = p.add_run(tok.content.rstrip("\n"))
            run.font.name = "Consolas"
        elif tok.type == "table_open":
            rows: list[list[Any]] = []
            j = i + 1
            while tokens[j].type != "table_close":
                if tokens[j].type == "tr_open":
                    rows.append([])
                elif tokens[j].type == "inline" and rows:
                    rows[-1].append(tokens[j])
                j += 1
            if rows:
                ncols = max(len(r) for r in rows)
                table = doc.add_table(rows=len(rows), cols=ncols)
                try:
                    table.style = "Table Grid"
                except (KeyError, ValueError):
                    pass
                for r, row in enumerate(rows):
                    for c, cell_tok in enumerate(row):
                        para = table.cell(r, c).paragraphs[0]
                        _docx_inline(para, cell_tok.children or [])
                        if r == 0:
                            for run in para.runs:
                                run.bold = True
            i = j + 1
            continue
        i += 1


# characters XML 1.0 cannot hold (C0 controls but tab/newline/CR, lone surrogates, U+FFFE/U+FFFF)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` with the characters XML cannot hold replaced by spaces (DOCX is XML)."""
    return _NOT_XML.sub(" ", text)


def render_docx(numbered: _Numbered, path: Path) -> Path:
    """Write a DOCX: title, section headings, paragraphs, tables, figures and the references."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Inches, Pt

    zh = numbered.language == "zh"
    doc = docx.Document()
    normal = doc.styles["Normal"]
    normal.font.size = Pt(11)
    rpr = normal.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), "宋体" if zh else "Calibri")
    doc.add_heading(xml_safe(numbered.title), level=0)
    figs = _figures(numbered)

    def add_refs() -> None:
        doc.add_heading(xml_safe(numbered.ref_title), level=1)
        if not numbered.references:
            doc.add_paragraph("本报告正文未引用资料。" if zh else "The report cites no sources.")
        for ref in numbered.references:
            doc.add_paragraph(xml_safe(f"[{ref.number}] {ref.label}"))

    for si, (sec, body) in enumerate(numbered.sections):
        if si == numbered.ref_index:
            add_refs()
            continue
        doc.add_heading(xml_safe(sec.title), level=1)
        if body:
            _docx_markdown(doc, xml_safe(body), numbered.no_bullets)
        for gap in sec.gaps:
            p = doc.add_paragraph()
            p.add_run(xml_safe(_gap_text(gap, zh))).italic = True
        for fsi, num, fig, fpath in figs:
            if fsi != si:
                continue
            try:
                doc.add_picture(str(fpath), width=Inches(6))
                doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            except Exception as exc:  # unreadable image: keep the caption, say why
                numbered.warnings.append(f"figure {fpath} could not be embedded in DOCX: {exc}")
            cap = doc.add_paragraph(xml_safe(_figure_caption(num, fig, zh)))
            cap.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if numbered.ref_index is None and (numbered.references or numbered.removed):
        add_refs()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


# ------------------------------------------------------------------------------------------------ entry


_FORMAT_ALIASES = {"md": "md", "markdown": "md", "html": "html", "htm": "html", "docx": "docx", "word": "docx"}


def render_report(draft: Draft, resolve: Callable[[str], Passage | None], out_dir: Path,
                  formats: Iterable[str] = ("md", "html"), req: Requirements | None = None,
                  basename: str = "report") -> RenderResult:
    """Number citations, build the references section and write the report in each of ``formats``
    (``md``, ``html``, ``docx``) to ``out_dir/<basename>.<ext>``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = []
    for f in formats:
        key = _FORMAT_ALIASES.get(f.lower().lstrip("."))
        if key is None:
            raise ValueError(f"unknown report format {f!r} (use md, html or docx)")
        if key not in wanted:
            wanted.append(key)
    numbered = number_citations(draft, resolve, req)
    markdown, body = render_markdown(numbered, out_dir)
    paths: dict[str, Path] = {}
    if "md" in wanted:
        paths["md"] = out_dir / f"{basename}.md"
        paths["md"].write_text(markdown, encoding="utf-8")
    if "html" in wanted:
        paths["html"] = out_dir / f"{basename}.html"
        paths["html"].write_text(render_html(numbered), encoding="utf-8")
    if "docx" in wanted:
        paths["docx"] = render_docx(numbered, out_dir / f"{basename}.docx")
    return RenderResult(paths=paths, references=numbered.references, removed_ids=numbered.removed,
                        body_text=body, markdown=markdown, warnings=list(dict.fromkeys(numbered.warnings)))
