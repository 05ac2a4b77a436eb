"""``sourcebook check REPORT --folder FOLDER``: every citation form resolved against the folder's passages,
unresolvable citations named (exit 1), claims verified."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sourcebook.cli import app
from tests.docgen import make_corpus, make_pdf
from tests.report_corpus import ZH_FILES, make_folder


def _folder(tmp_path: Path) -> Path:
    root = make_folder(tmp_path / "src", {"城市交通.md": ZH_FILES["城市交通.md"]})
    make_pdf(root / "paper.pdf", ["The method reaches a recall of 0.87 on the test set, compared with 0.79 for BM25.",
                                  "Training took two weeks on four GPUs and used 110 million parameters."])
    make_corpus(root / "long_context.json", [
        {"title": "城市充电网络建设", "page_body": "截至2023年底，全市累计建成公共充电桩3.2万个，平均充电等待时间缩短至8分钟。"}])
    return root


def _run(*args: str) -> tuple[int, dict | str]:
    res = CliRunner().invoke(app, ["check", *args])
    try:
        return res.exit_code, json.loads(res.stdout)
    except json.JSONDecodeError:
        return res.exit_code, res.output


GOOD = """# 城市交通报告

## 现状

2023年，某市新能源汽车销量达到12.4万辆，同比增长38%[1]。The method reaches a recall of 0.87 on the test set
[paper.pdf, p. 1]. Training used 110 million parameters over two weeks [2]. 全市累计建成公共充电桩3.2万个，平均充电等待时间缩短至8分钟[long_context: "城市充电网络建设", chunk 1]。

## 参考资料

[1] 城市交通.md
[2] paper.pdf, p. 2
"""


def test_good_report_resolves_every_form_and_passes(tmp_path: Path):
    root = _folder(tmp_path)
    report = tmp_path / "good.md"
    report.write_text(GOOD, encoding="utf-8")
    code, data = _run(str(report), "--folder", str(root), "--json")
    checks = {c["name"]: c for c in data["checks"]}
    assert checks["citations_resolvable"]["passed"] is True, checks["citations_resolvable"]
    assert checks["claims_grounded"]["passed"] is True, data["claims"]
    assert data["claim_counts"]["quoted"] + data["claim_counts"]["supported"] == len(data["claims"]) == 4
    first = data["claims"][0]
    assert set(first) >= {"sentence", "citations", "verdict", "reason", "passage_id", "span"}
    assert first["passage_id"] and first["span"]


def test_absent_sources_fail_and_are_named(tmp_path: Path):
    root = _folder(tmp_path)
    report = tmp_path / "absent.md"
    report.write_text("""# 报告

## 正文

新能源汽车销量达到12.4万辆[missing-paper.pdf, p. 3]。研究给出了召回率[paper.pdf, p. 9]。
充电桩建设加快[long_context: "不存在的文章", chunk 2]。销量同比增长38%[7]。

## 参考资料

[1] 城市交通.md
""", encoding="utf-8")
    code, out = _run(str(report), "--folder", str(root))
    assert code == 1
    flat = " ".join(str(out).split())
    for name in ("missing-paper.pdf", "paper.pdf has no p. 9", "不存在的文章", "reference [7]"):
        assert name in flat, name
    code, data = _run(str(report), "--folder", str(root), "--json")
    bad = {c["name"]: c for c in data["checks"]}["citations_resolvable"]
    assert bad["passed"] is False and bad["measured"] == "0/4"
    assert all(c["verdict"] == "unsupported" for c in data["claims"])


def test_contradicted_and_uncited_claims_fail(tmp_path: Path):
    root = _folder(tmp_path)
    report = tmp_path / "wrong.md"
    report.write_text("""# 报告

## 正文

2023年，某市新能源汽车销量达到21.4万辆，同比下降38%[1]。该市计划明年建成全国最大的氢能源汽车产业园。

## 参考资料

[1] 城市交通.md
""", encoding="utf-8")
    code, data = _run(str(report), "--folder", str(root), "--json")
    assert code == 1
    verdicts = [c["verdict"] for c in data["claims"]]
    assert verdicts == ["contradicted", "unsupported"]
    assert data["claims"][1]["reason"] == "no citation"


def test_without_folder_citations_are_unmeasured(tmp_path: Path):
    report = tmp_path / "good.md"
    report.write_text(GOOD, encoding="utf-8")
    code, data = _run(str(report), "--json")
    checks = {c["name"]: c for c in data["checks"]}
    assert checks["citations_resolvable"]["passed"] is None
    assert checks["claims_grounded"]["passed"] is None
    code, out = _run(str(report), "--folder", str(tmp_path / "nope"))
    assert code == 2 and "nope" in str(out)
