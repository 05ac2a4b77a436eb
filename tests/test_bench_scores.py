"""Bench scoring on inputs built to break each score: length out of range, near-empty, unresolvable
citations, wrong boxed answers, bad suite files, a results directory of another model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sourcebook.bench import BenchError
from sourcebook.bench.manifest import Identity, claim
from sourcebook.bench.metrics import length_score, range_length_score, score_compliance
from sourcebook.bench.qa import exact_match, last_boxed, normalize_answer
from sourcebook.bench.rescore import rescore
from sourcebook.bench.scorecard import compare
from sourcebook.bench.suite import load_suite
from sourcebook.cli import app
from tests.benchgen import REQUEST_A, REQUEST_B, make_suite

# ------------------------------------------------------------------------------------------------ length


def test_length_score_is_longbench_write_formula():
    assert length_score(1000, 1000) == 100.0
    assert length_score(1000, 2000) == pytest.approx(100 * (1 - 1 / 3))   # twice too long
    assert length_score(1000, 500) == pytest.approx(50.0)                 # half: 1 - (2 - 1) / 2
    assert length_score(1000, 4000) == 0.0 and length_score(1000, 0) == 0.0
    assert range_length_score(800, 1000, 900) == 100.0
    assert range_length_score(800, 1000, 400) == pytest.approx(50.0)       # scored against the lower bound
    assert range_length_score(800, 1000, 2000) == pytest.approx(100 * (1 - 1 / 3), abs=0.01)
    assert range_length_score(None, None, 10) is None
    with pytest.raises(ValueError):
        length_score(0, 10)


# ------------------------------------------------------------------------------------------------ QA


def test_boxed_answers_and_normalised_exact_match():
    text = r"first \boxed{12} then the answer is \boxed{\frac{1}{2}} and $\boxed{ 1,234 \text{ km} }$."
    assert last_boxed(text) == r" 1,234 \text{ km} "
    assert last_boxed("no box here") is None
    assert normalize_answer(r" 1,234 \text{ km} ") == "1234km"
    assert exact_match(r"\text{Paris}.", "paris")
    assert exact_match("《三国演义》", "三国演义")
    assert not exact_match("41", "42")
    assert not exact_match(None, "42")


# ------------------------------------------------------------------------------------------------ suites


def test_suite_file_errors_name_file_and_line(tmp_path):
    q = make_suite(tmp_path / "s")
    q.write_text(q.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")
    with pytest.raises(BenchError, match=r"query\.jsonl:3: not a JSON line"):
        load_suite(q, q.parent)
    q.write_text(json.dumps({"task": "a"}) + "\n", encoding="utf-8")
    with pytest.raises(BenchError, match=r"query\.jsonl:1: task a has no 'query'"):
        load_suite(q, q.parent)
    q.write_text(json.dumps({"task": "zz", "query": "x"}) + "\n", encoding="utf-8")
    with pytest.raises(BenchError, match=r"zz: no folder for task zz"):
        load_suite(q, q.parent)
    q.write_text(json.dumps({"task": "a", "query": "x"}) + "\n" + json.dumps({"task": "a", "query": "y"}) + "\n")
    with pytest.raises(BenchError, match="task a appears twice"):
        load_suite(q, q.parent)
    q.write_text(json.dumps({"task": "a", "query": "x"}) + "\n", encoding="utf-8")
    with pytest.raises(BenchError, match="no task.*007"):
        load_suite(q, q.parent, ["007"])
    assert [t.task for t in load_suite(q, q.parent, ["a"])] == ["a"]


def test_results_dir_refuses_another_model(tmp_path):
    res = tmp_path / "res"
    claim(res, Identity(rounds=3), {}, resume=False)
    with pytest.raises(BenchError, match="holds runs of extractive .no LLM., not model gpt-x") as e:
        claim(res, Identity(model="gpt-x", provider="openai"), {}, resume=True)
    assert "\n" not in str(e.value)
    with pytest.raises(BenchError, match="pass --resume"):
        claim(res, Identity(rounds=3), {}, resume=False)
    claim(res, Identity(rounds=3), {}, resume=True)  # same identity, resuming: fine
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    with pytest.raises(BenchError, match="not empty and has no manifest.json"):
        claim(other, Identity(), {}, resume=False)


def test_cli_refuses_mixing_models_with_one_line(tmp_path):
    q = make_suite(tmp_path / "s")
    res = tmp_path / "res"
    claim(res, Identity(model="model-a", provider="openai"), {}, resume=False)
    out = CliRunner().invoke(app, ["bench", str(q), "--results", str(res), "--extractive", "--resume"])
    assert out.exit_code == 2
    assert "holds runs of model model-a (openai), not extractive (no LLM)" in out.output
    assert not (res / "runs").exists()  # nothing ran


# ------------------------------------------------------------------------------------------------ scoring


def _compliance(checks: dict[str, tuple]) -> dict:
    return {"verdict": "fail", "checks": [{"name": n, "passed": p, "measured": m, "expected": None, "detail": ""}
                                          for n, (p, m) in checks.items()]}


def test_score_reads_compliance_and_marks_missing_grounding_unmeasured():
    comp = _compliance({"not_empty": (False, 20), "length": (False, 20), "citations_resolvable": (False, "1/3"),
                        "inputs_cited": (True, "2/2"), "sections_present": (False, "1/4"), "format": (True, "markdown")})
    row = score_compliance(comp, {"min_units": 800, "max_units": 1000, "unit": "chars"})
    assert row["near_empty"] is True
    assert row["length"] == {"measured": 20, "min": 800, "max": 1000, "unit": "chars", "in_range": False,
                             "score": 0.0}
    assert row["citations_resolvable"] == {"passed": False, "measured": "1/3"}
    assert row["claims"] == "unmeasured" and row["off_topic_share"] == "unmeasured"
    comp["claims"] = {"quoted": 2, "supported": 5, "contradicted": 1, "unsupported": 3}
    comp["section_relevance"] = {"sections": [{"title": "x", "off_topic": True}, {"title": "y", "off_topic": False}]}
    row = score_compliance(comp, {})
    assert row["claims"] == {"quoted": 2, "supported": 5, "contradicted": 1, "unsupported": 3}
    assert row["off_topic_share"] == 0.5
    comp["section_relevance"] = {"引言": 1.0, "现状": 0.5, "建议": 0.0}  # title → on-topic share
    del comp["claims"]
    comp["claim_counts"] = {"quoted": 1, "supported": 0, "contradicted": 0, "unsupported": 4}
    row = score_compliance(comp, {})
    assert row["off_topic_share"] == 0.5
    assert row["claims"] == {"quoted": 1, "supported": 0, "contradicted": 0, "unsupported": 4}


LONG_ZH = "城市交通的现状值得关注，新能源汽车销量持续增长。" * 120
REPORT_IN_RANGE = """# 城市绿色交通发展报告

