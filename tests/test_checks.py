"""Checks measured in code, and ``sourcebook check``: verdicts must equal an independent count done here
with a different method (plain regexes over text built programmatically)."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import docx
import pytest
import typer
from typer.testing import CliRunner

from sourcebook.models import Passage
from sourcebook.report.checks import (
    check_citations_resolvable,
    check_inputs_cited,
    check_text,
    count_units,
    draft_markdown,
    overall_verdict,
    read_report,
    split_references,
    write_compliance,
)
from sourcebook.report.requirements import parse_request
from sourcebook.report.types import CheckResult, Draft, DraftSection, Requirements

HAN = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经"


def han_text(n: int, seed: int = 0) -> str:
    """n Han characters with a full stop every 20 characters (punctuation does not count)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        out.append(rng.choice(HAN))
        if i % 20 == 19:
            out.append("。")
    return "".join(out)


def independent_count(markdown: str) -> int:
    """A different way of counting: drop the document title line, everything from the references heading
    on and [n] markers, then count Han characters and ASCII alphanumeric runs."""
    markdown = re.sub(r"\A\s*# [^\n]*\n", "", markdown)
    body = re.split(r"^#+\s*(?:（\d+）)?\s*(?:参考资料|References)\s*$", markdown, flags=re.M)[0]
    body = re.sub(r"\[\d+\]", "", body)
    return len(re.findall(r"[\u4e00-\u9fff]", body)) + len(re.findall(r"[A-Za-z0-9]+", body))


def by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.name: r for r in results}


REQ_ZH = "假设你是一名研究员，撰写《测试报告》，包含以下章节：（1）引言；（2）分析；（3）结论；（4）参考资料。字数在300至400字之间。"


def zh_report(sizes: tuple[int, int, int], *, missing: str | None = None, bullets: bool = False,
              swap: bool = False, latin: str = "") -> str:
    secs = [("（1）引言", sizes[0]), ("（2）分析", sizes[1]), ("（3）结论", sizes[2])]
    if swap:
        secs[1], secs[2] = secs[2], secs[1]
    parts = ["# 测试报告", ""]
    for k, (title, n) in enumerate(secs):
        if missing and missing in title:
            continue
        body = han_text(n, seed=k)
        if bullets and k == 1:
            body = "- " + body
        parts += [f"## {title}", "", body + f"[{k + 1}]" + latin, ""]
    parts += ["## （4）参考资料", "", "[1] a.pdf, p. 1", "", "[2] b.pptx, slide 2", "", "[3] c.xlsx, Sheet1!A1:B9", ""]
    return "\n".join(parts)


# ------------------------------------------------------------------------------------------------ counting


def test_count_units_rule() -> None:
    assert count_units("中文abc def 123。") == 5
    assert count_units("GPT-4 和 3.5 版本") == 1 + 1 + 1 + 2
    assert count_units("## 标题\n\n**加粗**文字[1][@p_1]【2】 https://example.com/x") == 2 + 2 + 2
    assert count_units("正文四字\n\n## 参考资料\n\n[1] 很多很多字的文献") == 4
    assert count_units("| 列一 | 列二 |\n|---|---|\n| 值 | 值 |") == 6
    assert count_units("[链接文字](http://x.org/a) ![图](f.png)") == 4
    assert count_units("Hello world, this is five.", unit="words") == 5
    assert count_units("<html><body><h1>标题</h1><p>正文<a href='#ref-1'>[1]</a></p></body></html>") == 4
    with pytest.raises(ValueError):
        count_units("x", unit="bytes")


def test_split_references_variants() -> None:
    body, refs = split_references("正文\n\n**References**\n\n[1] x\n")
    assert body.strip() == "正文" and "[1] x" in refs
    body, refs = split_references("# T\n\n## 引言\n正文\n\n## （6）参考资料\n[1] x\n\n## 附录\n附录正文")
    assert "附录正文" in body and "[1] x" in refs and "[1] x" not in body


