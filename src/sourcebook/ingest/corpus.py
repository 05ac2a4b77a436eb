"""JSON article corpora: ``[{title, page_body|content|body|text, url?}, ...]``, streamed with ijson.

Each article is its own document: passages carry the article title, ``locator='"<title>", chunk N'``
(N from 1) and ``loc={"article": i, "chunk": N, "url": ...}`` where ``i`` is the 0-based position of
the article in the array. A truncated or malformed file keeps the articles read before the damage.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sourcebook.ingest.base import ExtractContext, ExtractionError, register
from sourcebook.ingest.chunking import chunk_text
from sourcebook.models import PassageDraft

BODY_KEYS = ("page_body", "content", "body", "text")
URL_KEYS = ("url", "link", "source_url", "href")
SAMPLE_TITLES = 8
_SPACES = re.compile(r"[ \t\u3000\xa0]+")
_BLANKS = re.compile(r"\n\s*\n+")


def _ijson() -> Any:
    import ijson

    try:
        return ijson.get_backend("yajl2_c")
    except Exception:  # C backend not built for this platform
        return ijson


def clean_body(text: str) -> str:
    """Normalise whitespace of an article body, keeping paragraph breaks."""
    if "&" in text:
        text = html.unescape(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANKS.sub("\n\n", text).strip()


def _field(obj: dict[str, Any], keys: tuple[str, ...]) -> str:
    for k in keys:
        v = obj.get(k)
        if isinstance(v, str) and v.strip():
            return v
    return ""


@register("corpus")
def extract_corpus(path: Path, ctx: ExtractContext) -> Iterator[PassageDraft]:
    """Yield the passages of every article of a JSON article corpus, streaming the file."""
    if path.stat().st_size == 0:
        raise ExtractionError("empty file", status="empty")
    backend = _ijson()
    articles = 0
    skipped = 0
    titles: list[str] = []
    ctx.meta["articles"] = 0
    ctx.meta["sample_titles"] = titles
    with path.open("rb") as f:
        items = backend.items(f, "item", use_float=True)
        i = -1
        while True:
            try:
                obj = next(items)
            except StopIteration:
                break
            except Exception as e:  # ijson.JSONError / IncompleteJSONError, or bad bytes
                if articles == 0 and skipped == 0:
                    raise ExtractionError(f"malformed JSON: {e}") from e
                ctx.warn(f"malformed JSON after article {i + 1}: {e}")
                break
            i += 1
            if not isinstance(obj, dict):
                skipped += 1
                continue
            body = clean_body(_field(obj, BODY_KEYS))
            if not body:
                skipped += 1
                continue
            title = " ".join(html.unescape(str(obj.get("title") or "")).split()) or f"article {i + 1}"
            url = _field(obj, URL_KEYS) or None
            articles += 1
            ctx.meta["articles"] = articles
            if len(titles) < SAMPLE_TITLES:
                titles.append(title)
            short = title if len(title) <= 80 else title[:79] + "…"
            for n, chunk in enumerate(chunk_text(body), 1):
                loc: dict[str, Any] = {"article": i, "chunk": n}
                if url:
                    loc["url"] = url
                yield PassageDraft(text=chunk, locator=f'"{short}", chunk {n}', loc=loc, title=title)
    if skipped:
        ctx.meta["skipped_items"] = skipped
    if articles == 0:
        if i < 0:
            raise ExtractionError("corpus has no articles", status="empty")
        raise ExtractionError(f"no article with a title and body among {i + 1} items", status="empty")
