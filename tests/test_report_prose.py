"""The extractive writer quotes only readable prose: wrapped lines joined, fragments at passage edges,
extractor labels, glued headings, reference entries, title-only lines dropped, table rows stated plainly."""

from __future__ import annotations

from sourcebook.config import get_settings
from sourcebook.ingest.folder import ingest_folder
from sourcebook.report.evidence import EvidenceItem
from sourcebook.report.extractive import ExtractiveWriter, clean_sentence
from sourcebook.report.prose import (
    cut_heading,
    is_reference_entry,
    is_title_like,
    prose_lines,
    row_sentences,
    starts_mid_sentence,
    strip_labels,
)
from tests.docgen import make_pdf


def _sentences(text: str, store=None, pid: str = "p1", source: str = "a.pdf") -> list[str]:
    item = EvidenceItem(pid, source, f"[{source}]", text, 1.0)
    return ExtractiveWriter(store).passage_sentences(item, "zh")


WRAPPED = (
    "— 1 —\n\n"
    "本文总结了青川市梧桐社区屋顶光伏与社区储能试点在二〇二三年七月至二〇二四年六月一年间\n\n"
    "的运行情况，试点由社区能源合作社统一运营，居民自愿入股并参与分红。\n\n"
    "2 项目概况\n\n"
    "梧桐社区建于本世纪初，共有住宅楼十八栋，常住三百一十二户参与试点，屋顶由业主大会授权\n\n"
    "使用，光伏组件按楼栋分成二十个子阵列。储能系统的能量管理系统每十五分钟根据光伏预测和分时电"
)


def test_wrapped_lines_are_joined_and_cut_tail_dropped():
    text, cut = prose_lines(WRAPPED)
    assert "一年间的运行情况" in text and "— 1 —" not in text
    assert cut
    got = _sentences(WRAPPED)
    assert got[0].startswith("本文总结了") and got[0].endswith("参与分红。")
    assert any(s.startswith("梧桐社区建于本世纪初") and "使用，光伏组件" in s for s in got)
    assert not any("分时电" in s for s in got)          # cut off by the passage end
    assert not any("项目概况" in s for s in got)        # a heading line is not a sentence


def test_leading_fragment_dropped():
    assert starts_mid_sentence("的光伏电量存起来，在傍晚居民用电高峰时放出。")
    got = _sentences("的光伏电量存起来，在傍晚居民用电高峰时放给社区里的住户使用。梧桐社区的储能系统由两个预制舱组成，合计容量一千千瓦时。")
    assert got == ["梧桐社区的储能系统由两个预制舱组成，合计容量一千千瓦时。"]


