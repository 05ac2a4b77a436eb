"""Section relevance judged from sentence text alone (``report.topicality``): the labelled set's held-out
half, and a report padded with off-topic sentences that carry valid citations."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from sourcebook.report.measure import SECTION_RELEVANCE_MIN, measure
from sourcebook.report.topicality import REFERENCE, TopicJudge, markdown_relevance, section_topic
from tests.report_corpus import EV_REQUEST, build_ev_report

ROOT = Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_relevance", ROOT / "benchmarks" / "bench_relevance.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_relevance"] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def scored():
    bench = _bench()
    data = bench.load()
    return bench, data, bench.score_all(data)


def test_labelled_set_is_large_bilingual_and_split_by_intent(scored):
    _, data, _ = scored
    rows = data["sentences"]
    assert len(rows) >= 150
    assert {it["lang"] for it in data["intents"].values()} == {"zh", "en"}
    halves = {it["split"] for it in data["intents"].values()}
    assert halves == {"tune", "heldout"}
    kinds = {r["kind"] for r in rows if r["label"] == "off"}
    assert {"marketing", "formatting", "furniture", "province", "shared_word"} <= kinds
    # the reference text the scores are contrasted with is not part of the labelled set
    assert not {r["text"] for r in rows} & set(REFERENCE)


def test_heldout_half_accepts_on_topic_and_rejects_off_topic(scored):
    bench, data, scores = scored
    from sourcebook.report.topicality import REFERENCE_MARGIN, TOPIC_MARGIN

    r = bench.rates(data, bench.judged(scores), "heldout")
    assert r["on"][0] >= 0.85, r          # measured 92.5 %
    assert r["off"][0] >= 0.85, r         # measured 90.0 %
    for kind in ("kind:furniture", "kind:marketing", "kind:formatting", "kind:province"):
        assert r[kind][0] >= 0.9, (kind, r[kind])
    # the margins in use are the ones the tuning half chooses
    tm, rm, _ = bench.tune(data, scores)
    assert (tm, rm) == (TOPIC_MARGIN, REFERENCE_MARGIN)


def test_page_furniture_scores_below_prose_of_the_same_subject():
    judge = TopicJudge()
    topic = section_topic(type("R", (), {"title": "新冠疫情监测报告", "sections": [], "raw": ""})(),
                          "核心数据摘要", "概括关键指标和不同时间段的数据波动情况")
    (on, _), (furniture, _) = judge.margins(topic, ["截至2023年3月9日，全球累计报告确诊病例约6.76亿例，累计死亡约688万例。",
                                         "内容提供方：疫情资料分享 大小：53 KB 页数：4 下载券：1"])
    assert on > furniture


def test_padding_a_section_with_cited_off_topic_sentences_fails_it(tmp_path: Path):
    folder, store, settings, res = build_ev_report(tmp_path)
    comp = json.loads((res.run_dir / "compliance.json").read_text(encoding="utf-8"))
    check = next(c for c in comp["checks"] if c["name"] == "section_relevance")
    assert check["passed"] is True, check
    assert comp["section_relevance"] and min(comp["section_relevance"].values()) >= SECTION_RELEVANCE_MIN

    # every sentence of the off-topic articles, cited to the passage it comes from (claims stay grounded)
    padding = []
    for p in store.passages("long_context.json"):
        for s in p.text.replace("\n", "").split("。"):
            if len(s) >= 12 and s in p.text:
                padding.append(f"{s}。[@{p.id}]")
    section = next(s for s in res.draft.sections if s.title == "发展现状")
    n = max(1, len([x for x in section.body.split("。") if x.strip()]))
    assert len(padding) >= n, (len(padding), n)
    section.body = section.body.rstrip() + "\n\n" + "".join(padding[:2 * n])

    m = measure(res.draft, res.requirements, store)
    assert m.section_relevance["发展现状"] < SECTION_RELEVANCE_MIN, m.section_relevance
    got = next(c for c in m.checks if c.name == "section_relevance")
    assert got.passed is False and "发展现状" in got.detail
    # the untouched sections still pass, and the padding is grounded: only relevance catches it
    assert all(v >= SECTION_RELEVANCE_MIN for k, v in m.section_relevance.items() if k != "发展现状")
    padded = [v for v in m.verdicts if v.section == "发展现状" and any(w in v.sentence for w in ("奶茶", "论文", "前锋"))]
    assert padded and all(v.accepted for v in padded)

    # the finished report judged from its Markdown alone (as `sourcebook check --folder --request` does)
    md = res.paths["md"].read_text(encoding="utf-8")
    shares, sizes = markdown_relevance(md.split("## 参考资料")[0], res.requirements)
    assert set(sizes) == set(shares) and all(n >= 1 for n in sizes.values())
    assert shares and min(shares.values()) >= SECTION_RELEVANCE_MIN, shares
    # and by `sourcebook check --folder --request`, on the report file and on the padded one
    from sourcebook.report.check_cli import check_file

    padded_md = tmp_path / "padded.md"
    padded_md.write_text(m.markdown, encoding="utf-8")
    for path, ok in ((res.paths["md"], True), (padded_md, False)):
        out = check_file(path, EV_REQUEST, folder, settings)
        rel = next(c for c in out["checks"] if c["name"] == "section_relevance")
        assert rel["passed"] is ok, (path.name, rel)
        assert (out["section_relevance"]["发展现状"] >= SECTION_RELEVANCE_MIN) is ok, out["section_relevance"]


def test_report_figures_and_notes_are_not_judged():
    req = type("R", (), {"title": "新冠疫情监测报告", "sections": ["核心数据摘要"], "raw": ""})()
    body = ("## 核心数据摘要\n\n截至2023年3月9日，全球累计报告确诊病例约6.76亿例[1]。累计死亡约688万例[1]。\n\n"
            "![图1：确诊走势（数据来源：a.csv (columns Sleep?, Work?)）](figures/a.png)\n\n"
            "*图1：确诊走势（数据来源：a.csv (columns Sleep?, Work?)；生成代码：见运行记录）*\n\n"
            "*（资料说明：全文约900字，少于要求的1000字。）*\n\n## 参考资料\n\n[1] a.csv\n")
    shares, sizes = markdown_relevance(body, req)
    assert sizes == {"核心数据摘要": 2} and shares["核心数据摘要"] == 1.0


def test_one_off_topic_sentence_in_a_short_section_is_not_a_failure():
    from sourcebook.report.measure import relevance_check

    assert relevance_check({"a": 0.5}, {"a": 2}).passed is True          # 1 of 2 off topic
    assert relevance_check({"a": 0.5}, {"a": 4}).passed is False         # 2 of 4
    assert relevance_check({"a": 1.0, "b": 0.2}, {"a": 3, "b": 5}).passed is False
    assert relevance_check({}, {}).passed is None
