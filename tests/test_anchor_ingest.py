"""The real anchor tasks, whole folders through ingest, search and the folder summary (needs ../shared)."""

from __future__ import annotations

import pytest

from sourcebook.config import Settings
from sourcebook.ingest.folder import ingest_folder
from sourcebook.summary import folder_summary

from .conftest import MODELS_DIR, SHARED

ANCHOR = SHARED / "anchor-tasks"
TASKS = [f"{i:03d}" for i in range(1, 11)]
CLEAR = {"ok", "partial", "metadata", "empty", "error", "skipped"}

pytestmark = [pytest.mark.shared, pytest.mark.slow,
              pytest.mark.skipif(not ANCHOR.exists(), reason="../shared/fixtures/anchor-tasks not present")]


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(cache_dir=tmp_path_factory.mktemp("anchor-cache"), models_home=MODELS_DIR)


@pytest.mark.parametrize("task", TASKS)
def test_every_file_ingested_or_clear_status_and_summary_bounded(task: str, settings: Settings):
    folder = ANCHOR / task
    report = ingest_folder(folder, settings)
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    by_path = {s.path: s for s in report.sources}
    assert set(by_path) == on_disk
    for s in report.sources:
        assert s.status in CLEAR, (s.path, s.status)
        if s.status in ("ok", "partial"):
            assert s.passages > 0, s.path
        else:
            assert s.reason, f"{s.path}: status {s.status} without a reason"
    if task == "004":
        assert by_path["long_context.json"].status == "empty"
        assert "empty file" in by_path["long_context.json"].reason
    text = folder_summary(report.store)
    assert len(text) <= 64_000
    assert all(path in text for path in on_disk)


def test_task_002_search_reaches_slides_pdfs_and_corpus(settings: Settings):
    store = ingest_folder(ANCHOR / "002", settings).store
    seen: dict[str, set[str]] = {}
    for query in ("避风港原则 通知删除 平台责任", "直播电商 高质量发展", "网络直播平台 监管 违法犯罪"):
        for hit in store.search(query, k=20, mode="bm25", diverse=True):
            assert hit.locator and hit.label.startswith("[")
            seen.setdefault(hit.kind, set()).add(hit.source)
    assert "006law.pptx" in seen.get("pptx", set())
    assert {"互联网视阈下网络平台的网络监管.pdf", "直播电商高质量发展.pdf"} <= seen.get("pdf", set())
    assert seen.get("corpus")
    # each kind is also reachable on its own, with its own locator form
    slide = store.search("避风港原则", k=1, kinds=["pptx"])[0]
    assert slide.locator.startswith("slide ")
    page = store.search("直播电商", k=1, kinds=["pdf"])[0]
    assert page.locator.startswith("p. ")
    article = store.search("直播带货", k=1, kinds=["corpus"])[0]
    assert "chunk" in article.locator


def test_unchanged_task_is_not_read_again(settings: Settings):
    first = ingest_folder(ANCHOR / "009", settings)
    second = ingest_folder(ANCHOR / "009", settings)
    assert second.changed == [] and len(second.sources) == len(first.sources)


