"""Acceptance on the data tasks of ../shared (008 COVID CSVs, 009 student-stress CSV, 010 Yahoo XLSX): the
no-LLM report states computed figures, each traceable to the cells it names, and embeds at least one chart
with its provenance."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from sourcebook.config import get_settings
from sourcebook.ingest.folder import ingest_folder
from sourcebook.report.pipeline import build_report
from tests.cell_check import check_fact_cells

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"
ANCHORS = SHARED / "anchor-tasks"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.shared,
    pytest.mark.skipif(not ANCHORS.exists(), reason="../shared/fixtures not present"),
]

OUT = Path(os.environ["SOURCEBOOK_KEEP_REPORTS"]) if os.environ.get("SOURCEBOOK_KEEP_REPORTS") else None
DATA = {"008": ("time_series_covid19_confirmed_global.csv", "time_series_covid19_deaths_global.csv"),
        "009": ("Student Stress Factors.csv", "readme.md"),
        "010": ("yahoo_data.xlsx", "About_Dataset.docx")}


def _query(task: str) -> str:
    for line in (ANCHORS / "query.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip() and json.loads(line)["task"] == task:
            return json.loads(line)["query"]
    raise KeyError(task)


@pytest.mark.parametrize("task", sorted(DATA))
def test_data_task_report_has_computed_facts_and_charts(task, tmp_path):
    folder = tmp_path / task
    folder.mkdir()
    for name in DATA[task]:
        shutil.copy(ANCHORS / task / name, folder / name)  # a temporary copy: the fixture folder stays as it is
    settings = get_settings(cache_dir=tmp_path / "cache")
    store = ingest_folder(folder, settings).store
    res = build_report(store, _query(task), settings, OUT / task if OUT else tmp_path / "run")
    md = res.paths["md"].read_text(encoding="utf-8")
    html = res.paths["html"].read_text(encoding="utf-8")

    cited = [pid for sec in res.draft.sections for pid in re.findall(r"\[@([\w\-:.]+)\]", sec.body)]
    facts = [p for pid in dict.fromkeys(cited) if (p := store.get_passage(pid)) and p.locator.endswith("(facts)")]
    assert facts, "the report states no computed facts"
    stated = checked = 0
    for p in facts:
        body = "\n".join(s.body for s in res.draft.sections)
        for f in p.loc["facts"]:
            if f["zh"] in body.replace(f"[@{p.id}]", ""):
                stated += 1
                checked += check_fact_cells(folder / p.source, p.loc["sheet"], f["zh"])
    assert stated >= 2 and checked >= 2

    figures = [f for sec in res.draft.sections for f in sec.figures]
    assert figures, "no chart in the report"
    for fig in figures:
        assert Path(fig["path"]).is_file() and fig["provenance"]["inputs"]
        assert Path(fig["path"]).read_bytes()[:4] == b"\x89PNG"
    assert "![" in md and "](figures/" in md or "](evidence/" in md
    assert "<figure><img src=\"data:image/png;base64," in html
    assert any(DATA[task][0] in cap for cap in re.findall(r"<figcaption>(.*?)</figcaption>", html))
