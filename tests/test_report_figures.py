"""No-LLM report on generated CSV/XLSX data: computed facts are stated and cited, their numbers match the
cells they name, and each table's default chart is embedded (Markdown, HTML, DOCX) with a caption naming the
source data."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from sourcebook.config import get_settings
from sourcebook.ingest.folder import ingest_folder
from sourcebook.report.pipeline import build_report
from tests.cell_check import check_fact_cells


@pytest.fixture()
def data_folder(tmp_path, monkeypatch):
    import openpyxl

    monkeypatch.setenv("SOURCEBOOK_SEARCH__DENSE", "false")
    folder = tmp_path / "task"
    folder.mkdir()
    lines = ["日期,新增病例"] + [f"{(dt.date(2022, 4, 1) + dt.timedelta(days=i)).isoformat()},{20 + (i * 13) % 50}"
                               for i in range(40)]
    (folder / "病例.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "满意度"
    ws.append(["专业", "满意度", "压力"])
    for i in range(24):
        ws.append([["计算机", "数学", "物理"][i % 3], 1 + i % 5, 2 + i % 4])
    wb.save(folder / "调查.xlsx")
    (folder / "说明.md").write_text("# 数据说明\n\n病例表记录2022年4月以来每日新增病例，调查表记录学生满意度与压力评分。\n",
                                   encoding="utf-8")
    return folder


def test_extractive_report_states_facts_and_embeds_charts(data_folder, tmp_path):
    settings = get_settings(cache_dir=tmp_path / "cache")
    store = ingest_folder(data_folder, settings).store
    res = build_report(store, "请根据数据撰写一份约600字的数据分析报告，包含：一、数据概况；二、趋势分析。", settings,
                       tmp_path / "run")
    body = "\n".join(s.body for s in res.draft.sections)
    cited = dict.fromkeys(re.findall(r"\[@([\w\-:.]+)\]", body))
    facts = [p for pid in cited if (p := store.get_passage(pid)) and p.locator.endswith("(facts)")]
    assert {p.source for p in facts} == {"病例.csv", "调查.xlsx"}
    checked = 0
    for p in facts:
        for f in p.loc["facts"]:
            if f["zh"] in body.replace(f"[@{p.id}]", ""):
                checked += check_fact_cells(data_folder / p.source, p.loc["sheet"], f["zh"])
    assert checked >= 4
    # each fact once, in the report's language: the English lines of the facts passages are not quoted, and
    # no half of a fact (split at its semicolon) stands alone
    english = [f["en"] for p in facts for f in p.loc["facts"]]
    assert not [e for e in english if e.split(";")[0].rstrip(".") in body], english
    assert "the most common value" not in body and "averages" not in body
    figures = [f for s in res.draft.sections for f in s.figures]
    assert len(figures) == 2
    md = res.paths["md"].read_text(encoding="utf-8")
    captions = [line for line in md.splitlines() if line.startswith("![")]
    assert any("病例.csv" in c and "新增病例" in c for c in captions), captions
    assert any("调查.xlsx [满意度]" in c for c in captions), captions
    assert "<figure><img src=\"data:image/png;base64," in res.paths["html"].read_text(encoding="utf-8")
    import docx

    assert len(docx.Document(str(res.paths["docx"])).inline_shapes) == 2
    assert res.checks and next(c for c in res.checks if c.name == "citations_resolvable").passed is True