## 引言

{body}

## 现状与数据

2023年，某市新能源汽车销量达到12.4万辆，同比增长38%[1]。约六成受访者表示愿意选择新能源汽车[2]。

## 问题与挑战

充电设施的布局仍不均衡，中心城区的车桩比约为三比一[1]。

## 参考资料

[1] 城市交通.md
[2] 居民调查.txt
"""


def _other_system_tree(root: Path) -> Path:
    """Reports as another system left them: <task>/final_report.md."""
    reports = {
        # far too long (about 2,700 chars for 500–700)
        "a": REPORT_IN_RANGE.format(body=LONG_ZH),
        # near-empty
        "b": "# Solar adoption in Riverton\n\n## Introduction\n\nTBD.\n",
        # in range, but one citation points at a web page and one at a passage that does not exist
        "c": REPORT_IN_RANGE.format(body="城市交通是城市发展的重要议题，绿色出行关系居民生活质量与能源安全。" * 18)
        .replace("约六成受访者表示愿意选择新能源汽车[2]", "约六成受访者表示愿意选择新能源汽车[2][3]")
        .replace("[2] 居民调查.txt", "[2] 居民调查.txt\n[3] https://example.com/ev-news")
        .replace("约为三比一[1]。", "约为三比一[1][@p0000000000]。"),
        # a QA task with a wrong boxed answer
        "d": REPORT_IN_RANGE.format(body="城市交通是城市发展的重要议题。" * 36 + r"答案：\boxed{12.5万辆}"),
    }
    for task, text in reports.items():
        d = root / "outputs" / f"{task}-run" / task
        d.mkdir(parents=True)
        (d / "final_report.md").write_text(text, encoding="utf-8")
    return root / "outputs"


def test_rescore_other_systems_reports_with_folder_resolution(tmp_path):
    q = make_suite(tmp_path / "suite", answers={"d": "12.4万辆"}, extra={"c": REQUEST_A, "d": REQUEST_A})
    tree = _other_system_tree(tmp_path)
    out = CliRunner().invoke(app, ["bench", "score", str(tree), "--queries", str(q), "--folder-root", str(q.parent),
                                   "--out", str(tmp_path / "scored")])
    assert out.exit_code == 0, out.output
    card = json.loads((tmp_path / "scored" / "rescored.json").read_text(encoding="utf-8"))
    rows = {r["task"]: r for r in card["tasks"]}
    assert set(rows) == {"a", "b", "c", "d"}
    a, b, c, d = rows["a"], rows["b"], rows["c"], rows["d"]
    assert a["length"]["in_range"] is False and a["length"]["measured"] > 700
    assert 0 < a["length"]["score"] < 100
    assert a["citations_resolvable"] == {"passed": True, "measured": "2/2"}
    assert a["near_empty"] is False
    assert b["near_empty"] is True and b["length"]["in_range"] is False and b["length"]["score"] < 20
    assert c["length"]["in_range"] is True and c["length"]["score"] == 100.0
    assert c["citations_resolvable"]["passed"] is False
    assert c["citations_resolvable"]["measured"] == "2/4"  # [1], [2] resolve; the URL and the made-up id do not
    assert d["qa"] == {"expected": "12.4万辆", "got": "12.5万辆", "match": False}
    assert card["totals"]["qa"] == {"tasks": 1, "exact_match": 0, "accuracy": 0.0}
    assert card["totals"]["near_empty"] == 1
    assert card["totals"]["length_in_range"]["failed"] == 2
    md = (tmp_path / "scored" / "rescored.md").read_text(encoding="utf-8")
    assert "| a | ok | fail |" in md or "| a | ok |" in md


def test_rescore_without_queries_outside_results_dir_is_a_clear_error(tmp_path):
    tree = _other_system_tree(tmp_path)
    out = CliRunner().invoke(app, ["bench", "score", str(tree)])
    assert out.exit_code == 2 and "not a bench results directory; pass --queries" in out.output


def test_compare_lists_only_differences():
    row = {"task": "a", "status": "ok", "verdict": "pass", "checks": {"x": {}}, "length": {"measured": 600,
           "in_range": True, "score": 100.0}, "claims": "unmeasured", "tokens": {"total": 0}}
    a = {"identity": {"model": ""}, "totals": {"tasks": 1, "wall_s": 3.0}, "tasks": [row]}
    b = json.loads(json.dumps(a))
    b["totals"]["wall_s"] = 9.0  # timing is not a difference
    assert compare(a, b) == {"identity": {}, "totals": {}, "tasks": {}}
    b["tasks"][0]["length"] = {"measured": 900, "in_range": False, "score": 80.0}
    b["identity"]["model"] = "m"
    diff = compare(a, b)
    assert diff["identity"] == {"model": ("", "m")}
    assert diff["tasks"]["a"] == {"length": (600, 900), "length in range": (True, False),
                                  "length score": (100.0, 80.0)}


def test_rescore_of_missing_dir_names_it(tmp_path):
    with pytest.raises(BenchError, match="nope: no such directory"):
        rescore(tmp_path / "nope")


def test_request_b_is_parsed_with_a_word_range():
    from sourcebook.report.requirements import parse_request

    req = parse_request(REQUEST_B)
    assert (req.min_units, req.max_units, req.unit) == (150, 300, "words")


def test_score_run_counts_turns_and_tool_errors_from_the_trace_and_tokens_from_run_json(tmp_path):
    from sourcebook.bench.metrics import score_run

    run = tmp_path / "runs" / "x"
    run.mkdir(parents=True)
    (run / "request.json").write_text(json.dumps({"request": REQUEST_A, "task": {"task": "x", "query": REQUEST_A}}))
    (run / "compliance.json").write_text(json.dumps(_compliance({"length": (True, 600), "not_empty": (True, 600)})))
    events = [{"type": "turn"}, {"type": "tool", "error": None}, {"type": "tool", "error": "bad args"},
              {"type": "turn"}, {"type": "llm_error"}]
    (run / "trace.jsonl").write_text("\n".join(json.dumps(e) for e in events) + "\n{\"type\": \"tur")  # cut line
    row = score_run(run)
    assert row["status"] == "incomplete"  # no bench.json: the run never finished under the bench
    assert (row["turns"], row["tool_calls"], row["tool_errors"], row["llm_errors"]) == (2, 2, 1, 1)
    assert row["length"]["min"] == 500 and row["length"]["score"] == 100.0
    (run / "run.json").write_text(json.dumps({"tokens": {"prompt": 70, "completion": 30, "total": 100},
                                              "tools": {"tool-rag/rag_search": {"calls": 3, "errors": 2}},
                                              "turns": 3, "duration_s": 4.5}))
    row = score_run(run)
    assert row["tokens"] == {"prompt": 70, "completion": 30, "total": 100}
    assert (row["turns"], row["tool_errors"], row["wall_s"]) == (3, 2, 4.5)
