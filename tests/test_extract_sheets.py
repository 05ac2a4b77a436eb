"""Spreadsheet and CSV extractors: profiles, A1 ranges, encodings, wide sheets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sourcebook.ingest.base import ExtractionError
from sourcebook.ingest.sheets import a1_range, col_letter, sniff_dialect
from tests.docgen import make_csv, make_csv_gbk, make_xlsx
from tests.docgen import run_extractor as run


def test_column_letters() -> None:
    assert [col_letter(i) for i in (1, 26, 27, 52, 53, 702, 703, 1147)] == [
        "A", "Z", "AA", "AZ", "BA", "ZZ", "AAA", "ARC"]
    assert a1_range(1, 1, 6, 20) == "A1:F20"
    with pytest.raises(ValueError):
        col_letter(0)


def test_xlsx_two_sheets(tmp_path: Path) -> None:
    rows = [["City", "Population", "Area"]] + [[f"City{i}", 1000 + i, 10.5 * i] for i in range(1, 101)]
    book = make_xlsx(tmp_path / "book.xlsx", {"Cities": rows, "Notes": [["Key", "Value"], ["source", "census"]]})
    passages, ctx = run("sheet", book, tmp_path)
    assert ctx.meta["sheets"] == ["Cities", "Notes"]
    assert ctx.meta["rows"] == 101
    assert ctx.meta["columns"] == 3
    cities = [p for p in passages if p.loc["sheet"] == "Cities"]
    profile = cities[0]
    assert profile.locator == "Cities (profile)"
    assert "Population: integer" in profile.text
    assert "min 1001, max 1100, mean 1050.5" in profile.text
    assert "City: text" in profile.text
    ranges = [p for p in cities if not p.loc.get("profile")]
    assert ranges[0].locator.startswith("Cities!A1:C")
    # consecutive passages cover consecutive rows, header repeated on each
    covered = []
    for p in ranges:
        table_lines = [ln for ln in p.text.splitlines() if not ln.startswith("## ")]
        assert table_lines[0] == "| City | Population | Area |"
        covered.append(tuple(p.loc["rows"]))
    assert covered[0][0] == 1 and covered[-1][1] == 101
    for (_, b), (c, _) in zip(covered, covered[1:], strict=False):
        assert c == b + 1
    last = ranges[-1]
    assert last.locator == f"Cities!A{covered[-1][0]}:C101"
    assert "| City100 | 1100 | 1050 |" in last.text
    notes = [p for p in passages if p.loc["sheet"] == "Notes"]
    assert any("| source | census |" in p.text for p in notes)


def test_csv_gbk_chinese(tmp_path: Path) -> None:
    rows = [["城市", "人口", "备注"], ["北京", "2189", "首都"], ["上海", "2487", "直辖市"], ["广州", "1868", "省会城市"]]
    path = make_csv_gbk(tmp_path / "城市.csv", rows)
    passages, ctx = run("csv", path, tmp_path)
    assert ctx.meta["encoding"].lower() in ("gb18030", "gbk", "gb2312")
    assert ctx.meta["sheets"] == ["城市"]
    text = "\n".join(p.text for p in passages)
    assert "| 北京 | 2189 | 首都 |" in text
    assert "| 广州 | 1868 | 省会城市 |" in text
    assert passages[1].locator == "城市!A1:C4"


def test_csv_shift_jis_semicolon(tmp_path: Path) -> None:
    rows = [["名前", "年齢", "住所"], ["佐藤太郎", "30", "東京"], ["髙橋淳", "35", "名古屋"]]
    path = make_csv(tmp_path / "people.csv", rows, encoding="cp932", delimiter=";")
    passages, ctx = run("csv", path, tmp_path)
    assert ctx.meta["delimiter"] == ";"
    text = "\n".join(p.text for p in passages)
    assert "| 佐藤太郎 | 30 | 東京 |" in text and "| 髙橋淳 | 35 | 名古屋 |" in text


def test_csv_utf8_sig(tmp_path: Path) -> None:
    path = make_csv(tmp_path / "bom.csv", [["a", "b"], ["1", "é"]], encoding="utf-8-sig")
    passages, ctx = run("csv", path, tmp_path)
    assert ctx.meta["encoding"] == "utf-8-sig"
    assert "| a | b |" in passages[1].text  # no BOM glued to the first header


def test_wide_csv_is_wrapped(tmp_path: Path) -> None:
    header = ["Province", "Country"] + [f"d{i}" for i in range(300)]
    rows = [header] + [[f"P{r}", f"C{r}"] + [str(r * i) for i in range(300)] for r in range(30)]
    path = make_csv(tmp_path / "wide.csv", rows)
    passages, ctx = run("csv", path, tmp_path)
    wrapped = ctx.meta["wrapped_sheets"][0]
    assert wrapped["columns"] == 302
    assert wrapped["repeated_columns"] == ["Province", "Country"]
    data = [p for p in passages if not p.loc.get("profile")]
    assert len(data) < 120
    for p in data:
        assert p.text.splitlines()[-1].startswith("| P")  # label columns repeated in every block
        assert len(p.loc["columns"]) <= 2 + 16
    # 19 blocks of 16 columns: 8 evenly spaced ones are kept (first and last included)
    assert wrapped["column_blocks"] == 19 and wrapped["column_blocks_kept"] == 8
    assert wrapped["columns_omitted"] == 300 - (7 * 16 + 12)
    assert any(p.loc["columns"][-1] == "d299" for p in data)
    # block 3 (d48…d63 = columns AY…BN) gets a union range with the label columns
    block = [p for p in data if p.loc["columns"][2] == "d48"]
    assert block and re.fullmatch(r"wide!A1:B\d+,AY1:BN\d+", block[0].locator)


def test_sniff_dialect() -> None:
    assert sniff_dialect("a\tb\n1\t2\n", ".tsv") == "\t"
    assert sniff_dialect("a|b|c\n1|2|3\n", ".csv") == "|"


def test_empty_and_bad_sheets(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(ExtractionError) as err:
        run("csv", empty, tmp_path)
    assert err.value.status == "empty"
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04not a workbook")
    with pytest.raises(ExtractionError, match="corrupt spreadsheet"):
        run("sheet", bad, tmp_path)


def test_profile_dates_and_xlsx_datetimes(tmp_path: Path) -> None:
    import datetime as dt

    csv_path = make_csv(tmp_path / "prices.csv",
                        [["Date", "Close"], ["Apr 28, 2023", "1,034.5"], ["May 01, 2018", "998"], ["Jan 02, 2020", "1000"]])
    passages, _ = run("csv", csv_path, tmp_path)
    assert "- Date: date, 3 values, from 2018-05-01 to 2023-04-28" in passages[0].text
    assert "- Close: float, 3 values, min 998, max 1034.5" in passages[0].text
    book = make_xlsx(tmp_path / "d.xlsx", {"S": [["When", "Flag"], [dt.datetime(2024, 3, 1), True],
                                                 [dt.datetime(2024, 3, 2, 14, 30), False]]})
    passages, _ = run("sheet", book, tmp_path)
    assert "from 2024-03-01 to 2024-03-02 14:30:00" in passages[0].text
    assert "| 2024-03-01 | TRUE |" in passages[1].text and "| 2024-03-02 14:30:00 | FALSE |" in passages[1].text


def test_csv_bad_tail_keeps_rows(tmp_path: Path) -> None:
    path = tmp_path / "tail.csv"
    path.write_text("name,score\nann,1\nbob,2\ncid,\"" + "x" * 300_000 + "\"\n", encoding="utf-8")
    passages, ctx = run("csv", path, tmp_path)
    assert ctx.warnings and ctx.warnings[0].startswith("malformed CSV after row 3")
    assert "| bob | 2 |" in "\n".join(p.text for p in passages)


def test_caption_row_above_header(tmp_path: Path) -> None:
    book = make_xlsx(tmp_path / "sales.xlsx", {"销售": [
        ["2023年各区销售数据", None, None],
        ["区", "销量", "增长率"],
        ["东区", 120, 0.12],
        ["西区", 95, -0.03],
    ]})
    passages, ctx = run("sheet", book, tmp_path)
    assert ctx.meta["rows"] == 2 and ctx.meta["columns"] == 3
    profile = passages[0].text
    assert "Caption: 2023年各区销售数据" in profile
    assert "- 区: text" in profile and "- 销量: integer, 2 values, min 95, max 120" in profile
    assert "header in row 2" in profile
    assert passages[1].locator == "销售!A2:C4"
    assert passages[1].text.splitlines()[1] == "| 区 | 销量 | 增长率 |"
