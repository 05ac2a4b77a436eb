"""Grounding verdicts: the labelled claim/passage set (tuned on one half, asserted on the held-out half) and
the pieces it is built from."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path

import pytest

from sourcebook.grounding import split_claims, verify_claim, verify_text
from sourcebook.grounding.verify import find_quote, stricter

DATA = Path(__file__).parent / "data" / "grounding_pairs.jsonl"
ROOT = Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_grounding", ROOT / "benchmarks" / "bench_grounding.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_labelled_set_shape():
    rows = [json.loads(x) for x in DATA.read_text(encoding="utf-8").splitlines() if x.strip()]
    assert len(rows) >= 200
    kinds = Counter(r["kind"] for r in rows)
    for k in ("quote", "paraphrase", "number", "swap", "direction", "negation", "entity", "absent", "salad"):
        assert kinds[k] >= 20, k
    assert {r["lang"] for r in rows} == {"zh", "en"}
    # the halves share no passage
    tune = {r["passage"] for r in rows if r["split"] == "tune"}
    held = {r["passage"] for r in rows if r["split"] == "heldout"}
    assert tune and held and not tune & held


def test_heldout_detection_and_acceptance():
    res = _bench().evaluate(_bench().load("heldout"))
    assert res["pairs"] >= 100
    assert res["false_detected"] >= 0.90, res["misses"]
    assert res["true_accepted"] >= 0.85, res["misses"]


def test_quote_has_offsets_into_the_passage():
    p = "据统计，光伏自用率从57.9%提高到80.9%，静态投资回收期为5.6年。"
    v = verify_text("光伏自用率从57.9%提高到80.9%", p)
    assert v.verdict == "quoted"
    s, e = v.span
    assert p[s:e] == "光伏自用率从57.9%提高到80.9%"
    assert find_quote("完全不同的一句话也不在其中", p) is None


@pytest.mark.parametrize(("claim", "verdict"), [
    ("自用率从80.9%降到57.9%。", "contradicted"),                 # reversed direction and order
    ("项目总投资约5.6万元，静态投资回收期为7.8年。", "contradicted"),  # swapped numbers
    ("该系统从外部知识库中检索信息。", "contradicted"),               # negation dropped
    ("该省燃油汽车销量达到12.5万辆。", "contradicted"),               # another entity
    ("该项目获得省级示范工程称号并将在明年扩建。", "unsupported"),      # absent fact
    ("光伏自用率提高了23个百分点，达到80.9%。", "supported"),          # derived number, paraphrase
])
def test_issue_examples(claim, verdict):
    p = ("2023年，该市新能源汽车销量达到12.5万辆。项目总投资约7.8万元，静态投资回收期为5.6年。光伏自用率从57.9%"
         "提高到80.9%。该系统不从外部知识库中检索信息。")
    v = verify_text(claim, p)
    assert v.verdict == verdict, v.reason
    assert v.reason


def test_uncited_and_unresolved_claims_are_unsupported():
    v = verify_claim("杭州市新能源汽车销量达到12.5万辆。", [])
    assert v.verdict == "unsupported" and v.reason == "no citation"
    v = verify_claim("杭州市新能源汽车销量达到12.5万辆。", [], citations=["[9]"])
    assert v.verdict == "unsupported" and "resolve" in v.reason


def test_stricter_verdict_wins():
    assert stricter("supported", "contradicted") == "contradicted"
    assert stricter("unsupported", "supported") == "unsupported"
    assert stricter("quoted", "supported") == "supported"


def test_split_claims_keeps_every_citation_form():
    body = ("销量达到12.5万辆[@abc123]。自用率提高到80.9%[1, 2]。投资回收期为5.6年【3】。"
            "The deck says revenue reached 310 million dollars [deck.pptx, slide 5]. "
            "Speakers said costs fell by a third [talk.mp4, 01:20–01:45]. "
            "文章指出该市充电桩增加到3.2万个[long_context: \"城市充电\", chunk 2]。"
            "表格显示收入为310万元[data.xlsx, Sheet1!A1:B9]。论文第三页给出结果[paper.pdf, p. 3]。\n\n"
            "（说明：本报告为抽取式草稿。）\n\n## 标题\n\n短句。")
    claims = split_claims(body)
    cites = [c.citations for c in claims]
    assert cites == [["[@abc123]"], ["[1, 2]"], ["【3】"], ["[deck.pptx, slide 5]"], ["[talk.mp4, 01:20–01:45]"],
                     ['[long_context: "城市充电", chunk 2]'], ["[data.xlsx, Sheet1!A1:B9]"], ["[paper.pdf, p. 3]"]]
    assert all("[" not in c.text and "【" not in c.text for c in claims)


def test_pipeline_notes_are_not_claims_even_in_emphasis():
    from sourcebook.grounding.claims import split_claims

    body = ("*（资料说明：所提供的资料中没有找到与本节直接相关的内容，本节不作推断。）*\n\n"
            "_(Note: the paper named in the request is not in the folder.)_\n\n"
            "该市新能源汽车保有量达到12万辆，比上年增长35%[1]。")
    claims = split_claims(body)
    assert [c.text for c in claims] == ["该市新能源汽车保有量达到12万辆，比上年增长35%。"]