@pytest.mark.parametrize("n", [299, 300, 350, 400, 401])
def test_length_boundaries_agree_with_independent_count(n: int) -> None:
    req = parse_request(REQ_ZH)
    title_units = 3 * (1 + 2)  # （1）引言 + （2）分析 + （3）结论 — a number is a word; the # title is not body
    a = (n - title_units) // 3
    md = zh_report((a, a, n - title_units - 2 * a))
    expected_count = independent_count(md)
    assert expected_count == n
    r = by_name(check_text(md, req))["length"]
    assert r.measured == n
    assert r.passed is (300 <= n <= 400)


def test_full_pass_and_each_failure() -> None:
    req = parse_request(REQ_ZH)
    good = zh_report((110, 110, 110))
    results = by_name(check_text(good, req))
    failed = [r for r in results.values() if r.passed is False]
    assert not failed, failed
    assert results["sections_present"].passed and results["sections_order"].passed
    assert results["citations_numbered"].passed and results["title"].passed
    assert results["no_bullets"].passed is None  # not requested → not reported as a pass
    assert overall_verdict(results.values()) == "pass"

    missing = by_name(check_text(zh_report((160, 160, 160), missing="分析"), req))
    assert missing["sections_present"].passed is False and "分析" in missing["sections_present"].detail
    swapped = by_name(check_text(zh_report((110, 110, 110), swap=True), req))
    assert swapped["sections_present"].passed and swapped["sections_order"].passed is False
    empty = by_name(check_text(zh_report((150, 5, 150)), req))
    assert empty["sections_nonempty"].passed is False and "分析" in empty["sections_nonempty"].detail
    english = by_name(check_text(zh_report((30, 30, 30), latin=" the quick brown fox jumps" * 30), req))
    assert english["language"].passed is False


def test_bullets_markdown_and_html() -> None:
    req = parse_request(REQ_ZH + "不要分点回答。")
    md = zh_report((110, 110, 110), bullets=True)
    r = by_name(check_text(md, req))["no_bullets"]
    assert r.passed is False and r.measured == 1
    assert by_name(check_text(zh_report((110, 110, 110)), req))["no_bullets"].passed is True
    html = "<html><body><h1>测试报告</h1><h2>引言</h2><ul><li>一</li><li>二</li></ul></body></html>"
    r = by_name(check_text(html, req))["no_bullets"]
    assert r.passed is False and r.measured == 3


def test_format_checks() -> None:
    req_html = parse_request("写一份报告，以html格式返回。")
    assert req_html.format == "html"
    r = by_name(check_text("# 标题\n\n正文", req_html))["format"]
    assert r.passed is False and r.measured == "markdown"
    good = "<!DOCTYPE html><html><head><meta charset='utf-8'><title>T</title></head><body><h1>T</h1><p>正文</p></body></html>"
    assert by_name(check_text(good, req_html))["format"].passed is True
    leftover = "<html><body><h1>T</h1><p>## 引言</p><p>**粗体**</p></body></html>"
    r = by_name(check_text(leftover, req_html))["format"]
    assert r.passed is False and "Markdown" in r.detail
    req_md = parse_request("写一份报告")
    assert by_name(check_text("只有一段文字，没有标题。", req_md))["format"].passed is False


def test_citations_checks() -> None:
    req = parse_request("写一份报告，注明来源。")
    md = "# T\n\n## 一\n\n正文[1][3]\n\n## 参考资料\n\n[1] a.pdf, p. 1\n\n[2] b.pdf\n"
    r = by_name(check_text(md, req))
    assert r["citations_present"].passed is True
    assert r["citations_numbered"].passed is False and "[3]" in r["citations_numbered"].detail
    none = by_name(check_text("# T\n\n## 一\n\n正文没有引用。", req))
    assert none["citations_present"].passed is False
    assert none["citations_numbered"].passed is None


def test_unmeasured_is_never_a_pass() -> None:
    req = Requirements(raw="")
    results = by_name(check_text("# 标题\n\n" + han_text(298), req))
    assert results["length"].passed is None and results["length"].measured == 298  # the title line is not body
    assert results["sections_present"].passed is None
    assert results["title"].passed is None


def test_pipeline_checks() -> None:
    r = check_inputs_cited(["a.pdf", "b.pptx"], ["a.pdf", "b.pptx", "c.xlsx"])
    assert r.passed is False and r.measured == "2/3" and "c.xlsx" in r.detail
    assert check_inputs_cited(["a.pdf"], ["a.pdf"]).passed is True
    assert check_inputs_cited([], []).passed is None
    store = {"p1": Passage("p1", "a.pdf", "pdf", 0, "t", "p. 1", {})}
    r = check_citations_resolvable(["p1", "zz", "p1"], store.get)
    assert r.passed is False and r.measured == "1/2"
    assert check_citations_resolvable([], store.get).passed is None


