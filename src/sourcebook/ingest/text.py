"""Plain text, Markdown, HTML and generic (non-corpus) JSON intake.

Markdown (and HTML, converted to Markdown) is cut at headings: ``locator="§ Heading"``,
``loc["section"]`` = heading path. Text without headings and JSON use ``locator="part N"``.
Also home of two helpers the other document extractors share: :func:`decode_bytes` (encoding
detection) and :func:`pack_blocks` (pack paragraphs into passage-sized chunks without re-flowing them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sourcebook.ingest.base import ExtractContext, ExtractionError, register
from sourcebook.ingest.chunking import MAX, TARGET, chunk_text, text_units
from sourcebook.models import PassageDraft

_ATX = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^(```|~~~)")
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "svg", "canvas", "form", "button", "input",
              "select", "nav", "aside")
JSON_MAX_BYTES = 50 * 1024 * 1024
# C0 controls except tab, line feed, form feed and carriage return; DEL; C1 controls
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
BINARY_SHARE = 0.02  # above this share of control characters a "text" file is binary


_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")


def check_not_binary_bytes(data: bytes, path: Path) -> None:
    """Refuse binary data before any encoding detection (which is slow on random bytes): NULs or control
    bytes in a sample. UTF-16 text (with its BOM) is let through."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return
    sample = data[:65536] + data[len(data) // 2:len(data) // 2 + 65536]
    odd = len(_CONTROL_BYTES.findall(sample))
    if sample and odd / len(sample) > BINARY_SHARE:
        raise ExtractionError(f"binary content behind a text extension ({100 * odd / len(sample):.0f}% control "
                              f"bytes, {path.suffix or 'no extension'})", status="skipped")


def check_not_binary(text: str, path: Path) -> str:
    """Refuse text that is really binary (NUL runs, control bytes), else return it with stray control
    characters replaced by spaces. Raises :class:`ExtractionError` (status ``skipped``) naming the share."""
    sample = text[:65536] + text[len(text) // 2:len(text) // 2 + 65536]
    odd = len(_CONTROL.findall(sample))
    if sample and odd / len(sample) > BINARY_SHARE:
        share = 100 * odd / len(sample)
        raise ExtractionError(f"binary content behind a text extension ({share:.0f}% control bytes, "
                              f"{path.suffix or 'no extension'})", status="skipped")
    return _CONTROL.sub(" ", text)


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode ``data`` detecting its encoding (BOMs, UTF-8, then charset-normalizer; GB18030 and
    cp932 are tried for CJK text). Returns ``(text, encoding)``."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[:2_000_000], cp_isolation=None).best()
    candidates: list[str] = []
    if best is not None:
        candidates.append(best.encoding)
    candidates += ["gb18030", "cp932", "big5", "euc_kr", "cp1252"]
    scored: list[tuple[int, str, str]] = []
    for enc in dict.fromkeys(candidates):
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        scored.append((_oddness(text), enc, text))
        if enc == (best.encoding if best else None) and scored[-1][0] == 0:
            break
    if scored:
        scored.sort(key=lambda t: t[0])
        _, enc, text = scored[0]
        return text, enc
    return data.decode("utf-8", errors="replace"), "utf-8 (with replacements)"


def read_text_file(path: Path, what: str = "file") -> str:
    """Read a small text file (a request, a task) in whatever encoding it has (BOM, UTF-8, GB18030, …).

    Raises ``ValueError`` naming the file and the reason when it cannot be read or is not text."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ValueError(f"{path}: cannot read the {what} ({e.strerror or e})") from e
    text, encoding = decode_bytes(data)
    if "(with replacements)" in encoding or _CONTROL.search(text) or "\ufffd" in text:
        raise ValueError(f"{path}: the {what} is not readable text (unknown encoding or binary content)")
    return text


def _oddness(text: str) -> int:
    """How implausible a decoding looks: control characters, private-use and rare symbols."""
    odd = 0
    for ch in text[:20000]:
        o = ord(ch)
        control = o < 32 and ch not in "\t\r\n"
        private = 0xE000 <= o <= 0xF8FF or 0x80 <= o < 0xA0 or o == 0xFFFD
        halfwidth_kana = 0xFF61 <= o <= 0xFF9F  # common in mis-decoded GBK
        if control or private or halfwidth_kana:
            odd += 1
    return odd


def pack_blocks(blocks: Iterable[str], target: int = TARGET, maximum: int = MAX) -> Iterator[str]:
    """Pack paragraphs/blocks (kept verbatim, joined by blank lines) into chunks of about ``target``
    units; a block larger than ``maximum`` is split with :func:`chunk_text`."""
    buf: list[str] = []
    size = 0
    for block in blocks:
        block = block.strip()
        if not block:
            continue
        u = text_units(block)
        if u > maximum:
            if buf:
                yield "\n\n".join(buf)
                buf, size = [], 0
            yield from chunk_text(block, target=target, maximum=maximum)
            continue
        if buf and size + u > target:
            yield "\n\n".join(buf)
            buf, size = [], 0
        buf.append(block)
        size += u
    if buf:
        yield "\n\n".join(buf)


def split_blocks(text: str) -> list[str]:
    """Split text into blank-line separated blocks."""
    return [b for b in re.split(r"\n\s*\n", text) if b.strip()]


def markdown_sections(text: str) -> Iterator[tuple[list[str], str]]:
    """Yield ``(heading_path, section_text)`` for a Markdown document (fenced code is not parsed
    for headings); text before the first heading has an empty path."""
    path: list[str] = []
    levels: list[int] = []
    lines: list[str] = []
    in_fence = False
    for line in text.splitlines():
        if _FENCE.match(line.strip()):
            in_fence = not in_fence
        m = None if in_fence else _ATX.match(line)
        if m:
            if any(ln.strip() for ln in lines):
                yield list(path), "\n".join(lines)
            level = len(m.group(1))
            while levels and levels[-1] >= level:
                levels.pop()
                path.pop()
            levels.append(level)
            path.append(m.group(2).strip())
            lines = [line]
        else:
            lines.append(line)
    if any(ln.strip() for ln in lines):
        yield list(path), "\n".join(lines)


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    if not data.strip():
        raise ExtractionError("empty file", status="empty")
    check_not_binary_bytes(data, path)
    return data


def _markdown_passages(text: str, title: str) -> Iterator[PassageDraft]:
    sections = list(markdown_sections(text))
    if not any(p for p, _ in sections):
        yield from _parts(text, title)
        return
    part = 0
    carry = ""
    for heading_path, body in sections:
        if heading_path and len([ln for ln in body.splitlines() if ln.strip()]) == 1:
            carry += body.strip() + "\n\n"  # a heading with nothing under it joins the next section
            continue
        body = carry + body
        carry = ""
        if heading_path:
            locator = "§ " + heading_path[-1][:110]
        else:
            part += 1
            locator = f"part {part}"
        for chunk in pack_blocks(split_blocks(body)):
            yield PassageDraft(text=chunk, locator=locator, loc={"section": heading_path}, title=title)
    if carry.strip():
        yield PassageDraft(text=carry.strip(), locator="§ " + sections[-1][0][-1][:110],
                           loc={"section": sections[-1][0]}, title=title)


def _parts(text: str, title: str) -> Iterator[PassageDraft]:
    for n, chunk in enumerate(pack_blocks(split_blocks(text)), 1):
        yield PassageDraft(text=chunk, locator=f"part {n}", loc={"part": n}, title=title)


@register("text")
def extract_text(path: Path, ctx: ExtractContext) -> Iterator[PassageDraft]:
    """Plain text and Markdown files."""
    text, encoding = decode_bytes(_read(path))
    text = check_not_binary(text, path).replace("\r\n", "\n").replace("\r", "\n")
    ctx.meta["encoding"] = encoding
    ctx.meta["chars"] = len(text)
    title = ""
    m = re.search(r"^#\s+(.+)$", text, re.M)
    if m:
        title = m.group(1).strip()
    ctx.meta["title"] = title
    if path.suffix.lower() in (".md", ".markdown") or m:
        yield from _markdown_passages(text, title)
    else:
        yield from _parts(text, title)


def html_to_markdown(html: str) -> tuple[str, str]:
    """Convert HTML to Markdown, dropping scripts, styles, navigation and inline data images.
    Returns ``(title, markdown)``."""
    from bs4 import BeautifulSoup
    from markdownify import MarkdownConverter

    soup = BeautifulSoup(html, "html.parser")
    title = " ".join(soup.title.get_text().split()) if soup.title else ""
    for tag in soup(list(_DROP_TAGS)):
        tag.decompose()
    for img in soup.find_all("img"):
        src = img.get("src") or ""
        if src.startswith("data:"):
            img["src"] = src.split(",", 1)[0] + "..."
    body = _main_content(soup)
    md = MarkdownConverter(heading_style="ATX", bullets="-", strip=["head"]).convert_soup(body)
    md = re.sub(r"\n{3,}", "\n\n", md).strip()
    return title, md


_MAIN_SELECTORS = ("#mw-content-text", "main", "article", "[role=main]", "#content", ".post-content",
                   ".article-content", "#article")


def _main_content(soup: Any) -> Any:
    """The page's main content element when it is marked up (and holds most of the text), else the body."""
    body = soup.body or soup
    total = len(body.get_text(" ", strip=True))
    for selector in _MAIN_SELECTORS:
        found = soup.select(selector)
        if len(found) == 1 and len(found[0].get_text(" ", strip=True)) >= max(200, 0.3 * total):
            return found[0]
    return body


@register("html")
def extract_html(path: Path, ctx: ExtractContext) -> Iterator[PassageDraft]:
    """HTML pages, converted to Markdown and cut at headings."""
    text, encoding = decode_bytes(_read(path))
    title, md = html_to_markdown(check_not_binary(text, path))
    ctx.meta["encoding"] = encoding
    ctx.meta["title"] = title
    if not md.strip():
        raise ExtractionError("HTML page has no text", status="empty")
    yield from _markdown_passages(md, title)


def _pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


@register("json")
def extract_json(path: Path, ctx: ExtractContext) -> Iterator[PassageDraft]:
    """Generic JSON (and JSON Lines): pretty-printed and chunked, ``locator="part N"``."""
    size = path.stat().st_size
    if size == 0:
        raise ExtractionError("empty file", status="empty")
    if size > JSON_MAX_BYTES:
        raise ExtractionError(f"JSON too large to read as a document ({size // 2**20} MB)", status="skipped")
    text, _ = decode_bytes(_read(path))
    items: list[Any]
    if path.suffix.lower() == ".jsonl":
        items = []
        for i, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as e:
                if not items:
                    raise ExtractionError(f"malformed JSON: line {i}: {e}") from e
                ctx.warn(f"malformed JSON after record {len(items)}: line {i}: {e}")
                break
    else:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as e:
            raise ExtractionError(f"malformed JSON: {e}") from e
        items = value if isinstance(value, list) else [value]
    ctx.meta["records"] = len(items)
    if isinstance(items[0] if items else None, dict):
        title = next((str(items[0][k]) for k in ("title", "name") if k in items[0]), "")
    else:
        title = ""
    ctx.meta["title"] = title
    blocks = [_pretty(it) for it in items]
    for n, chunk in enumerate(pack_blocks(blocks), 1):
        yield PassageDraft(text=chunk, locator=f"part {n}", loc={"part": n}, title=title)
