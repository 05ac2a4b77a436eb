"""Computed facts about a table, without a model: time range, first vs last value, peak and when, largest rise,
top categories, means and missing values — each stated with the cells it is computed from, so a reader can
recompute it. The facts passage (``locator="<sheet> (facts)"``) also carries the data of a default chart.

Three shapes are recognised: a long time series (a date column and numeric columns), a wide time series (dates
as column headers, one row per entity, e.g. COVID-19 case tables) and a plain table (survey answers,
categories).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from sourcebook.ingest.sheets import _parse_date, _parse_number, col_letter, fmt_value

MAX_SERIES = 3          # numeric columns described in a long time series
MAX_POINTS = 400        # points kept for the default chart
MAX_PLAIN_COLS = 8      # numeric columns described in a plain table
_PREFERRED = re.compile(r"close|收盘|confirm|确诊|case|death|死亡|total|总|value|amount|sales|销售|price|价格|"
                        r"stress|压力|count|数量", re.I)
_NOT_MEASURE = re.compile(r"^(lat|long|lon|latitude|longitude|纬度|经度|id|编号|序号|year|年份|month|月份|index|no\.?)$", re.I)
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F]")


@dataclass
class Fact:
    """One computed statement in Chinese and English, with the cells it comes from."""

    zh: str
    en: str
    cells: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Table:
    name: str
    header: list[str]
    raw: list[list[Any]]
    texts: list[list[str]]
    row0: int               # sheet row of the header
    col0: int               # 1-based sheet column of the first column
    dtypes: list[str]

    def cell(self, j: int, k: int) -> str:
        """A1 reference of data row ``k`` (0-based), column ``j`` (0-based)."""
        return f"{col_letter(self.col0 + j)}{self.row0 + 1 + k}"

    def column_range(self, j: int) -> str:
        return f"{self.cell(j, 0)}:{self.cell(j, len(self.texts) - 1)}"

    def number(self, j: int, k: int) -> float | None:
        v = self.raw[k][j] if j < len(self.raw[k]) else None
        if isinstance(v, bool):
            return None
        if isinstance(v, int | float):
            return float(v) if v == v else None
        return _parse_number(self.texts[k][j]) if self.texts[k][j] else None

    def date(self, j: int, k: int) -> dt.datetime | None:
        v = self.raw[k][j] if j < len(self.raw[k]) else None
        if isinstance(v, dt.datetime):
            return v
        if isinstance(v, dt.date):
            return dt.datetime.combine(v, dt.time())
        return _parse_date(self.texts[k][j]) if self.texts[k][j] else None


def short(label: str, n: int = 40) -> str:
    """A column name fit for a sentence or a chart axis (emoji dropped, shortened)."""
    s = " ".join(_EMOJI.sub("", label).split())
    return s if len(s) <= n else s[: n - 1] + "…"


def num(v: float) -> str:
    """A number as stated in a fact (integers exactly, others to 4 significant decimals)."""
    if float(v).is_integer():
        return fmt_value(float(v))
    return f"{v:.4f}".rstrip("0").rstrip(".") if abs(v) < 1000 else f"{v:.2f}"


def day(d: dt.datetime) -> str:
    return fmt_value(d)


def pct(a: float, b: float) -> str | None:
    if a == 0:
        return None
    return f"{(b - a) / abs(a) * 100:+.1f}%"


def _downsample(points: list[tuple[str, float]], keep: set[int]) -> list[tuple[str, float]]:
    if len(points) <= MAX_POINTS:
        return points
    step = len(points) / MAX_POINTS
    idx = sorted({int(i * step) for i in range(MAX_POINTS)} | keep | {len(points) - 1})
    return [points[i] for i in idx]


def _measures(t: Table, exclude: set[int]) -> list[int]:
    cols = [j for j, d in enumerate(t.dtypes) if d in ("integer", "float") and j not in exclude
            and not _NOT_MEASURE.match(t.header[j].strip())]
    return sorted(cols, key=lambda j: (not _PREFERRED.search(t.header[j]), j))


def long_series(t: Table) -> tuple[list[Fact], dict[str, Any] | None]:
    """Facts about a table with a date column: range, and per measure first vs last, peak and low."""
    date_cols = [j for j, d in enumerate(t.dtypes) if d == "date"]
    if not date_cols:
        return [], None
    jd = date_cols[0]
    dated = [(t.date(jd, k), k) for k in range(len(t.texts))]
    dated = [(d, k) for d, k in dated if d is not None]
    if len({d for d, _ in dated}) < 3:
        return [], None
    dated.sort()
    (d0, k0), (d1, k1) = dated[0], dated[-1]
    col_d = short(t.header[jd])
    facts = [Fact(f"{t.name}的{col_d}列覆盖{day(d0)}至{day(d1)}，共{len(dated)}行（{t.cell(jd, k0)}、{t.cell(jd, k1)}）。",
                  f"In {t.name}, {col_d} runs from {day(d0)} to {day(d1)} over {len(dated)} rows "
                  f"(cells {t.cell(jd, k0)} and {t.cell(jd, k1)}).", f"{t.cell(jd, k0)},{t.cell(jd, k1)}")]
    unique = len({d for d, _ in dated}) == len(dated)
    chart = None
    for j in _measures(t, {jd})[:MAX_SERIES]:
        name = short(t.header[j])
        if unique:
            pts = [(d, t.number(j, k), t.cell(j, k)) for d, k in dated]
            pts = [(d, v, c) for d, v, c in pts if v is not None]
            how_zh, how_en = "", ""
        else:  # several rows per date (groups): the series is the sum per date
            sums: dict[dt.datetime, float] = {}
            for d, k in dated:
                v = t.number(j, k)
                if v is not None:
                    sums[d] = sums.get(d, 0.0) + v
            pts = [(d, v, f"sum of {t.column_range(j)} rows dated {day(d)}") for d, v in sorted(sums.items())]
            how_zh, how_en = "（按日期合计）", " (summed per date)"
        if len(pts) < 3 or len({v for _, v, _ in pts}) < 2:
            continue
        first, last = pts[0], pts[-1]
        hi = max(pts, key=lambda p: p[1])
        lo = min(pts, key=lambda p: p[1])
        change = pct(first[1], last[1])
        ch_zh = f"，变化{change}" if change else ""
        ch_en = f", a change of {change}" if change else ""
        facts.append(Fact(
            f"{name}{how_zh}从{day(first[0])}的{num(first[1])}（{first[2]}）变为{day(last[0])}的{num(last[1])}"
            f"（{last[2]}）{ch_zh}。",
            f"{name}{how_en} went from {num(first[1])} on {day(first[0])} ({first[2]}) to {num(last[1])} on "
            f"{day(last[0])} ({last[2]}){ch_en}.", f"{first[2]},{last[2]}"))
        facts.append(Fact(
            f"{name}{how_zh}在{day(hi[0])}达到峰值{num(hi[1])}（{hi[2]}），最低值为{day(lo[0])}的{num(lo[1])}（{lo[2]}）。",
            f"{name}{how_en} peaked at {num(hi[1])} on {day(hi[0])} ({hi[2]}); its lowest value was "
            f"{num(lo[1])} on {day(lo[0])} ({lo[2]}).", f"{hi[2]},{lo[2]}"))
        if chart is None:
            points = [(day(d), v) for d, v, _ in pts]
            keep = {pts.index(hi), pts.index(lo)}
            chart = {"type": "line", "title": f"{t.name}: {name}", "title_zh": f"{t.name}：{name}走势",
                     "x": col_d, "y": name,
                     "points": _downsample(points, keep), "cells": f"{t.column_range(jd)}, {t.column_range(j)}",
                     "columns": [t.header[jd], t.header[j]]}
    return (facts, chart) if len(facts) > 1 else ([], None)


def wide_series(t: Table) -> tuple[list[Fact], dict[str, Any] | None]:
    """Facts about a table whose column headers are dates: per-date totals over all rows, the largest rise
    between consecutive dates, and the largest rows on the last date."""
    dated = [(d, j) for j, h in enumerate(t.header) if (d := _parse_date(h)) is not None]
    if len(dated) < 6 or len(dated) < 0.5 * len(t.header):
        return [], None
    dated.sort()
    n = len(t.texts)
    totals = []
    for d, j in dated:
        vals = [v for k in range(n) if (v := t.number(j, k)) is not None]
        if vals:
            totals.append((d, sum(vals), j))
    if len(totals) < 6:
        return [], None
    (d0, s0, j0), (d1, s1, j1) = totals[0], totals[-1]
    r0, r1 = t.column_range(j0), t.column_range(j1)
    facts = [Fact(
        f"{t.name}按日期分列，覆盖{day(d0)}至{day(d1)}共{len(totals)}个日期、{n}行；全部行的合计从{day(d0)}的{num(s0)}"
        f"（{r0}求和）变为{day(d1)}的{num(s1)}（{r1}求和）。",
        f"{t.name} has one column per date from {day(d0)} to {day(d1)} ({len(totals)} dates, {n} rows); the "
        f"total over all rows went from {num(s0)} on {day(d0)} (sum of {r0}) to {num(s1)} on {day(d1)} "
        f"(sum of {r1}).", f"{r0},{r1}")]
    rises = [(totals[i][1] - totals[i - 1][1], i) for i in range(1, len(totals))]
    rise, i = max(rises)
    (da, sa, ja), (db, sb, jb) = totals[i - 1], totals[i]
    facts.append(Fact(
        f"合计的单日最大增幅出现在{day(db)}，较{day(da)}增加{num(rise)}（{t.column_range(jb)}之和{num(sb)}减去"
        f"{t.column_range(ja)}之和{num(sa)}）。",
        f"The largest rise of the total between consecutive dates was {num(rise)} on {day(db)} (sum of "
        f"{t.column_range(jb)}, {num(sb)}, minus sum of {t.column_range(ja)}, {num(sa)}).",
        f"{t.column_range(ja)},{t.column_range(jb)}"))
    hi = max(totals, key=lambda x: x[1])
    if hi[0] != d1:
        facts.append(Fact(f"合计在{day(hi[0])}达到峰值{num(hi[1])}（{t.column_range(hi[2])}求和）。",
                          f"The total peaked at {num(hi[1])} on {day(hi[0])} (sum of {t.column_range(hi[2])}).",
                          t.column_range(hi[2])))
    labels = [j for j, dtp in enumerate(t.dtypes) if dtp == "text"]
    if labels:
        jl = max(labels, key=lambda j: len({t.texts[k][j] for k in range(n)}))
        last = sorted(((v, k) for k in range(n) if (v := t.number(j1, k)) is not None), reverse=True)[:3]
        if last:
            zh = "、".join(f"{t.texts[k][jl]}{num(v)}（{t.cell(j1, k)}）" for v, k in last)
            en = ", ".join(f"{t.texts[k][jl]} {num(v)} ({t.cell(j1, k)})" for v, k in last)
            facts.append(Fact(f"{day(d1)}数值最大的行为：{zh}。", f"On {day(d1)} the largest rows were {en}.",
                              ",".join(t.cell(j1, k) for _, k in last)))
    points = [(day(d), s) for d, s, _ in totals]
    daily = [(day(totals[i][0]), totals[i][1] - totals[i - 1][1]) for i in range(1, len(totals))]
    chart = {"type": "line", "title": f"{t.name}: total per date", "title_zh": f"{t.name}：各日期合计",
             "x": "date", "y": "total", "x_zh": "日期", "y_zh": "合计",
             "points": _downsample(points, {totals.index(hi)}), "cells": f"{r0} … {r1} (column sums)",
             "columns": [f"{t.header[j0]} … {t.header[j1]}"],
             "daily": _downsample(daily, {i - 1})}
    return facts, chart


def plain_table(t: Table) -> tuple[list[Fact], dict[str, Any] | None]:
    """Facts about a table without time: per numeric column mean, range and most common value; per category
    column the largest categories."""
    n = len(t.texts)
    facts: list[Fact] = []
    means: list[tuple[str, float]] = []
    for j in _measures(t, set())[:MAX_PLAIN_COLS]:
        vals = [(v, k) for k in range(n) if (v := t.number(j, k)) is not None]
        if len(vals) < 3:
            continue
        name = short(t.header[j])
        mean = sum(v for v, _ in vals) / len(vals)
        hi, lo = max(vals), min(vals)
        rng = t.column_range(j)
        zh = f"{name}的平均值为{num(round(mean, 4))}（{rng}共{len(vals)}个数值），最大{num(hi[0])}（{t.cell(j, hi[1])}），" \
             f"最小{num(lo[0])}（{t.cell(j, lo[1])}）"
        en = f"{name} averages {num(round(mean, 4))} over {len(vals)} values ({rng}), from {num(lo[0])} " \
             f"({t.cell(j, lo[1])}) to {num(hi[0])} ({t.cell(j, hi[1])})"
        counts = Counter(v for v, _ in vals)
        if len(counts) <= 10:
            v, c = counts.most_common(1)[0]
            zh += f"；最常见的取值是{num(v)}，共{c}行（{c / len(vals) * 100:.1f}%）"
            en += f"; the most common value is {num(v)} ({c} rows, {c / len(vals) * 100:.1f}%)"
        facts.append(Fact(zh + "。", en + ".", rng))
        means.append((name, mean))
    cats = []
    for j, dtp in enumerate(t.dtypes):
        if dtp != "text":
            continue
        counts = Counter(t.texts[k][j] for k in range(n) if t.texts[k][j])
        if not 2 <= len(counts) <= 30 or sum(counts.values()) < 5 or counts.most_common(1)[0][1] < 2 \
                or len(counts) > 0.5 * sum(counts.values()):
            continue
        top = counts.most_common(3)
        name = short(t.header[j])
        rng = t.column_range(j)
        facts.append(Fact(
            f"{name}（{rng}）共有{len(counts)}个类别，最多的是" + "、".join(f"{v}（{c}行）" for v, c in top) + "。",
            f"{name} ({rng}) has {len(counts)} categories; the largest are "
            + ", ".join(f"{v} ({c} rows)" for v, c in top) + ".", rng))
        cats.append((name, counts.most_common(12), rng, t.header[j]))
    chart = None
    if len(means) >= 2:
        chart = {"type": "bar", "title": f"{t.name}: mean per column", "title_zh": f"{t.name}：各列平均值",
                 "x": "column", "y": "mean", "x_zh": "列", "y_zh": "平均值",
                 "points": [(name, round(m, 4)) for name, m in means], "cells": "column ranges as stated",
                 "columns": [t.header[j] for j in _measures(t, set())[:MAX_PLAIN_COLS]]}
    elif cats:
        name, top, rng, col = cats[0]
        chart = {"type": "bar", "title": f"{t.name}: {name}", "title_zh": f"{t.name}：{name}分布",
                 "x": name, "y": "rows", "y_zh": "行数",
                 "points": [(v, c) for v, c in top], "cells": rng, "columns": [col]}
    return facts, chart


def missing_fact(t: Table) -> Fact | None:
    n = len(t.texts)
    gaps = [(sum(1 for k in range(n) if not t.texts[k][j]), j) for j in range(len(t.header))]
    gaps = [(m, j) for m, j in gaps if m]
    if not gaps:
        return None
    gaps.sort(reverse=True)
    shown = gaps[:4]
    zh = "、".join(f"{short(t.header[j], 24)}缺{m}个（{t.column_range(j)}）" for m, j in shown)
    en = ", ".join(f"{short(t.header[j], 24)} {m} ({t.column_range(j)})" for m, j in shown)
    more_zh = f"等{len(gaps)}列" if len(gaps) > len(shown) else ""
    more_en = f" and {len(gaps) - len(shown)} more columns" if len(gaps) > len(shown) else ""
    return Fact(f"{t.name}共{n}行数据，存在空单元格的列：{zh}{more_zh}。",
                f"{t.name} has {n} data rows; empty cells: {en}{more_en}.", ",".join(t.column_range(j) for _, j in shown))


def table_facts(t: Table) -> tuple[list[Fact], dict[str, Any] | None]:
    """The facts of a table (and its default chart), whichever shape it has."""
    if len(t.texts) < 3:
        return [], None
    for shape in (wide_series, long_series, plain_table):
        facts, chart = shape(t)
        if facts:
            break
    miss = missing_fact(t)
    if miss is not None:
        facts.append(miss)
    return facts, chart


def facts_text(facts: list[Fact]) -> str:
    """The passage text: each fact in Chinese, then in English."""
    return "\n".join(f"{f.zh}\n{f.en}" for f in facts)
