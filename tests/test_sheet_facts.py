"""Computed table facts on generated CSV/XLSX: every number they state is recomputed from the cells they name;
shapes that carry no facts give none (and do not fail the file)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sourcebook.ingest.base import ExtractContext
from sourcebook.ingest.sheets import extract_csv, extract_sheet
from tests.cell_check import check_fact_cells


def _facts(path: Path):
    ctx = ExtractContext(path.parent, path.name, path.parent / "work")
    fn = extract_csv if path.suffix == ".csv" else extract_sheet
    return [p for p in fn(path, ctx) if p.locator.endswith("(facts)")]


def _check_all(path: Path, passage) -> int:
    return sum(check_fact_cells(path, passage.loc["sheet"], f["zh"]) for f in passage.loc["facts"])


def test_long_series_first_last_peak(tmp_path):
    path = tmp_path / "cases.csv"
    days = [dt.date(2022, 3, 1) + dt.timedelta(days=i) for i in range(60)]
    vals = [50 + i * 3 if i != 41 else 999 for i in range(60)]
    lines = ["日期,确诊,纬度"] + [f"{d.isoformat()},{v},31.2" for d, v in zip(days, vals, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (p,) = _facts(path)
    zh = [f["zh"] for f in p.loc["facts"]]
    assert any("2022-04-11达到峰值999（B43）" in s for s in zh), zh
    assert any("从2022-03-01的50（B2）变为2022-04-29的227（B61）" in s for s in zh), zh
    assert not any("纬度" in s for s in zh), "coordinates are not measures"
    assert _check_all(path, p) == 4  # first, last, peak, low
    chart = p.loc["chart"]
    assert chart["type"] == "line" and ["2022-04-11", 999] in [list(x) for x in chart["points"]]


def test_descending_dates_in_xlsx(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "价格"
    ws.append(["Date", "Close"])
    start = dt.datetime(2020, 1, 1)
    rows = [(start + dt.timedelta(days=i), 100.0 + (i % 7) * 1.5 - (i == 3) * 40) for i in range(30)]
    for d, v in reversed(rows):  # newest first, as finance exports are
        ws.append([d, v])
    path = tmp_path / "prices.xlsx"
    wb.save(path)
    (p,) = _facts(path)
    zh = " ".join(f["zh"] for f in p.loc["facts"])
    assert "覆盖2020-01-01至2020-01-30" in zh
    assert "最低值为2020-01-04的64.5（B28）" in zh, zh
    assert _check_all(path, p) == 4


def test_wide_series_totals_and_largest_rise(tmp_path):
    path = tmp_path / "wide.csv"
    dates = [f"1/{d}/21" for d in range(1, 11)]
    regions = {"甲": [i * 2 for i in range(10)], "乙": [i * 5 for i in range(10)], "丙": [0] * 9 + [100]}
    lines = ["Province,Country," + ",".join(dates)]
    lines += [f",{name}," + ",".join(map(str, v)) for name, v in regions.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (p,) = _facts(path)
    zh = [f["zh"] for f in p.loc["facts"]]
    assert "全部行的合计从2021-01-01的0（C2:C4求和）变为2021-01-10的163（L2:L4求和）" in zh[0]
    assert "单日最大增幅出现在2021-01-10，较2021-01-09增加107" in zh[1]
    assert "丙100（L4）" in zh[2] and "乙45（L3）" in zh[2]
    assert any("Province缺3个（A2:A4）" in s for s in zh)
    assert _check_all(path, p) >= 5


def test_survey_means_and_categories(tmp_path):
    path = tmp_path / "survey.csv"
    answers = [(1 + i % 5, 1 + (i * 3) % 4, ["男", "女", "女"][i % 3]) for i in range(30)]
    path.write_text("压力 😟,睡眠,性别\n" + "\n".join(f"{a},{b},{c}" for a, b, c in answers) + "\n",
                    encoding="utf-8")
    (p,) = _facts(path)
    zh = [f["zh"] for f in p.loc["facts"]]
    mean = sum(a for a, _, _ in answers) / 30
    assert zh[0].startswith(f"压力的平均值为{mean:g}（A2:A31共30个数值）"), zh[0]
    assert any("性别（C2:C31）共有2个类别，最多的是女（20行）、男（10行）" in s for s in zh)
    assert _check_all(path, p) >= 4
    assert p.loc["chart"]["type"] == "bar"


@pytest.mark.parametrize("content", ["a,b\n1,2\n", "名称,说明\n甲,文字\n乙,文字\n丙,文字\n丁,文字\n",
                                     "x\n\n\n", "date,v\n2020-01-01,x\n2020-01-02,y\n2020-01-03,z\n"])
def test_tables_without_facts_give_none(tmp_path, content):
    path = tmp_path / "t.csv"
    path.write_text(content, encoding="utf-8")
    assert _facts(path) == [] or all(not f.loc["chart"] for f in _facts(path))
