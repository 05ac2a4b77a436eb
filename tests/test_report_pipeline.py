"""The report pipeline without an LLM, on folders written by the test (Chinese with an unreadable video,
and English), plus unit tests of planning, citations and the extractive writer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sourcebook.config import get_settings
from sourcebook.ingest.folder import ingest_folder
from sourcebook.report.checks import body_text, count_units, read_report
from sourcebook.report.citations import (
    ResolveLog,
    join_sentences,
    resolve_citations,
    split_cited_sentences,
)
from sourcebook.report.extractive import clean_sentence, usable_sentence, with_marker
from sourcebook.report.llm_writer import clean_reply, unbullet
from sourcebook.report.pipeline import build_report
from sourcebook.report.plan import is_title_only, make_plan, section_weight
from sourcebook.report.requirements import parse_request
from tests.report_corpus import EN_FILES, EN_REQUEST, ZH_FILES, ZH_REQUEST, make_folder


def _build(tmp: Path, files: dict[str, str], request: str, broken_video: bool = False):
    settings = get_settings(cache_dir=tmp / "cache")
    folder = make_folder(tmp / "folder", files, broken_video=broken_video)
    ingest = ingest_folder(folder, settings)
    result = build_report(ingest.store, request, settings, tmp / "run")
    return ingest, result


@pytest.fixture(scope="module")
def zh_run(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("zh"), ZH_FILES, ZH_REQUEST, broken_video=True)


@pytest.fixture(scope="module")
def en_run(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("en"), EN_FILES, EN_REQUEST)


def _check(result, name):
    return next(c for c in result.checks if c.name == name)


def test_zh_report_meets_measured_requirements(zh_run):
    ingest, res = zh_run
    for name in ("length", "sections_present", "sections_order", "no_bullets", "citations_resolvable",
                 "inputs_cited", "claims_grounded", "title", "format"):
        assert _check(res, name).passed is True, (name, _check(res, name))
    text, fmt = read_report(res.report_path)
    n = count_units(body_text(text, ZH_REQUEST), "chars")
    assert 600 <= n <= 800
    assert res.verdict == "pass"


def test_zh_outputs_written(zh_run):
    _, res = zh_run
    run = res.run_dir
    for name in ("report.md", "report.html", "report.docx", "compliance.json", "evidence.json", "revisions.json"):
        assert (run / name).exists(), name
    comp = json.loads((run / "compliance.json").read_text(encoding="utf-8"))
    assert comp["verdict"] == "pass"
    names = {c["name"] for c in comp["checks"]}
    assert {"length", "inputs_cited", "citations_resolvable", "claims_grounded", "section_relevance", "duplicates"} <= names
    ev = json.loads((run / "evidence.json").read_text(encoding="utf-8"))
    titles = [s["title"] for s in ev["sections"]]
    assert titles[:4] == ["引言", "现状与数据", "问题与挑战", "政策建议"]
    assert all(s["cited"] for s in ev["sections"][:4])
    html = (run / "report.html").read_text(encoding="utf-8")
    assert "<li" not in html and "<ul" not in html


def test_zh_every_sentence_cites_an_evidence_passage(zh_run):
    ingest, res = zh_run
    store = ingest.store
    for sec in res.draft.sections:
        if sec.is_references:
            continue
        for s in split_cited_sentences(sec.body):
            if s.text.startswith("（说明："):
                continue
            assert s.ids, s.text
            for pid in s.ids:
                p = store.get_passage(pid)
                assert p is not None
                # extractive: the sentence (minus connector) is in its passage
                core = s.text.removeprefix("同时，").removeprefix("此外，").removeprefix("另外，")
                core = core.removeprefix("进一步看，").removeprefix("与此相关，").removeprefix("从另一角度看，")
                assert core.rstrip("。") in " ".join(p.text.split()) or core.rstrip("。") in p.text


def test_zh_unreadable_video_is_stated_not_invented(zh_run):
    ingest, res = zh_run
    video = next(s for s in ingest.sources if s.path == "video.mp4")
    assert video.status in ("error", "empty", "skipped", "metadata")
    md = res.paths["md"].read_text(encoding="utf-8")
    assert "video.mp4 无法读取" in md
    assert "本节未使用其内容" in md
    assert "抽取式草稿" in md
    # no citation points at the video
    assert all("video.mp4" not in line for line in md.splitlines() if line.startswith("["))


def test_en_report(en_run):
    _, res = en_run
    for name in ("length", "sections_present", "sections_order", "no_bullets", "citations_resolvable",
                 "inputs_cited", "language"):
        assert _check(res, name).passed is True, (name, _check(res, name))
    md = res.paths["md"].read_text(encoding="utf-8")
    assert "extractive draft" in md
    assert 150 <= count_units(md, "words") <= 250


# ----------------------------------------------------------------------------------------------- units


def test_plan_budgets_sum_to_target_and_references_get_none():
    req = parse_request(ZH_REQUEST)

    class _NoSources:
        def sources(self):
            return []

    draft = make_plan(req, _NoSources())
    titles = [s.title for s in draft.sections]
    assert titles == ["引言", "现状与数据", "问题与挑战", "政策建议", "参考资料"]
    assert draft.sections[-1].is_references and draft.sections[-1].budget == 0
    total = sum(s.budget for s in draft.sections)
    assert abs(total - req.target_units) <= len(draft.sections)
    assert draft.sections[0].budget < draft.sections[1].budget  # the introduction is smaller
    assert all(s.queries for s in draft.sections[:-1])


def test_plan_defaults_and_title_sections():
    req = parse_request("请根据资料写一篇关于城市交通的报告，1000字左右。")

    class _NoSources:
        def sources(self):
            return []

    draft = make_plan(req, _NoSources())
    assert [s.title for s in draft.sections] == ["引言", "主要内容", "分析", "结论", "参考资料"]
    assert is_title_only("（1）报告标题") and not is_title_only("引言")
    assert section_weight("参考资料") == 0.0
    assert section_weight("引言") < section_weight("数据明细板块")


def test_split_and_join_cited_sentences():
    body = "第一句话说明背景[@p1]。第二句，带两个引用。[@p2][@p3]\n\nThird one is English[@p4]. Fourth has 3.5 units."
    sents = split_cited_sentences(body)
    assert [s.ids for s in sents] == [["p1"], ["p2", "p3"], ["p4"], []]
    assert sents[2].paragraph == 1 and sents[3].text == "Fourth has 3.5 units."
    assert join_sentences(sents[:2], "zh") == "第一句话说明背景[@p1]。第二句，带两个引用。[@p2][@p3]"


def test_one_splitter_for_draft_markers_and_report_citations():
    """Drafts ([@id]) and finished reports (numbered and label citations) are split by the same rules; only
    the marker grammar differs."""
    from sourcebook.grounding.claims import CITATION, split_claims
    from sourcebook.report.citations import split_sentences

    draft = "Sales rose [@p1].Next one [@x.y] ends here. Done; and more [@z]. 末句[@a]。"
    assert split_sentences(draft) == ["Sales rose [@p1].", "Next one [@x.y] ends here.", "Done;",
                                      "and more [@z].", "末句[@a]。"]
    report = draft.replace("[@p1]", "[1]").replace("[@x.y]", "[paper.pdf, p. 3]").replace("[@z]", "【2】")
    assert split_sentences(report, CITATION) == ["Sales rose [1].", "Next one [paper.pdf, p. 3] ends here.",
                                                 "Done;", "and more 【2】.", "末句[@a]。"]
    # a clause ending in a semicolon without its own citation joins the cited sentence it opens, spacing kept
    assert [s.raw for s in split_cited_sentences(draft)][2] == "Done; and more [@z]."
    claims = split_claims("Sales rose [1].Next one [paper.pdf, p. 3] ends here. Done all of it; and more things [2].")
    assert [c.raw for c in claims] == ["Next one [paper.pdf, p. 3] ends here.", "Done all of it; and more things [2]."]


def test_resolve_drops_unknown_ids():
    class _Store:
        def get_passage(self, pid):
            return object() if pid == "good" else None

    log = ResolveLog()
    out = resolve_citations("甲[@good]。乙[@invented-1]。", _Store(), log)
    assert out == "甲[@good]。乙。"
    assert log.dropped == ["invented-1"]


def test_sentence_cleaning():
    assert clean_sentence("| a | b | c |") == ""
    assert clean_sentence("- 详见 https://example.com/page 的说明[3]") == "详见 的说明"
    assert not usable_sentence("太短了。", "zh")
    assert usable_sentence("城市交通减排的关键在于减少不必要的机动化出行。", "zh")
    assert not usable_sentence("上传人：g*** IP属地：北京 上传时间：2025-02-21 格式：DOCX 页数：9", "zh")
    assert with_marker("这是一个句子。", "p1") == "这是一个句子[@p1]。"
    assert with_marker("An English sentence", "p2") == "An English sentence[@p2]."


def test_unbullet_and_clean_reply():
    text, changed = unbullet("要点如下：\n- 第一点内容[@a]\n- 第二点内容[@b]\n结束。")
    assert changed and "- " not in text
    assert "第一点内容[@a]。第二点内容[@b]。" in text
    assert clean_reply("## 引言\n\n正文[@a]。", "（1）引言") == "正文[@a]。"


def test_report_command(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from sourcebook.cli import app

    monkeypatch.setenv("SOURCEBOOK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SOURCEBOOK_LLM__MODEL", "")
    folder = make_folder(tmp_path / "folder", EN_FILES)
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["report", str(folder), EN_REQUEST, "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert "verdict: pass" in result.output
    assert (out / "report.md").exists() and (out / "compliance.json").exists()
    bad = CliRunner().invoke(app, ["report", str(tmp_path / "missing"), "x", "-q"])
    assert bad.exit_code != 0 and "no such folder" in bad.output
    empty = CliRunner().invoke(app, ["report", str(folder), "  ", "-q"])
    assert empty.exit_code != 0 and "no request" in empty.output
