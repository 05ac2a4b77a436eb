"""Text, Markdown, HTML, generic JSON and article corpus extractors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sourcebook.ingest.base import ExtractionError
from sourcebook.ingest.text import decode_bytes, pack_blocks
from tests.docgen import make_corpus
from tests.docgen import run_extractor as run


def test_decode_bytes_encodings() -> None:
    zh = "中华人民共和国国务院公报，第三十一号。" * 5
    ja = "日本語のテキストです。東京と大阪。" * 5
    text, encoding = decode_bytes(zh.encode("gbk"))
    assert text == zh and encoding in ("gb18030", "gbk", "gb2312")
    assert decode_bytes(ja.encode("cp932"))[0] == ja
    assert decode_bytes(("\ufeff" + zh).encode("utf-8")) == (zh, "utf-8-sig")
    assert decode_bytes(zh.encode("utf-8")) == (zh, "utf-8")


def test_pack_blocks_keeps_blocks_verbatim() -> None:
    blocks = [f"Paragraph {i} has a few words; and ![alt](data:image/png;base64...) stays." for i in range(40)]
    chunks = list(pack_blocks(blocks))
    assert len(chunks) > 1
    assert "\n\n".join(chunks) == "\n\n".join(blocks)


def test_markdown_sections(tmp_path: Path) -> None:
    md = tmp_path / "notes.md"
    md.write_text("Intro line before headings.\n\n# Guide\n\n## Install\n\nRun the installer.\n\n"
                  "```\n# not a heading\n```\n\n## Use\n\nOpen the app.\n", encoding="utf-8")
    passages, ctx = run("text", md, tmp_path)
    assert ctx.meta["title"] == "Guide"
    locs = [p.locator for p in passages]
    assert locs == ["part 1", "§ Install", "§ Use"]
    install = passages[1]
    assert install.loc["section"] == ["Guide", "Install"]
    assert "# Guide" in install.text  # an empty parent heading travels with its first child
    assert "# not a heading" in install.text


def test_plain_text_gbk_parts(tmp_path: Path) -> None:
    txt = tmp_path / "报告.txt"
    body = "\n\n".join(f"第{i}段：经济运行总体平稳，就业形势基本稳定，居民收入持续增长。" * 3 for i in range(60))
    txt.write_bytes(body.encode("gbk"))
    passages, ctx = run("text", txt, tmp_path)
    assert ctx.meta["encoding"] in ("gb18030", "gbk", "gb2312")
    assert [p.locator for p in passages] == [f"part {i}" for i in range(1, len(passages) + 1)]
    assert len(passages) > 3
    assert "第59段" in passages[-1].text


def test_html_to_markdown(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>Solar Notes</title><style>p{color:red}</style></head><body>"
        "<nav>Home | About | move to sidebar</nav><script>var secret = 1;</script>"
        "<h1>Solar power</h1><p>Panels convert <b>sunlight</b> to power, see <a href='/x'>docs</a>.</p>"
        "<h2>Costs</h2><p>Prices fell 80% in ten years.</p>"
        "<img src='data:image/png;base64,iVBORw0KGgoAAAANSUhEUg' alt='chart'></body></html>",
        encoding="utf-8",
    )
    passages, ctx = run("html", page, tmp_path)
    assert ctx.meta["title"] == "Solar Notes"
    text = "\n".join(p.text for p in passages)
    assert "Panels convert **sunlight** to power, see [docs](/x)." in text
    assert "var secret" not in text and "color:red" not in text and "move to sidebar" not in text
    assert "iVBORw0KGgo" not in text
    assert [p.locator for p in passages] == ["§ Solar power", "§ Costs"]


def test_json_generic_and_errors(tmp_path: Path) -> None:
    data = tmp_path / "config.json"
    data.write_text(json.dumps({"name": "demo", "items": [{"id": i, "label": f"item {i}"} for i in range(5)]}),
                    encoding="utf-8")
    passages, ctx = run("json", data, tmp_path)
    assert passages[0].locator == "part 1"
    assert '"label": "item 4"' in "\n".join(p.text for p in passages)
    assert ctx.meta["title"] == "demo"

    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    with pytest.raises(ExtractionError) as err:
        run("json", empty, tmp_path)
    assert (err.value.reason, err.value.status) == ("empty file", "empty")

    bad = tmp_path / "bad.json"
    bad.write_text('{"a": [1, 2,', encoding="utf-8")
    with pytest.raises(ExtractionError, match="^malformed JSON: "):
        run("json", bad, tmp_path)


ARTICLES = [
    {"title": "碳中和路线图", "page_body": "我国提出碳达峰碳中和目标。" * 80, "url": "https://a.example/1"},
    {"title": "Wind &amp; Solar", "content": "Wind and solar capacity doubled in five years. " * 10},
    {"title": "没有正文", "page_body": ""},
    {"title": "储能", "page_body": "储能是新型电力系统的关键。" * 5},
]


def test_corpus_articles(tmp_path: Path) -> None:
    path = make_corpus(tmp_path / "long_context.json", ARTICLES)
    passages, ctx = run("corpus", path, tmp_path)
    assert ctx.meta["articles"] == 3
    assert ctx.meta["sample_titles"] == ["碳中和路线图", "Wind & Solar", "储能"]
    assert ctx.meta["skipped_items"] == 1
    first = [p for p in passages if p.loc["article"] == 0]
    assert len(first) > 1
    assert [p.loc["chunk"] for p in first] == list(range(1, len(first) + 1))
    assert first[1].locator == '"碳中和路线图", chunk 2'
    assert first[0].loc["url"] == "https://a.example/1" and first[0].title == "碳中和路线图"
    last = [p for p in passages if p.loc["article"] == 3]
    assert last[0].locator == '"储能", chunk 1' and "url" not in last[0].loc
    assert not ctx.warnings


def test_corpus_truncated_keeps_articles(tmp_path: Path) -> None:
    full = json.dumps(ARTICLES, ensure_ascii=False, indent=1).encode()
    cut = full.index("储能".encode()) + 2
    path = make_corpus(tmp_path / "cut.json", ARTICLES, truncate_at=cut)
    passages, ctx = run("corpus", path, tmp_path)
    assert ctx.meta["articles"] == 2
    assert len(ctx.warnings) == 1 and ctx.warnings[0].startswith("malformed JSON after article 3")
    assert {p.loc["article"] for p in passages} == {0, 1}


def test_corpus_unreadable_and_empty(tmp_path: Path) -> None:
    empty = tmp_path / "long_context.json"
    empty.write_bytes(b"")
    with pytest.raises(ExtractionError) as err:
        run("corpus", empty, tmp_path)
    assert (err.value.reason, err.value.status) == ("empty file", "empty")
    broken = tmp_path / "broken.json"
    broken.write_bytes(b'[{"title": "x", "page_body": "unterminated')
    with pytest.raises(ExtractionError, match="malformed JSON"):
        run("corpus", broken, tmp_path)


def test_html_main_content_preferred(tmp_path: Path) -> None:
    article = " ".join(f"The committee reviewed clause {i} of the draft and agreed on wording." for i in range(20))
    page = tmp_path / "news.html"
    page.write_text(
        "<html><head><title>News</title></head><body>"
        "<div class='header'>Log in to create an account · 154 languages</div>"
        f"<main><h1>Draft agreed</h1><p>{article}</p></main>"
        "<aside>Related: celebrity gossip</aside><div class='footer'>© Example Media</div></body></html>",
        encoding="utf-8",
    )
    passages, _ = run("html", page, tmp_path)
    text = "\n".join(p.text for p in passages)
    assert "clause 19 of the draft" in text
    assert "154 languages" not in text and "celebrity gossip" not in text and "Example Media" not in text
