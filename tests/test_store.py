"""Evidence store and search: ingest of a generated folder, hybrid/bm25/dense/diverse search, refresh,
symlinks, concurrency, the folder summary bound."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path

from sourcebook.config import get_settings
from sourcebook.ingest.chunking import chunk_text, split_sentences, text_units
from sourcebook.ingest.detect import detect_kind
from sourcebook.ingest.folder import ingest_folder
from sourcebook.summary import folder_summary

TOPICS = {
    "solar": "屋顶光伏发电在城市社区中迅速普及。居民通过储能电池在夜间使用白天的电力。",
    "tea": "龙井茶产于杭州西湖一带，采摘时间集中在清明前后。炒制工艺决定了茶叶的香气。",
    "rail": "高速铁路网络缩短了城市之间的通勤时间。列车运行图每年调整两次。",
    "bees": "Honey bees communicate the location of flowers with a waggle dance inside the hive.",
    "glacier": "Glaciers in the Alps have lost a large share of their volume since 1850 because of warming.",
    "chess": "国际象棋的开局理论包含大量变化，西西里防御是最常见的应对之一。",
}


def make_folder(root: Path) -> Path:
    folder = root / "task"
    folder.mkdir()
    (folder / "notes.md").write_text("# 笔记\n\n" + TOPICS["solar"] * 3 + "\n\n## 第二节\n\n" + TOPICS["rail"] * 2,
                                     encoding="utf-8")
    (folder / "bees.txt").write_text(TOPICS["bees"] * 4, encoding="utf-8")
    articles = [{"title": f"文章{k}", "page_body": (v + " ") * 3} for k, v in TOPICS.items()]
    articles += [{"title": f"茶叶{i}", "page_body": TOPICS["tea"] + f"第{i}批次的茶叶。"} for i in range(6)]
    (folder / "long_context.json").write_text(json.dumps(articles, ensure_ascii=False), encoding="utf-8")
    return folder


def test_chunking_follows_sentences_and_sizes():
    text = "。".join(f"第{i}句话讲述一个关于城市发展的细节内容" for i in range(200)) + "。"
    chunks = list(chunk_text(text))
    assert len(chunks) > 3
    assert all(text_units(c) <= 800 for c in chunks)
    assert all(c.endswith("。") for c in chunks)
    assert split_sentences("A first one. A second! 第三句。第四句？") == ["A first one.", "A second!", "第三句。", "第四句？"]


def test_detect_kind_by_content_and_extension(tmp_path: Path):
    (tmp_path / "a.json").write_text(json.dumps([{"title": "t", "page_body": "b"}]), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps({"x": 1}), encoding="utf-8")
    (tmp_path / "fake.txt").write_bytes(b"%PDF-1.4 rest")
    (tmp_path / "noext").write_text("plain words", encoding="utf-8")
    assert detect_kind(tmp_path / "a.json") == "corpus"
    assert detect_kind(tmp_path / "b.json") == "json"
    assert detect_kind(tmp_path / "fake.txt") == "pdf"
    assert detect_kind(tmp_path / "noext") == "text"


def test_ingest_search_and_locators(tmp_path: Path):
    folder = make_folder(tmp_path)
    rep = ingest_folder(folder)
    by = {s.path: s for s in rep.sources}
    assert by["long_context.json"].kind == "corpus"
    assert by["long_context.json"].status == "ok"
    store = rep.store
    hits = store.search("龙井茶 炒制", k=3, mode="bm25")
    assert hits and hits[0].kind == "corpus"
    assert hits[0].label.startswith("[long_context: \"")
    assert "chunk 1" in hits[0].label
    hits = store.search("waggle dance bees", k=2, mode="bm25")
    assert hits[0].source == "bees.txt"
    # kind filter
    assert all(h.kind == "text" for h in store.search("城市", k=5, kinds=["text"], mode="bm25"))
    # every hit resolves back to its passage
    for h in store.search("城市", k=5, mode="bm25"):
        p = store.get_passage(h.passage_id)
        assert p is not None and p.text == h.text and p.locator == h.locator


def test_dense_and_hybrid_find_paraphrase(tmp_path: Path, monkeypatch):
    from sourcebook.store.dense import prewarm

    # candidates are embedded however loaded the machine is (the budget itself: test_dense_index.py)
    monkeypatch.setenv("SOURCEBOOK_SEARCH__DENSE_BUDGET_MS", "600000")

    folder = make_folder(tmp_path)
    store = ingest_folder(folder).store
    query = "how do insects tell each other where food is"
    # lazily: dense scores only exist for BM25 candidates, and this query shares no keyword with the text
    assert store.search(query, k=3, mode="bm25") == []
    assert store.search(query, k=3, mode="dense") == []
    hybrid = store.search("bees: how do insects tell each other where food is", k=3, mode="hybrid")
    assert hybrid[0].source == "bees.txt"
    n = store.conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
    assert n > 0  # candidate vectors were cached by text hash
    store.search("bees: how do insects tell each other where food is", k=3, mode="hybrid")
    assert store.conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0] == n
    # after a dense prewarm every passage is reachable by meaning alone
    assert prewarm(store) > 0
    fresh = ingest_folder(folder).store
    dense_hits = fresh.search(query, k=3, mode="dense")
    assert dense_hits[0].source == "bees.txt"


def test_diverse_mode_spreads_documents(tmp_path: Path):
    folder = make_folder(tmp_path)
    store = ingest_folder(folder).store
    hits = store.search("茶叶 批次", k=8, mode="bm25", diverse=True)
    docs = [(h.source, h.loc.get("article")) for h in hits]
    assert len(set(docs)) >= 5
    assert max(docs.count(d) for d in set(docs)) <= 2


def test_reingest_only_changed_files(tmp_path: Path):
    folder = make_folder(tmp_path)
    first = ingest_folder(folder)
    assert set(first.changed) == {"notes.md", "bees.txt", "long_context.json"}
    second = ingest_folder(folder)
    assert second.changed == [] and second.removed == []
    ids_before = {p.id for p in second.store.passages("notes.md")}
    (folder / "bees.txt").write_text("Volcanic basalt columns cool into hexagonal shapes.", encoding="utf-8")
    (folder / "notes.md").unlink()
    third = ingest_folder(folder)
    assert third.changed == ["bees.txt"]
    assert third.removed == ["notes.md"]
    assert third.store.search("basalt hexagonal columns", k=1, mode="bm25")[0].source == "bees.txt"
    assert not third.store.search("屋顶光伏", k=3, mode="bm25", sources=["notes.md"])
    # stable ids: restoring the file gives the same passage ids
    (folder / "notes.md").write_text("# 笔记\n\n" + TOPICS["solar"] * 3 + "\n\n## 第二节\n\n" + TOPICS["rail"] * 2,
                                     encoding="utf-8")
    fourth = ingest_folder(folder)
    assert {p.id for p in fourth.store.passages("notes.md")} == ids_before


def test_bad_input_gets_status_and_others_survive(tmp_path: Path):
    folder = make_folder(tmp_path)
    (folder / "empty.json").write_bytes(b"")
    (folder / "broken.json").write_text('[{"title": "a", "page_body": "ok text"}, {"title": ', encoding="utf-8")
    outside = tmp_path / "secret.txt"
    outside.write_text("outside secret", encoding="utf-8")
    os.symlink(outside, folder / "link.txt")
    rep = ingest_folder(folder)
    by = {s.path: s for s in rep.sources}
    assert by["empty.json"].status == "empty"
    assert "symlink" in by["link.txt"].reason and by["link.txt"].status == "skipped"
    assert by["broken.json"].status in ("partial", "error")
    assert by["broken.json"].reason
    assert by["bees.txt"].status == "ok"
    assert not rep.store.search("outside secret", k=3, mode="bm25")


def test_store_in_cache_dir_and_readonly_folder(tmp_path: Path):
    folder = make_folder(tmp_path)
    os.chmod(folder, 0o555)
    try:
        rep = ingest_folder(folder)
        settings = get_settings()
        assert rep.store.path.is_relative_to(settings.cache_dir)
        assert not any(p.name.endswith(".sqlite") for p in folder.iterdir())
    finally:
        os.chmod(folder, 0o755)


def test_concurrent_readers_while_writing(tmp_path: Path):
    folder = make_folder(tmp_path)
    rep = ingest_folder(folder)
    db = rep.store.path
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    errors: list[Exception] = []
    stop = threading.Event()

    def reader() -> None:
        conn = sqlite3.connect(db, timeout=30)
        while not stop.is_set():
            try:
                conn.execute("SELECT COUNT(*) FROM passages").fetchone()
            except Exception as e:  # pragma: no cover - the failure we look for
                errors.append(e)
        conn.close()

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    (folder / "more.txt").write_text(TOPICS["chess"] * 5, encoding="utf-8")
    ingest_folder(folder)
    stop.set()
    for t in threads:
        t.join()
    assert not errors


def test_summary_stays_bounded(tmp_path: Path):
    folder = tmp_path / "big"
    folder.mkdir()
    for i in range(600):
        (folder / f"note_{i:04d}_{'长文件名' * 5}.txt").write_text(f"第{i}号笔记。" + TOPICS["rail"], encoding="utf-8")
    articles = [{"title": f"新闻标题{i}", "page_body": TOPICS["tea"]} for i in range(3000)]
    (folder / "long_context.json").write_text(json.dumps(articles, ensure_ascii=False), encoding="utf-8")
    store = ingest_folder(folder).store
    text = folder_summary(store)
    assert len(text) <= 64_000
    assert "long_context.json" in text and "3000 articles" in text
    small = folder_summary(store, max_chars=5000)
    assert len(small) <= 5000


def test_sourcebookignore_excludes_files(tmp_path: Path):
    folder = make_folder(tmp_path)
    (folder / "request.txt").write_text("请写一份报告", encoding="utf-8")
    (folder / "drafts").mkdir()
    (folder / "drafts" / "old.md").write_text("旧稿", encoding="utf-8")
    (folder / ".sourcebookignore").write_text("# not sources\nrequest.txt\ndrafts/\n", encoding="utf-8")
    paths = {s.path for s in ingest_folder(folder).sources}
    assert paths == {"notes.md", "bees.txt", "long_context.json"}


def test_touched_file_is_not_read_again(tmp_path: Path):
    folder = make_folder(tmp_path)
    ingest_folder(folder)
    st = (folder / "bees.txt").stat()
    os.utime(folder / "bees.txt", ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    again = ingest_folder(folder)
    assert again.changed == []
    (folder / "bees.txt").write_text(TOPICS["chess"], encoding="utf-8")
    assert ingest_folder(folder).changed == ["bees.txt"]
