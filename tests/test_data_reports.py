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


def test_scripted_llm_run_charts_a_task_file(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from sourcebook.cli import app
    from sourcebook.llm.scripted import ScriptedServer

    monkeypatch.setenv("SOURCEBOOK_SEARCH__DENSE", "false")
    monkeypatch.setenv("SOURCEBOOK_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "010"
    folder.mkdir()
    for name in DATA["010"]:
        shutil.copy(ANCHORS / "010" / name, folder / name)
    for p in (tmp_path, folder):
        p.chmod(0o755)
    code = ("import pandas as pd, matplotlib.pyplot as plt\n"
            "df = pd.read_excel(f'{DATA_DIR}/yahoo_data.xlsx', sheet_name='Sheet1', parse_dates=['Date'])\n"
            "df = df.sort_values('Date')\nfig, ax = plt.subplots()\n"
            "ax.plot(df['Date'], df['Close*'], label='收盘价')\nax.set_title('收盘价走势 2018-2023')\n"
            "fig.savefig('close.png')\nround(float(df['Close*'].max()), 2)")
    turns = [{"tool_calls": [{"server": "tool-python", "name": "run_python_code", "arguments": {"code": code}}]},
             {"text": "收盘价在2022年初达到最高。"}]
    with ScriptedServer(turns) as srv:
        res = CliRunner().invoke(app, ["run", str(folder), "写一份Yahoo金融数据趋势分析报告，约800字。", "--model",
                                       "scripted", "--base-url", srv.openai_base_url, "--runs-dir",
                                       str(tmp_path / "runs")])
    run_dir = Path(res.stdout.strip().splitlines()[-1])
    verdict = json.loads((run_dir / "run.json").read_text(encoding="utf-8")).get("verdict")
    assert res.exit_code == (1 if verdict == "fail" else 0), res.output  # a failed report exits 1
    assert "value: 36799.65" in (run_dir / "trace.jsonl").read_text(encoding="utf-8")
    md = (run_dir / "report.md").read_text(encoding="utf-8")
    caption = next(line for line in md.splitlines() if line.startswith("![") and "close.png" in line)
    assert "收盘价走势" in caption and "yahoo_data.xlsx [Sheet1]" in caption and "Close*" in caption
    assert (run_dir / "evidence" / "close.png").is_file()
