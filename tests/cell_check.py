"""Recompute the numbers a computed-facts sentence states from the cells it names (used by the tests)."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from sourcebook.ingest.sheets import _parse_number, fmt_value

_SINGLE = re.compile(r"(-?\d[\d.]*)（([A-Z]{1,3})(\d+)）")
_SUM = re.compile(r"(-?\d[\d.]*)（([A-Z]{1,3})(\d+):([A-Z]{1,3})(\d+)求和）")


def _col(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def load_grid(path: Path, sheet: str) -> list[list[Any]]:
    """All cells of a CSV or one sheet of an XLSX, as a row-major grid (row 1 first)."""
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as f:
            return list(csv.reader(f))
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    return [list(r) for r in wb[sheet].iter_rows(values_only=True)]


def _value(grid: list[list[Any]], col: str, row: int) -> float | None:
    v = grid[row - 1][_col(col) - 1]
    if isinstance(v, int | float):
        return float(v)
    return _parse_number(str(v or ""))


def check_fact_cells(path: Path, sheet: str, sentence: str) -> int:
    """Assert every ``number（CELL）`` and ``number（A2:A9求和）`` in ``sentence`` matches the file; returns how
    many numbers were checked."""
    grid = load_grid(path, sheet)
    n = 0
    for num, col, row in _SINGLE.findall(sentence):
        got = _value(grid, col, int(row))
        assert got is not None and abs(got - float(num)) <= 0.005 * max(1.0, abs(got)), \
            f"{path.name}: {col}{row} holds {got}, the sentence says {num}: {sentence}"
        n += 1
    for num, c0, r0, c1, r1 in _SUM.findall(sentence):
        assert c0 == c1
        total = sum(v for r in range(int(r0), int(r1) + 1) if (v := _value(grid, c0, r)) is not None)
        assert fmt_value(total) == num, f"{path.name}: sum of {c0}{r0}:{c1}{r1} is {total}, not {num}"
        n += 1
    return n