def test_draft_markdown_checks_and_compliance_output(tmp_path: Path) -> None:
    req = parse_request(REQ_ZH)
    draft = Draft("测试报告", [DraftSection("引言", han_text(120) + "[@p1]"),
                              DraftSection("分析", han_text(120, 1) + "[@p2][@missing]"),
                              DraftSection("结论", han_text(100, 2) + "[@p1]"),
                              DraftSection("参考资料", is_references=True)])
    results = by_name(check_text(draft_markdown(draft), req, "markdown"))
    assert results["length"].measured == 2 + 120 + 2 + 120 + 2 + 100  # body: no title block, no references
    assert results["sections_present"].passed is True
    assert results["sections_nonempty"].passed is True
    out = write_compliance(list(results.values()), tmp_path / "checks.json",
                           extra={"claims": {"quoted": 2, "supported": 0, "contradicted": 1, "unsupported": 0}})
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["claims"]["contradicted"] == 1
    assert {c["name"] for c in data["checks"]} >= {"length", "sections_present"}


# ------------------------------------------------------------------------------------------------ CLI


@pytest.fixture()
def cli() -> typer.Typer:
    from sourcebook.cli import app

    return app


def run_check(app: typer.Typer, *args: str) -> tuple[int, dict | str]:
    result = CliRunner().invoke(app, ["check", *args])
    try:
        return result.exit_code, json.loads(result.stdout)
    except json.JSONDecodeError:
        return result.exit_code, result.output


def _write_docx(path: Path, md: str) -> None:
    d = docx.Document()
    for line in md.splitlines():
        if line.startswith("## "):
            d.add_heading(line[3:], level=1)
        elif line.startswith("# "):
            d.add_heading(line[2:], level=0)
        elif line.startswith("- "):
            d.add_paragraph(line[2:], style="List Bullet")
        elif line.strip():
            d.add_paragraph(line)
    d.save(str(path))


@pytest.mark.parametrize("variant", ["exact_min", "short", "long", "missing", "bullets", "html", "docx", "txt"])
def test_check_cli_matches_independent_count(cli: typer.Typer, tmp_path: Path, variant: str) -> None:
    request = REQ_ZH + "不要分点回答。"
    sizes = {"exact_min": (96, 96, 95), "short": (96, 96, 94), "long": (130, 130, 131)}.get(variant, (110, 110, 110))
    md = zh_report(sizes, missing="分析" if variant == "missing" else None, bullets=variant == "bullets")
    n = independent_count(md)
    if variant == "html":
        from markdown_it import MarkdownIt

        path = tmp_path / "r.html"
        path.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
                        + MarkdownIt("commonmark").render(md) + "</body></html>", encoding="utf-8")
    elif variant == "docx":
        path = tmp_path / "r.docx"
        _write_docx(path, md)
    else:
        path = tmp_path / ("r.txt" if variant == "txt" else "r.md")
        path.write_text(md, encoding="utf-8")
    req_file = tmp_path / "request.txt"
    req_file.write_text(request, encoding="utf-8")
    code, data = run_check(cli, str(path), "--request-file", str(req_file), "--json")
    assert isinstance(data, dict), data
    checks = {c["name"]: c for c in data["checks"]}
    assert checks["length"]["measured"] == n
    length_ok = 300 <= n <= 400
    assert checks["length"]["passed"] is length_ok
    expected_ok = length_ok and variant not in ("missing", "bullets")
    assert code == (0 if expected_ok else 1), checks
    assert data["verdict"] == ("pass" if expected_ok else "fail")
    if variant == "missing":
        assert checks["sections_present"]["passed"] is False
    if variant == "bullets":
        assert checks["no_bullets"]["passed"] is False


