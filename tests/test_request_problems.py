"""Contradictory or impossible length asks are reported as a request problem, never reinterpreted."""

from __future__ import annotations

from pathlib import Path

import pytest

from sourcebook.report.check_cli import check_file
from sourcebook.report.requirements import MAX_LENGTH_UNITS, parse_request


@pytest.mark.parametrize("request_text, needle", [
    ("写10到5字", "minimum 10字 is above maximum 5字"),
    ("不少于5000字但不超过100字", "minimum 5000字 is above maximum 100字"),
    ("写99999999999字", "beyond any report"),
    ("请写约300000字的报告", "beyond any report"),
    ("Write between 900 and 300 words on solar roofs.", "minimum 900 words is above maximum 300 words"),
    ("at least 2000 words but no more than 500 words", "contradictory"),
])
def test_problem_requests_have_no_length_and_a_problem(request_text: str, needle: str):
    req = parse_request(request_text)
    assert req.min_units is None and req.max_units is None
    assert len(req.problems) == 1 and needle in req.problems[0]


@pytest.mark.parametrize("request_text, lo, hi", [
    ("写10到20字", 10, 20),
    ("字数在1500至2000之间", 1500, 2000),
    ("报告字数在1500至2000之间，分三部分", 1500, 2000),
    ("写1000字", 900, 1100),
    (f"写{MAX_LENGTH_UNITS // 2}字", round(MAX_LENGTH_UNITS // 2 * 0.9), round(MAX_LENGTH_UNITS // 2 * 1.1)),
])
def test_sane_lengths_parse_without_problem(request_text: str, lo: int, hi: int):
    req = parse_request(request_text)
    assert (req.min_units, req.max_units) == (lo, hi) and req.problems == []


def test_non_lengths_stay_non_lengths():
    req = parse_request("写1-2段关于储能的介绍")
    assert req.min_units is None and req.problems == []


def test_compliance_table_names_the_request_problem(tmp_path: Path):
    report = tmp_path / "r.md"
    report.write_text("# 储能\n\n社区储能提高了自用比例。\n", encoding="utf-8")
    out = check_file(report, "写一篇储能报告，不少于5000字但不超过100字")
    rows = [c for c in out["checks"] if c["name"] == "request"]
    assert len(rows) == 1 and rows[0]["passed"] is False and "request problem" in rows[0]["detail"]
    assert out["verdict"] == "fail"
    length = next(c for c in out["checks"] if c["name"] == "length")
    assert length["passed"] is None  # no invented target to measure against
    fine = check_file(report, "写一篇储能报告")
    assert not [c for c in fine["checks"] if c["name"] == "request"]