def test_fragment_across_pdf_pages_dropped_with_neighbours(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    page1 = ("The cooperative installed rooftop panels on twenty buildings of the district in the first year. "
             "Residents voted in the owners assembly to lease their roofs to the cooperative for twenty years and")
    page2 = ("Many shareholders receive a yearly dividend from the savings on their electricity bills. "
             "The storage system shifts surplus solar power from noon to the evening demand peak every day.")
    make_pdf(folder / "pilot.pdf", [page1, page2])
    ingest = ingest_folder(folder, get_settings(cache_dir=tmp_path / "cache"))
    passages = list(ingest.store.passages("pilot.pdf"))
    second = next(p for p in passages if "shareholders" in p.text and "Residents" not in p.text)
    item = EvidenceItem(second.id, second.source, second.label, second.text, 1.0)
    with_store = ExtractiveWriter(ingest.store).passage_sentences(item, "en")
    without = ExtractiveWriter().passage_sentences(item, "en")
    assert any("shareholders" in s for s in without)        # the text alone does not show the cut
    assert not any("shareholders" in s for s in with_store)  # the previous page ends mid-sentence
    assert any("storage system shifts" in s for s in with_store)


def test_extractor_labels_stripped():
    assert strip_labels("[speech] The battery charges at noon.") == "The battery charges at noon."
    assert strip_labels("Notes: 强调时间错位是核心问题。") == "强调时间错位是核心问题。"
    assert strip_labels("Slide 3: 系统配置说明") == "系统配置说明"
    assert strip_labels("[on screen] 社区储能如何工作 / 白天充电傍晚放电 / 1/3") == "社区储能如何工作\n白天充电傍晚放电"
    got = _sentences("### Notes:\n强调时间错位是老旧小区光伏消纳的核心问题，社区储能比户用电池更经济。", source="s.pptx")
    assert got == ["强调时间错位是老旧小区光伏消纳的核心问题，社区储能比户用电池更经济。"]
    video = _sentences("[on screen] 一年运行效果 / 3/3\n[speech] 储能系统把中午多余的光伏电量存起来，在傍晚放给居民使用。",
                       source="v.mp4")
    assert video == ["储能系统把中午多余的光伏电量存起来，在傍晚放给居民使用。"]


def test_glued_heading_cut():
    assert cut_heading("2 项目概况梧桐社区建于本世纪初，共有住宅楼十八栋。") == "梧桐社区建于本世纪初，共有住宅楼十八栋。"
    assert cut_heading("1 引言城市建成区土地稀缺，屋顶是少有的太阳能资源。") == "城市建成区土地稀缺，屋顶是少有的太阳能资源。"
    assert clean_sentence("3.1 结果 全年发电一千三百八十六兆瓦时，自用率明显提高。").startswith("全年发电")
    # a number that is part of the sentence stays
    assert cut_heading("2 个储能舱合计容量一千千瓦时。") == "2 个储能舱合计容量一千千瓦时。"


def test_reference_entries_filtered():
    for s in ("梧桐社区能源合作社.《梧桐社区屋顶光伏与储能试点季度简报》（演示文稿），2024。",
              "林晓舟, 周蔓. 城市屋顶光伏研究[J]. 能源研究, 2023, 12(3): 45-52.",
              "Smith J, Brown K, et al. Community storage in practice. Energy Policy, 2021.",
              "[12] 青川市城市能源研究所. 社区储能运行说明, 2024."):
        assert is_reference_entry(s), s
    assert not is_reference_entry("梧桐社区建于本世纪初，共有住宅楼十八栋，常住三百一十二户参与试点。")
    text = ("全年光伏发电量达到一千三百八十六兆瓦时，社区自用比例明显提高。\n\n参考文献\n\n"
            "梧桐社区能源合作社. 试点运行月度数据（电子表格），2024.")
    assert _sentences(text) == ["全年光伏发电量达到一千三百八十六兆瓦时，社区自用比例明显提高。"]


def test_title_only_lines_skipped():
    assert is_title_like("梧桐社区屋顶光伏与储能试点：年度简报")
    assert not is_title_like("社区集中储能：统一调度，单位造价更低")
    assert _sentences("# 梧桐社区屋顶光伏与储能试点：年度简报\n\n城市屋顶光伏与社区储能协同运行研究以青川市梧桐社区试点为例") == []


def test_table_rows_as_sentences():
    table = "| 指标 | 仅光伏 | 光伏＋储能 |\n| --- | --- | --- |\n| 光伏自用率 | 57.9% | 80.9% |\n| 户均电费节省 | 7.9% | 12.4% |"
    rows = row_sentences(table, "zh")
    assert rows == ["光伏自用率：仅光伏 57.9%，光伏＋储能 80.9%。", "户均电费节省：仅光伏 7.9%，光伏＋储能 12.4%。"]
    got = _sentences("表1汇总了试点一年的主要指标，数据来自能量管理系统的实测记录。\n\n" + table)
    assert "光伏自用率：仅光伏 57.9%，光伏＋储能 80.9%。" in got
    assert not any("|" in s for s in got)


def test_quotes_only_stripped_when_unpaired():
    assert clean_sentence("（4）“十五五”时期经济社会发展的指导思想，坚持稳中求进。") == "“十五五”时期经济社会发展的指导思想，坚持稳中求进。"
    assert clean_sentence("”") == "" and clean_sentence("“") == "" and clean_sentence('"') == ""
