"""Rendering a draft: citation numbering, references with locators, Markdown / HTML / DOCX outputs, figures."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import docx
import pytest
from bs4 import BeautifulSoup
from PIL import Image

from sourcebook.models import Passage
from sourcebook.report.checks import check_text, read_report
from sourcebook.report.render import render_report
from sourcebook.report.requirements import parse_request
from sourcebook.report.types import Draft, DraftSection

PASSAGES = {
    "pdf-3": Passage("pdf-3", "pdf.pdf", "pdf", 2, "t", "p. 3", {"page": 3}),
    "pdf-3b": Passage("pdf-3b", "pdf.pdf", "pdf", 3, "t2", "p. 3", {"page": 3}),
    "ppt-5": Passage("ppt-5", "slides/006law.pptx", "pptx", 4, "t", "slide 5", {"slide": 5}),
    "vid-1": Passage("vid-1", "video.mp4", "video", 0, "t", "03:12", {"start_s": 192}),
    "xls-1": Passage("xls-1", "yahoo_data.xlsx", "sheet", 0, "t", "Sheet1!A2:G40", {}),
    "art-2": Passage("art-2", "long_context.json", "corpus", 7, "t", '"十五五规划要点", chunk 2', {}, "十五五规划要点"),
}

REQ = ("撰写《测试报告》，包含以下章节：（1）引言；（2）分析；（3）参考资料。")


@pytest.fixture()
def figure(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "chart.png"
    path.parent.mkdir()
    Image.new("RGB", (60, 40), (200, 30, 30)).save(path)
    return path


def make_draft(figure: Path | None = None, refs_title: str | None = "（3）参考资料") -> Draft:
    sections = [
        DraftSection("（1）引言", "第一句引用幻灯片[@ppt-5]，第二句引用论文[@pdf-3][@vid-1]。\n\n"
                               "同一页的另一段[@pdf-3b]，不存在的引用[@nope] 。"),
        DraftSection("（2）分析", "表格如下：\n\n| 指标 | 值 |\n|---|---|\n| 收盘价 | 12.5[@xls-1] |\n\n"
                               "再次引用幻灯片[@ppt-5]与文章[@art-2]。\n\n- 要点一[@vid-1]\n- 要点二",
                     gaps=["讲解视频原件缺失，未能引用"],
                     figures=[{"path": str(figure), "caption": "收盘价走势",
                               "provenance": {"code": "plot_close.py", "inputs": ["yahoo_data.xlsx"]}}]
                     if figure else []),
    ]
    if refs_title:
        sections.append(DraftSection(refs_title, is_references=True))
    return Draft("测试报告", sections)


def test_numbering_and_references(tmp_path: Path, figure: Path) -> None:
    res = render_report(make_draft(figure), PASSAGES.get, tmp_path / "out", ("md",), parse_request(REQ))
    labels = [r.label for r in res.references]
    assert labels == ["006law.pptx, slide 5", "pdf.pdf, p. 3", "video.mp4, 03:12", "yahoo_data.xlsx, Sheet1!A2:G40",
                      'long_context: "十五五规划要点", chunk 2']
    assert [r.number for r in res.references] == [1, 2, 3, 4, 5]
    assert res.references[1].passage_ids == ["pdf-3", "pdf-3b"]  # same label → same number
    assert res.removed_ids == ["nope"]
    md = res.markdown
    assert "第一句引用幻灯片[1]，第二句引用论文[2][3]。" in md
    assert "同一页的另一段[2]，不存在的引用。" in md
    assert "[@" not in md
    assert "## （3）参考资料" in md and "[5] long_context" in md
    assert md.index("## （2）分析") < md.index("## （3）参考资料")
    assert "（资料说明：讲解视频原件缺失，未能引用）" in md
    # the figure is copied next to the report and linked relatively, with caption and provenance
    assert "](figures/chart.png)" in md and (tmp_path / "out" / "figures" / "chart.png").is_file()
    assert "图1：收盘价走势（数据来源：yahoo_data.xlsx；生成代码：plot_close.py）" in md
    assert "参考资料" not in res.body_text and "[1]" in res.body_text
    # every cited number has an entry, and the rendered file passes the structural checks
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", res.body_text)}
    assert cited == {1, 2, 3, 4, 5}
    checks = {c.name: c for c in check_text(res.paths["md"].read_text(encoding="utf-8"), parse_request(REQ))}
    assert checks["sections_present"].passed and checks["sections_order"].passed
    assert checks["citations_numbered"].passed and checks["citations_present"].passed


def test_references_title_from_request_or_language(tmp_path: Path) -> None:
    req = parse_request("撰写报告，包含：（1）引言；（2）分析；（3）参考文献。")
    res = render_report(make_draft(refs_title=None), PASSAGES.get, tmp_path / "a", ("md",), req)
    assert "## 参考文献" in res.markdown
    res = render_report(make_draft(refs_title=None), PASSAGES.get, tmp_path / "b", ("md",), parse_request("写报告"))
    assert "## 参考资料" in res.markdown
    draft = make_draft(refs_title=None)
    draft.language = "en"
    res = render_report(draft, PASSAGES.get, tmp_path / "c", ("md",), None)
    assert "## References" in res.markdown


def test_html_self_contained(tmp_path: Path, figure: Path) -> None:
    res = render_report(make_draft(figure), PASSAGES.get, tmp_path / "out", ("html",), parse_request(REQ))
    html = res.paths["html"].read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    assert soup.find("meta", attrs={"charset": "utf-8"}) is not None
    assert "Noto Sans CJK SC" in soup.style.get_text()
    assert not soup.find("link") and not soup.find("script")
    img = soup.find("img")
    assert img["src"].startswith("data:image/png;base64,")
    assert base64.b64decode(img["src"].split(",", 1)[1]) == figure.read_bytes()
    cites = soup.select("a.cite")
    assert cites and all(soup.find(id=a["href"][1:]) is not None for a in cites)
    assert soup.find(id="ref-5").get_text().endswith('"十五五规划要点", chunk 2')
    assert soup.find("table") is not None
    assert soup.find("ul") is not None  # lists allowed by this request
    assert soup.title.get_text() == "测试报告"


def test_html_no_bullets(tmp_path: Path) -> None:
    req = parse_request(REQ + "不要分点回答，返回html格式。")
    res = render_report(make_draft(), PASSAGES.get, tmp_path, ("html", "md"), req)
    soup = BeautifulSoup(res.paths["html"].read_text(encoding="utf-8"), "html.parser")
    assert not soup.find_all(["ul", "ol", "li"])
    assert soup.find("p", id="ref-1") is not None
    assert any("list items written as paragraphs" in w for w in res.warnings)
    text, fmt = read_report(res.paths["html"])
    checks = {c.name: c for c in check_text(text, req, fmt)}
    assert checks["no_bullets"].passed is True and checks["format"].passed is True
    assert checks["citations_numbered"].passed is True


def test_docx(tmp_path: Path, figure: Path) -> None:
    res = render_report(make_draft(figure), PASSAGES.get, tmp_path, ("docx",), parse_request(REQ))
    d = docx.Document(str(res.paths["docx"]))
    headings = [p.text for p in d.paragraphs if p.style.name.startswith("Heading") or p.style.name == "Title"]
    assert headings == ["测试报告", "（1）引言", "（2）分析", "（3）参考资料"]
    texts = [p.text for p in d.paragraphs]
    assert "[1] 006law.pptx, slide 5" in texts
    assert any("第一句引用幻灯片[1]" in t for t in texts)
    assert len(d.inline_shapes) == 1
    assert len(d.tables) == 1 and d.tables[0].cell(1, 1).text == "12.5[4]"
    text, fmt = read_report(res.paths["docx"])
    checks = {c.name: c for c in check_text(text, parse_request(REQ), fmt)}
    assert checks["sections_present"].passed and checks["citations_numbered"].passed


def test_missing_figure_and_bad_format(tmp_path: Path) -> None:
    res = render_report(make_draft(tmp_path / "gone.png"), PASSAGES.get, tmp_path, ("md", "html", "docx"))
    assert any("gone.png" in w for w in res.warnings)
    assert "gone.png" not in res.markdown
    with pytest.raises(ValueError, match="pdf"):
        render_report(make_draft(), PASSAGES.get, tmp_path, ("pdf",))


def test_no_citations_at_all(tmp_path: Path) -> None:
    draft = Draft("T", [DraftSection("引言", "没有引用的正文。"), DraftSection("参考资料", is_references=True)])
    res = render_report(draft, PASSAGES.get, tmp_path, ("md",))
    assert res.references == [] and "本报告正文未引用资料" in res.markdown