def test_check_cli_table_task_and_errors(cli: typer.Typer, tmp_path: Path) -> None:
    report = tmp_path / "r.md"
    report.write_text(zh_report((110, 110, 110)), encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(report), "--request", REQ_ZH])
    assert result.exit_code == 0, result.output
    assert "length" in result.output and "PASS" in result.output
    queries = tmp_path / "q.jsonl"
    queries.write_text(json.dumps({"task": "7", "query": REQ_ZH}, ensure_ascii=False) + "\n", encoding="utf-8")
    code, data = run_check(cli, str(report), "--task", "7", "--query-file", str(queries), "--json")
    assert code == 0 and data["requirements"]["min_units"] == 300
    code, out = run_check(cli, str(tmp_path / "absent.md"), "--request", REQ_ZH)
    assert code == 2 and "absent.md" in out
    code, out = run_check(cli, str(report), "--task", "99", "--query-file", str(queries))
    assert code == 2 and "'99'" in out
    code, out = run_check(cli, str(report))  # no request: form checks only, citations unmeasured
    assert code in (0, 1) and "not measured" in out
    code, out = run_check(cli, str(report), "--request", "x", "--task", "7", "--query-file", str(queries))
    assert code == 2 and "give only one of" in out
    bad = tmp_path / "broken.docx"
    bad.write_bytes(b"not a zip")
    code, out = run_check(cli, str(bad), "--request", REQ_ZH)
    assert code == 2 and "broken.docx" in out


def test_read_report_formats(tmp_path: Path) -> None:
    p = tmp_path / "a.htm"
    p.write_text("<html><body><h1>x</h1></body></html>", encoding="utf-8")
    assert read_report(p)[1] == "html"
    p = tmp_path / "a.txt"
    p.write_bytes(("# 标题\n\n" + "这是一份用国标编码保存的中文报告正文，用来检验编码识别。" * 5).encode("gb18030"))
    text, fmt = read_report(p)
    assert "标题" in text and fmt == "markdown"


SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"
QUERIES = SHARED / "anchor-tasks" / "query.jsonl"


@pytest.mark.shared
@pytest.mark.skipif(not QUERIES.exists(), reason="../shared/fixtures/anchor-tasks/query.jsonl not present")
def test_check_cli_on_anchor_task_004(cli: typer.Typer, tmp_path: Path) -> None:
    """Task 004 asks for HTML and no bullet points: a Markdown report with a list fails both."""
    report = tmp_path / "r.md"
    report.write_text("# 三日主题旅行规划报告\n\n## （1）行程概览\n\n- " + han_text(1300) + "\n", encoding="utf-8")
    code, data = run_check(cli, str(report), "--task", "004", "--query-file", str(QUERIES), "--json")
    checks = {c["name"]: c for c in data["checks"]}
    assert code == 1
    assert checks["format"]["passed"] is False and checks["no_bullets"]["passed"] is False
    assert checks["sections_present"]["measured"] == "1/4"
    assert checks["length"]["passed"] is (1200 <= independent_count(report.read_text(encoding="utf-8")) <= 1500)


def test_length_counts_the_body_only() -> None:
    req = parse_request(REQ_ZH)
    body = han_text(300)
    plain = f"# 测试报告\n\n作者：研究组\n\n## （1）引言\n\n{body}[1]\n"
    n = by_name(check_text(plain, req))["length"].measured
    assert n == 3 + 300  # （1）引言 + body; the title block is not counted
    echoed = plain.replace("## （1）引言", f"> {REQ_ZH}\n\n## （1）引言")
    assert by_name(check_text(echoed, req))["length"].measured == n  # a block repeating the request
    noted = plain.replace(f"{body}[1]", f"（说明：本报告为抽取式草稿。）\n\n{body}[1]\n\n*（资料说明：视频不在文件夹中。）*")
    assert by_name(check_text(noted, req))["length"].measured == n  # notes the pipeline adds
    for heading in ("## 参考资料", "**参考文献**", "6. 参考文献", "（6）参考资料"):
        refs = plain + f"\n{heading}\n\n[1] 一份很长的参考资料条目名称，不应计入正文字数统计之内。\n"
        assert by_name(check_text(refs, req))["length"].measured == n, heading
    # a numbered list item introducing its sources is body text, and what follows it is counted
    listed = plain + "\n1. 资料来源：统计公报\n2. 补充说明的正文内容\n"
    assert by_name(check_text(listed, req))["length"].measured == n + 4 + 4 + 9
