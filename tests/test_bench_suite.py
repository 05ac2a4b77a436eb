"""Bench suites on generated tiny task folders: real worker processes, a real local Ray cluster, the real
scripted HTTP model on 127.0.0.1, a real killed-and-resumed CLI run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sourcebook.bench.local import LocalExecutor
from sourcebook.bench.manifest import Identity
from sourcebook.bench.metrics import check_map
from sourcebook.bench.runner import run_suite
from sourcebook.bench.scorecard import compare
from sourcebook.bench.suite import load_suite
from sourcebook.config import get_settings
from tests.benchgen import REQUEST_A, make_suite, start_ray, tree_digest

SB = Path(sys.executable).with_name("sourcebook")


def _run(q: Path, results: Path, cache: Path, executor, identity: Identity | None = None, resume: bool = False,
         tasks: list[str] | None = None, base_url: str | None = None):
    settings = get_settings(cache_dir=cache)
    suite = load_suite(q, q.parent, tasks)
    return run_suite(suite, results, identity or Identity(), executor, settings, resume=resume, base_url=base_url)


@pytest.fixture(scope="module")
def local_suite(tmp_path_factory):
    """The tiny suite (tasks a, b and a task whose folder vanishes before dispatch) with 2 local workers."""
    root = tmp_path_factory.mktemp("bench-local")
    q = make_suite(root / "suite", extra={"gone": REQUEST_A})
    cache = root / "cache"
    settings = get_settings(cache_dir=cache)
    suite = load_suite(q, q.parent)
    from sourcebook.ingest.folder import ingest_folder

    for folder in ("a", "b"):  # every passage embedded now: later runs find the same vectors cached
        ingest_folder(q.parent / folder, settings, dense_all=True)
    shutil.rmtree(q.parent / "gone")  # a task that cannot run must not stop the others
    res = run_suite(suite, root / "results", Identity(), LocalExecutor(workers=2, timeout=300), settings)
    return q, cache, res


def test_tiny_suite_runs_every_task_and_files_errors(local_suite):
    _q, _cache, res = local_suite
    rows = {r["task"]: r for r in res.scorecard["tasks"]}
    assert [r["task"] for r in res.scorecard["tasks"]] == ["a", "b", "gone"]
    assert rows["a"]["status"] == rows["b"]["status"] == "ok"
    assert rows["gone"]["status"] == "error" and "gone" in rows["gone"]["error"]
    assert "ingest of" in rows["gone"]["error"]
    t = res.scorecard["totals"]
    assert (t["tasks"], t["ok"], t["errors"]) == (3, 2, 1)
    for task in ("a", "b"):
        run = res.results / "runs" / task
        for name in ("request.json", "config.json", "trace.jsonl", "log.txt", "report.md", "report.html",
                     "report.docx", "compliance.json", "evidence.json", "bench.json"):
            assert (run / name).is_file(), (task, name)
    assert not list((res.results / "runs").glob(".staging-*"))
    md = (res.results / "scorecard.md").read_text(encoding="utf-8")
    assert "| gone | error |" in md and "| a | ok |" in md
    assert json.loads((res.results / "manifest.json").read_text())["identity"]["extractive"] is True


def test_scorecard_numbers_equal_compliance_json(local_suite):
    _q, _cache, res = local_suite
    card = json.loads((res.results / "scorecard.json").read_text(encoding="utf-8"))
    for row in card["tasks"]:
        if row["status"] != "ok":
            continue
        comp = json.loads((res.results / "runs" / row["task"] / "compliance.json").read_text(encoding="utf-8"))
        checks = {c["name"]: c for c in comp["checks"]}
        assert row["checks"] == check_map(comp)
        assert row["verdict"] == comp["verdict"]
        assert row["length"]["measured"] == checks["length"]["measured"]
        assert row["length"]["in_range"] == checks["length"]["passed"]
        assert row["sections"]["present"] == checks["sections_present"]["measured"]
        assert row["format"]["passed"] == checks["format"]["passed"]
        assert row["citations_resolvable"]["measured"] == checks["citations_resolvable"]["measured"]
        assert row["inputs_used"]["measured"] == checks["inputs_cited"]["measured"]
        assert row["near_empty"] is (not checks["not_empty"]["passed"])
    ok = [r for r in card["tasks"] if r["status"] == "ok"]
    resolved = [tuple(map(int, r["citations_resolvable"]["measured"].split("/"))) for r in ok]
    assert card["totals"]["citations_resolvable"] == f"{sum(a for a, _ in resolved)}/{sum(b for _, b in resolved)}"


def test_timeout_stops_the_task_and_is_in_the_scorecard(tmp_path):
    q = make_suite(tmp_path / "suite")
    res = _run(q, tmp_path / "res", tmp_path / "cache", LocalExecutor(workers=1, timeout=1), tasks=["a"])
    row = res.scorecard["tasks"][0]
    assert row["status"] == "timeout" and "timeout: no result after 1 s" in row["error"]
    assert res.scorecard["totals"]["errors"] == 1


def test_killed_suite_resumes_without_rerunning_finished_tasks(tmp_path):
    q = make_suite(tmp_path / "suite", extra={"c": REQUEST_A})
    results = tmp_path / "res"
    env = {**os.environ, "SOURCEBOOK_CACHE_DIR": str(tmp_path / "cache")}
    cmd = [str(SB), "bench", str(q), "--results", str(results), "--workers", "1", "--extractive"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not (results / "runs" / "a" / "bench.json").exists():
            assert proc.poll() is None, "the suite ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finished = {p.name for p in (results / "runs").iterdir() if (p / "bench.json").exists()}
    assert "a" in finished and finished != {"a", "b", "c"}
    before = {t: tree_digest(results / "runs" / t) for t in finished}
    out = subprocess.run([*cmd, "--resume"], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    card = json.loads((results / "scorecard.json").read_text(encoding="utf-8"))
    assert [r["status"] for r in card["tasks"]] == ["ok", "ok", "ok"]
    assert sorted(card["resumed_skipped"]) == sorted(finished)
    assert sorted(card["ran"]) == sorted({"a", "b", "c"} - finished)
    for t in finished:
        assert tree_digest(results / "runs" / t) == before[t], f"finished task {t} was touched"
    assert not list((results / "runs").glob(".staging-*"))
    # a second resume has nothing to do and changes no run
    all_before = tree_digest(results / "runs")
    out = subprocess.run([*cmd, "--resume"], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0 and "3 kept from before" in out.stdout
    assert tree_digest(results / "runs") == all_before


def test_same_suite_on_a_local_ray_cluster_equals_local(local_suite, tmp_path):
    ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'sourcebook[ray]')")
    from sourcebook.bench.ray_executor import RayExecutor

    q, cache, local = local_suite
    start_ray(ray)
    try:
        res = _run(q, tmp_path / "ray", cache, RayExecutor(workers=2, timeout=300), tasks=["a", "b"])
    finally:
        ray.shutdown()
    assert res.scorecard["executor"] == "ray"
    ray_rows = {r["task"]: r for r in res.scorecard["tasks"]}
    assert set(ray_rows) == {"a", "b"} and all(r["status"] == "ok" for r in ray_rows.values())
    local_card = {"identity": local.scorecard["identity"], "totals": {},
                  "tasks": [r for r in local.scorecard["tasks"] if r["task"] in ("a", "b")]}
    diff = compare(local_card, {**res.scorecard, "totals": {}})
    assert diff == {"identity": {}, "totals": {}, "tasks": {}}
    for task in ("a", "b"):  # the reports themselves are the same
        assert (tmp_path / "ray" / "runs" / task / "report.md").read_text(encoding="utf-8") == \
            (local.results / "runs" / task / "report.md").read_text(encoding="utf-8")
        assert ray_rows[task]["checks"] == {r["task"]: r for r in local.scorecard["tasks"]}[task]["checks"]


# ------------------------------------------------------------------------------------------------ scripted LLM


class _Model:
    """The agent searches once and answers with a boxed figure; the report writer copies cited passages."""

    def __call__(self, req: dict) -> dict:
        from tests.test_report_llm import _BUDGET, _copy_text, _user

        if req.get("tools"):
            if any(m.get("role") == "tool" for m in req["messages"]):
                english = "Riverton" in _user(req)
                return {"text": r"Answer: \boxed{1,240}" if english else r"答案是 \boxed{12.4 万辆}。"}
            return {"tool_calls": [{"server": "tool-rag", "name": "rag_search", "arguments": {"query": "新能源汽车 销量"}}]}
        prompt = _user(req)
        budget = int(_BUDGET.search(prompt).group(1)) if _BUDGET.search(prompt) else 120
        return {"text": _copy_text(prompt, budget) or "城市交通持续发展。"}


def test_scripted_llm_suite_end_to_end_with_token_totals(tmp_path):
    from sourcebook.llm.scripted import ScriptedServer

    q = make_suite(tmp_path / "suite", answers={"a": "12.4万辆", "b": "610"})
    with ScriptedServer(default={"respond": _Model()}) as srv:
        ident = Identity(model="scripted", provider="openai", base_url=srv.openai_base_url, max_turns=4,
                         token_budget=200_000)
        res = _run(q, tmp_path / "res", tmp_path / "cache", LocalExecutor(workers=2, timeout=300), ident,
                   base_url=srv.openai_base_url)
        served = list(srv.served)
    rows = {r["task"]: r for r in res.scorecard["tasks"]}
    assert all(r["status"] == "ok" for r in rows.values()), [r.get("error") for r in rows.values()]
    t = res.scorecard["totals"]
    assert t["tokens"]["prompt"] == sum(s.prompt_tokens for s in served) > 0
    assert t["tokens"]["completion"] == sum(s.completion_tokens for s in served) > 0
    assert t["tokens"]["total"] == t["tokens"]["prompt"] + t["tokens"]["completion"]
    assert t["turns"] == sum(r["turns"] for r in rows.values()) >= 4  # a tool turn and an answer per task
    assert rows["a"]["qa"] == {"expected": "12.4万辆", "got": "12.4 万辆", "match": True}
    assert rows["b"]["qa"]["match"] is False and rows["b"]["qa"]["got"] == "1,240"
    assert t["qa"] == {"tasks": 2, "exact_match": 1, "accuracy": 0.5}
    assert res.scorecard["identity"]["model"] == "scripted"
    for task in ("a", "b"):
        run = res.results / "runs" / task
        events = [json.loads(x) for x in (run / "trace.jsonl").read_text(encoding="utf-8").splitlines()]
        assert any(e["type"] == "tool" and e["name"] == "rag_search" for e in events)
        assert (run / "answer.md").is_file()
        assert json.loads((run / "bench.json").read_text())["usage"]["total_tokens"] == rows[task]["tokens"]["total"]


def test_rescoring_a_results_dir_gives_the_runs_numbers(local_suite, tmp_path):
    from sourcebook.bench.rescore import rescore

    _q, cache, res = local_suite
    card = rescore(res.results, settings=get_settings(cache_dir=cache))
    rows = {r["task"]: r for r in card["tasks"]}
    assert set(rows) == {"a", "b"}  # the task without a report is not scored again
    for row in res.scorecard["tasks"]:
        if row["status"] != "ok":
            continue
        again = rows[row["task"]]
        assert again["length"] == row["length"]
        assert again["near_empty"] == row["near_empty"]
        assert again["sections"]["present"] == row["sections"]["present"]
        # numbered references resolved against the folder agree with the pipeline's passage-id check
        assert again["citations_resolvable"]["passed"] is row["citations_resolvable"]["passed"] is True
