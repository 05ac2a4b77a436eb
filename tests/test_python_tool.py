"""``tool-python`` / ``run_python_code`` through the registry, over MCP, and in a scripted-LLM run whose
saved chart must appear in the report with its provenance."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import anyio
from typer.testing import CliRunner

from sourcebook.cli import app
from sourcebook.config import get_settings
from sourcebook.ingest.folder import ingest_folder
from sourcebook.llm.scripted import ScriptedServer
from sourcebook.sandbox.isolation import bwrap_problem
from sourcebook.tools.builtin import build_registry

DATA = "/data" if bwrap_problem() is None else None
CHART_CODE = (
    "import pandas as pd, matplotlib.pyplot as plt\n"
    "df = pd.read_csv(f'{DATA_DIR}/sales.csv', parse_dates=['月份'])\n"
    "fig, ax = plt.subplots()\nax.plot(df['月份'], df['销售额'], label='销售额')\nax.set_title('月度销售额')\n"
    "fig.savefig('sales_trend.png')\nint(df['销售额'].max())")


def sales_folder(tmp: Path) -> Path:
    folder = tmp / "task"
    folder.mkdir()
    rows = ["月份,地区,销售额"] + [f"2023-{m:02d}-01,{'华东' if m % 2 else '华北'},{100 + m * 7 - (m == 6) * 30}"
                               for m in range(1, 13)]
    (folder / "sales.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "notes.md").write_text("# 销售说明\n\n本表记录2023年各月销售额，单位为万元，数据由财务部门汇总。\n",
                                     encoding="utf-8")
    for p in (tmp, folder):
        p.chmod(0o755)
    return folder


def test_registry_call_registers_the_chart_as_a_figure_passage(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCEBOOK_SEARCH__DENSE", "false")
    folder = sales_folder(tmp_path)
    store = ingest_folder(folder, get_settings(cache_dir=tmp_path / "cache")).store
    out = tmp_path / "out"
    with build_registry(store, folder, out_dir=out) as reg:
        assert "run_python_code" in reg.servers()["tool-python"]
        spec = next(s for s in reg.specs() if s.name == "run_python_code")
        assert (DATA or str(folder.resolve())) in spec.description
        res = reg.call("tool-python", "run_python_code", {"code": CHART_CODE})
        assert res.ok, res.text
        assert "value: 184" in res.text and str(out.resolve() / "sales_trend.png") in res.text
        (pid,) = res.passage_ids
        p = store.get_passage(pid)
        assert p.locator == "figure 1" and p.kind == "figure"
        assert "月度销售额" in p.text and "sales.csv" in p.text and "销售额" in p.loc["inputs"][0]["columns"]
        assert p.loc["code"] == CHART_CODE and "max 184 at 2023-12-01" in p.text
        bad = reg.call("tool-python", "run_python_code", {"code": "1/0"})
        assert bad.ok and "ZeroDivisionError" in bad.text  # the code's error is the tool's text
        # a chart swapped for a link after saving is not read by the host
        swap = ("import os\nfig, ax = plt.subplots()\nfig.savefig('swap.png')\nos.remove('swap.png')\n"
                "os.symlink('/usr/lib/os-release', 'swap.png')")  # visible inside and outside
        linked = reg.call("tool-python", "run_python_code", {"code": swap})
        assert linked.ok and linked.passage_ids == [] and "not registered as a figure" in linked.text
        empty = reg.call("tool-python", "run_python_code", {"code": "  "})
        assert not empty.ok and "empty" in empty.text
    record = json.loads((out / "sandbox.json").read_text(encoding="utf-8"))
    assert record["isolation"] in ("bubblewrap", "reduced") and record["calls"] == 3
    assert record["figures"] == [pid]


def test_reachable_over_mcp(tmp_path, monkeypatch):
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    monkeypatch.setenv("SOURCEBOOK_SEARCH__DENSE", "false")
    monkeypatch.setenv("SOURCEBOOK_CACHE_DIR", str(tmp_path / "cache"))
    folder = sales_folder(tmp_path)
    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "sourcebook.tools.mcp_server", str(folder), "stdio"],
                                   env=dict(os.environ))

    async def main() -> tuple[bool, str, str]:
        async with stdio_client(params) as streams, ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            tools = {t.name: t for t in (await session.list_tools()).tools}
            assert tools["run_python_code"].meta["server"] == "tool-python"
            await session.call_tool("run_python_code", {"code": "n = 20"})
            res = await session.call_tool("run_python_code", {"code": "n + 22"})
            text = "\n".join(b.text for b in res.content)
            chart = await session.call_tool("run_python_code", {"code": CHART_CODE})
            return res.is_error, text, "\n".join(b.text for b in chart.content)

    is_error, text, chart = anyio.run(main)
    assert not is_error and "value: 42" in text, text
    assert "sales_trend.png" in chart and "passage_id:" in chart


def test_scripted_llm_run_puts_the_agents_chart_in_the_report(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCEBOOK_SEARCH__DENSE", "false")
    monkeypatch.setenv("SOURCEBOOK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SOURCEBOOK_LLM__API_KEY", "sk-test-secret-value")
    folder = sales_folder(tmp_path)
    env_code = "import os\nsorted(k for k in os.environ if 'KEY' in k or 'SOURCEBOOK' in k)"
    turns = [{"tool_calls": [{"server": "tool-python", "name": "run_python_code", "arguments": {"code": env_code}}]},
             {"tool_calls": [{"server": "tool-python", "name": "run_python_code",
                              "arguments": {"code": CHART_CODE}}]},
             {"text": "2023年销售额在12月达到最高184万元。"}]
    with ScriptedServer(turns) as srv:
        res = CliRunner().invoke(app, ["run", str(folder), "写一份2023年销售数据分析报告，约300字。", "--model",
                                       "scripted", "--base-url", srv.openai_base_url, "--runs-dir",
                                       str(tmp_path / "runs")])
    assert res.exit_code in (0, 1), res.output  # 1: the report checks failed, the run itself went through
    run_dir = Path(res.stdout.strip().splitlines()[-1])
    trace = (run_dir / "trace.jsonl").read_text(encoding="utf-8")
    assert "value: []" in trace, "the worker saw API keys or sourcebook settings in its environment"
    png = run_dir / "evidence" / "sales_trend.png"
    assert png.is_file()
    sandbox = json.loads((run_dir / "evidence" / "sandbox.json").read_text(encoding="utf-8"))
    assert sandbox["calls"] == 2 and sandbox["isolation"]
    md = (run_dir / "report.md").read_text(encoding="utf-8")
    assert "](evidence/sales_trend.png)" in md
    caption = next(line for line in md.splitlines() if line.startswith("![") and "sales_trend.png" in line)
    assert "月度销售额" in caption and "sales.csv" in caption and "销售额" in caption
    assert "figure 1" in md  # the chart is cited and listed in the references
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert html.count("<figure><img src=\"data:image/png;base64,") >= 1
    import docx

    assert len(docx.Document(str(run_dir / "report.docx")).inline_shapes) >= 1
