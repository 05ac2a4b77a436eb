"""Acceptance of ``sourcebook bench`` on the 10 real anchor tasks (read in place from ../shared), no-LLM mode.

The 10-task suite runs once per session (2 local workers); the other tests reuse its results and its cache
(prebuilt stores), so the whole file costs one suite plus two short ones."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sourcebook.bench.local import LocalExecutor
from sourcebook.bench.manifest import Identity
from sourcebook.bench.metrics import check_map, range_length_score
from sourcebook.bench.runner import run_suite
from sourcebook.bench.scorecard import compare
from sourcebook.bench.suite import load_suite
from sourcebook.config import get_settings
from tests.benchgen import start_ray, tree_digest

from .conftest import SHARED

ANCHORS = SHARED / "anchor-tasks"
QUERIES = ANCHORS / "query.jsonl"
TASKS = [f"{i:03d}" for i in range(1, 11)]
SB = Path(sys.executable).with_name("sourcebook")

pytestmark = [pytest.mark.shared, pytest.mark.slow,
              pytest.mark.skipif(not QUERIES.exists(), reason="../shared/fixtures/anchor-tasks not present")]


@pytest.fixture(scope="module")
def anchor_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench-anchor")
    cache = root / "cache"
    settings = get_settings(cache_dir=cache)
    suite = load_suite(QUERIES, ANCHORS)
    res = run_suite(suite, root / "results", Identity(), LocalExecutor(workers=2, timeout=1200), settings)
    return cache, res


def test_all_ten_anchor_tasks_complete_with_two_workers(anchor_run):
    _cache, res = anchor_run
    card = res.scorecard
    assert [r["task"] for r in card["tasks"]] == TASKS
    assert all(r["status"] == "ok" for r in card["tasks"]), [(r["task"], r["error"]) for r in card["tasks"]]
    assert card["workers"] == 2 and card["executor"] == "local"
    t = card["totals"]
    assert t["ok"] == 10 and t["tokens"]["total"] == 0 and t["turns"] == 0  # no model in this mode
    # task 004 (three photos, no readable text) is honestly near-empty; the others are not
    rows = {r["task"]: r for r in card["tasks"]}
    assert rows["004"]["near_empty"] is True and rows["004"]["length"]["in_range"] is False
    assert all(rows[t]["near_empty"] is False for t in TASKS if t != "004")


def test_anchor_scorecard_equals_compliance_files(anchor_run):
    _cache, res = anchor_run
    card = json.loads((res.results / "scorecard.json").read_text(encoding="utf-8"))
    in_range = 0
    for row in card["tasks"]:
        run = res.results / "runs" / row["task"]
        comp = json.loads((run / "compliance.json").read_text(encoding="utf-8"))
        req = json.loads((run / "revisions.json").read_text(encoding="utf-8"))["requirements"]
        checks = {c["name"]: c for c in comp["checks"]}
        assert row["checks"] == check_map(comp)
        assert row["verdict"] == comp["verdict"]
        assert row["length"]["measured"] == checks["length"]["measured"]
        assert row["length"]["in_range"] == checks["length"]["passed"]
        assert row["length"]["score"] == range_length_score(req["min_units"], req["max_units"],
                                                            checks["length"]["measured"])
        assert row["sections"]["present"] == checks["sections_present"]["measured"]
        assert row["format"]["passed"] == checks["format"]["passed"]
        assert row["citations_resolvable"]["measured"] == checks["citations_resolvable"]["measured"]
        assert row["inputs_used"]["measured"] == checks["inputs_cited"]["measured"]
        in_range += checks["length"]["passed"] is True
    assert card["totals"]["length_in_range"]["passed"] == in_range
    assert card["totals"]["verdicts"]["pass"] == sum(
        json.loads((res.results / "runs" / t / "compliance.json").read_text())["verdict"] == "pass" for t in TASKS)


def test_killed_anchor_suite_resumes_without_rerunning(anchor_run, tmp_path):
    cache, _res = anchor_run
    results = tmp_path / "res"
    env = {**os.environ, "SOURCEBOOK_CACHE_DIR": str(cache)}
    cmd = [str(SB), "bench", str(QUERIES), "--results", str(results), "--tasks", "004,002,009", "--workers", "1",
           "--extractive"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        while not (results / "runs" / "004" / "bench.json").exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finished = {p.name for p in (results / "runs").iterdir() if (p / "bench.json").exists()}
    assert "004" in finished and finished != {"004", "002", "009"}
    before = {t: tree_digest(results / "runs" / t) for t in finished}
    out = subprocess.run([*cmd, "--resume"], env=env, capture_output=True, text=True, timeout=1200)
    assert out.returncode == 0, out.stderr[-2000:]
    card = json.loads((results / "scorecard.json").read_text(encoding="utf-8"))
    assert [r["status"] for r in card["tasks"]] == ["ok", "ok", "ok"]
    assert sorted(card["ran"]) == sorted({"004", "002", "009"} - finished)
    for t in finished:
        assert tree_digest(results / "runs" / t) == before[t]


def test_anchor_subset_on_local_ray_cluster_equals_local(anchor_run, tmp_path):
    ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'sourcebook[ray]')")
    from sourcebook.bench.ray_executor import RayExecutor

    cache, _session = anchor_run
    subset = ["002", "009"]
    settings = get_settings(cache_dir=cache)
    # Search embeds candidates lazily and caches them, so a report can depend on what earlier runs cached;
    # both executors therefore run back to back on the same cache.
    local = run_suite(load_suite(QUERIES, ANCHORS, subset), tmp_path / "local", Identity(),
                      LocalExecutor(workers=2, timeout=1200), settings)
    start_ray(ray)
    try:
        res = run_suite(load_suite(QUERIES, ANCHORS, subset), tmp_path / "ray", Identity(),
                        RayExecutor(workers=2, timeout=1200), settings)
    finally:
        ray.shutdown()
    assert [r["status"] for r in res.scorecard["tasks"]] == ["ok", "ok"]
    local_rows = local.scorecard["tasks"]
    diff = compare({"identity": local.scorecard["identity"], "totals": {}, "tasks": local_rows},
                   {**res.scorecard, "totals": {}})
    assert diff == {"identity": {}, "totals": {}, "tasks": {}}
    for ray_row, local_row in zip(res.scorecard["tasks"], local_rows, strict=True):
        assert ray_row["checks"] == local_row["checks"]
