"""Request parsing: length ranges and bounds, counting unit, sections in order, format, language, style, role,
title — on hand-written requests and on the ten anchor-task requests (expected parses written by hand)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sourcebook.report.requirements import (
    cn_number,
    is_reference_title,
    normalize_title,
    parse_request,
    reference_section_title,
    section_key,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"
QUERIES = SHARED / "anchor-tasks" / "query.jsonl"

# (request, expected subset of Requirements fields)
CASES: list[tuple[str, dict]] = [
    ("请写一篇2000至3000字的读书报告。", dict(min_units=2000, max_units=3000, unit="chars", language="zh")),
    ("报告字数在1500至2000之间。", dict(min_units=1500, max_units=2000, unit="chars")),
    ("全文字数控制在 1200–1500 字之间。", dict(min_units=1200, max_units=1500)),
    ("写一份总结，不少于800字。", dict(min_units=800, max_units=None, approximate=False)),
    ("写一份摘要，不超过1200字。", dict(min_units=None, max_units=1200)),
    ("写一份说明，约1000字。", dict(min_units=900, max_units=1100, approximate=True)),
    ("写一篇3千字左右的评论。", dict(min_units=2700, max_units=3300, approximate=True)),
    ("写一篇三千字的评论。", dict(min_units=2700, max_units=3300, approximate=True)),
    ("全文１５００－２０００字。", dict(min_units=1500, max_units=2000, unit="chars")),
    ("字数控制在2000字以内。", dict(min_units=None, max_units=2000)),
    ("要求不少于1000字，不超过2000字。", dict(min_units=1000, max_units=2000)),
    ("写一篇1.5万字的长文。", dict(min_units=13500, max_units=16500, approximate=True)),
    ("分析2018-2023年的数据，写一篇报告。", dict(min_units=None, max_units=None)),
    ("Write a 1500–2000 words report with the following sections: Introduction, Methods, Results and "
     "Conclusion.", dict(min_units=1500, max_units=2000, unit="words", language="en",
                         sections=["Introduction", "Methods", "Results", "Conclusion"])),
    ("Please write an essay of at least 800 words on urban heat islands.",
     dict(min_units=800, max_units=None, unit="words", language="en")),
    ("Summarise the findings in no more than 500 words.", dict(max_units=500, unit="words")),
    ("Write about 1000 words on the topic and return it as HTML.",
     dict(min_units=900, max_units=1100, approximate=True, format="html", language="en")),
    ("Write a report between 1,500 and 2,000 words.", dict(min_units=1500, max_units=2000, unit="words")),
    ("Write a 2000–3000-character reading report with sections (1) Background (2) Method (3) Findings "
     "(4) Outlook, cite your sources.",
     dict(min_units=2000, max_units=3000, unit="chars",
          sections=["Background", "Method", "Findings", "Outlook"])),
    ("You are a data analyst. Write a 1000-word memo, no bullet points.",
     dict(role="data analyst", no_bullets=True, min_units=900, max_units=1100, unit="words")),
    ("请以html格式输出，不分点作答，约800字。", dict(format="html", no_bullets=True)),
    ("报告不要使用列表，字数不少于1500字。", dict(no_bullets=True, min_units=1500)),
    ("请撰写报告，结构需包含：引言、研究方法、结论与展望。",
     dict(sections=["引言", "研究方法", "结论与展望"])),
    ("报告包括以下部分：1. 背景 2. 现状分析 3. 对策建议。",
     dict(sections=["背景", "现状分析", "对策建议"])),
    ("报告结构如下：\n1. 项目背景\n2. 数据来源\n3. 主要发现\n请写1200字。",
     dict(sections=["项目背景", "数据来源", "主要发现"], min_units=1080, max_units=1320)),
    ("报告分为：一、背景；二、问题分析；三、对策。", dict(sections=["背景", "问题分析", "对策"])),
    ("The report should have sections: Background; Analysis; Recommendations.",
     dict(sections=["Background", "Analysis", "Recommendations"], language="en")),
    ("Write it in HTML format, 800 to 1,000 words.", dict(format="html", min_units=800, max_units=1000)),
    ("请将报告控制在两千至三千字。", dict(min_units=2000, max_units=3000, unit="chars")),
    ("请用英文撰写一篇关于长江生态的报告，约1000词。", dict(language="en")),
    ("假设你是一名资深律师，请撰写《数据合规指南》。",
     dict(role="资深律师", title="数据合规指南", format="markdown", no_bullets=False)),
    ("请撰写报告，包含引言、方法和结论等部分，无需注明来源。",
     dict(sections=["引言", "方法", "结论"], cite_sources=False)),
]


@pytest.mark.parametrize(("request_text", "expected"), CASES, ids=[c[0][:24] for c in CASES])
def test_parse_own_requests(request_text: str, expected: dict) -> None:
    req = parse_request(request_text)
    got = {k: getattr(req, k) for k in expected}
    assert got == expected


def test_defaults_and_raw_kept() -> None:
    req = parse_request("写一份报告")
    assert req.raw == "写一份报告"
    assert (req.min_units, req.max_units, req.format, req.no_bullets, req.sections) == (None, None, "markdown",
                                                                                       False, [])
    assert req.unit == "chars" and req.language == "zh" and req.cite_sources
    assert parse_request("Write a report").unit == "words"


def test_helpers() -> None:
    assert cn_number("三千") == 3000
    assert cn_number("一万五千") == 15000
    assert cn_number("十二") == 12
    assert cn_number("两百") == 200
    assert cn_number("abc") is None
    assert normalize_title("（3）直播带货行业的典型案例分析") == "直播带货行业的典型案例分析"
    assert normalize_title("## 2. Methods") == "methods"
    assert normalize_title("一、引言") == "引言"
    assert section_key("引言：确立鉴赏的核心视角与价值定位") == "引言"
    assert section_key("研究方法（含材料来源说明）") == "研究方法"
    assert is_reference_title("（6）参考资料") and is_reference_title("References")
    assert not is_reference_title("引言")
    req = parse_request("包含以下章节：（1）引言；（2）分析；（3）参考文献。")
    assert reference_section_title(req) == "参考文献"


# ------------------------------------------------------------------------------------------------ anchors

ANCHOR_EXPECTED: dict[str, dict] = {
    "001": dict(min_units=1500, max_units=2000, format="markdown", no_bullets=False,
                title="Deep Research相关Benchmark数据集调研报告",
                sections=["引言", "调研方法", "各论文Benchmark信息汇总表", "分析与观察", "参考资料"]),
    "002": dict(min_units=1200, max_units=1500, format="markdown", no_bullets=False,
                title="避风港原则在直播带货场景中的适用性分析报告",
                sections=["引言", "避风港原则的法律框架与关键内涵", "直播带货行业的典型案例分析（2023–2025）",
                          "原则在直播场景中的适用性讨论", "合规建议与未来趋势", "参考资料"]),
    "003": dict(min_units=1500, max_units=2000, format="markdown", no_bullets=False,
                title="两大 AI 平台生态对比分析报告",
                sections=["引言", "研究方法（含材料来源说明）", "技术发展路线对比", "社区治理与生态模式对比",
                          "产品体系与开放策略的差异", "总结与展望", "参考资料"]),
    "004": dict(min_units=1200, max_units=1500, format="html", no_bullets=True,
                title="三日主题旅行规划报告",
                sections=["行程概览", "各景点详细介绍与亮点分析（附来源）", "每日详细行程安排",
                          "实用贴士（含预算、最佳出行时间、注意事项等）"]),
    "005": dict(min_units=2000, max_units=3000, format="markdown", no_bullets=False,
                title="大模型技术论文阅读报告",
                sections=["论文基本信息", "核心内容摘要", "关键技术解析", "视频补充要点"]),
    "006": dict(min_units=1500, max_units=2000, format="markdown", no_bullets=False,
                title="解读齐白石花鸟画中的形与魂",
                sections=["引言：确立鉴赏的核心视角与价值定位", "画作表象分析：技法与形式的拆解",
                          "题材与主题解读：从形到魂的过渡", "艺术史语境分析：定位画作的历史价值和流派意义",
                          "总结：提炼核心价值与鉴赏结论"]),
    "007": dict(min_units=2000, max_units=3000, format="markdown", no_bullets=False,
                title="十五五规划的深入分析与解读",
                sections=["引言与时代背景", "核心原则与指导思想", "重点领域目标与任务", "实施路径与保障机制",
                          "风险挑战与应对策略", "全球价值与发展展望"]),
    "008": dict(min_units=800, max_units=1000, format="markdown", no_bullets=False,
                title="新冠疫情监测报告",
                sections=["报告标题", "核心数据摘要（需要在一页内概括关键指标和不同时间段的数据波动情况）",
                          "数据明细板块（建议从重点区域和重点人群两方面进行数据分析和可视化处理）", "简要提示"]),
    "009": dict(min_units=2000, max_units=3000, format="markdown", no_bullets=False,
                title="学生压力现状与干预对策报告",
                sections=["引言与数据概况", "学生压力现状分析", "压力影响因素关联分析", "高风险群体与问题诊断",
                          "干预对策与实施计划", "效果评估与风险预案"]),
    "010": dict(min_units=3000, max_units=5000, format="markdown", no_bullets=False,
                title="Yahoo金融市场2018-2023年度市场趋势预测分析报告",
                sections=["引言", "历史市场趋势规律总结", "当前市场趋势分析", "外部影响因素关联分析",
                          "趋势预测与情景分析", "投资策略建议", "风险提示"]),
}


@pytest.mark.shared
@pytest.mark.skipif(not QUERIES.exists(), reason="../shared/fixtures/anchor-tasks/query.jsonl not present")
def test_anchor_task_requests() -> None:
    rows = [json.loads(line) for line in QUERIES.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert {r["task"] for r in rows} == set(ANCHOR_EXPECTED)
    for row in rows:
        req = parse_request(row["query"])
        expected = ANCHOR_EXPECTED[row["task"]]
        got = {k: getattr(req, k) for k in expected}
        assert got == expected, row["task"]
        assert req.unit == "chars" and req.language == "zh" and not req.approximate
        assert req.role, row["task"]
