"""The evidence store: one SQLite file per task folder holding sources, passages and cached embeddings."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock

from sourcebook.models import Passage, SourceRecord
from sourcebook.store.hashing import passage_id, text_hash

SCHEMA_VERSION = "1"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS sources (
    id INTEGER PRIMARY KEY,
    path TEXT UNIQUE NOT NULL,
    kind TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL DEFAULT 0,
    sha256 TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    meta TEXT NOT NULL DEFAULT '{}',
    passages INTEGER NOT NULL DEFAULT 0,
    version TEXT NOT NULL DEFAULT '',
    ingested_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE TABLE IF NOT EXISTS passages (
    rowid INTEGER PRIMARY KEY,
    id TEXT UNIQUE NOT NULL,
    source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    locator TEXT NOT NULL,
    loc TEXT NOT NULL DEFAULT '{}',
    title TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    tokens TEXT
);
CREATE INDEX IF NOT EXISTS passages_by_source ON passages(source_id, ordinal);
CREATE INDEX IF NOT EXISTS passages_by_hash ON passages(text_hash);
CREATE TABLE IF NOT EXISTS embeddings (
    text_hash TEXT NOT NULL,
    model TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (text_hash, model)
);
"""


class StoreError(Exception):
    """The store file could not be opened or read."""


class Store:
    """Evidence store of one task folder. Safe for concurrent readers (WAL); one writer at a time."""

    def __init__(self, folder: Path, directory: Path, settings: Any = None) -> None:
        self.folder = Path(folder).resolve()
        self.dir = Path(directory)
        self.settings = settings
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / "store.sqlite"
        self._local = threading.local()
        self._searcher = None  # search.Searcher, created on first search
        self._searcher_lock = threading.Lock()
        self._writer_lock = FileLock(self.dir / "writer.lock", thread_local=False, is_singleton=True)
        try:
            with self.writer_lock():
                self._init_schema()
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.path}: unreadable store ({e})") from e

    def writer_lock(self) -> FileLock:
        """The lock a process holds while it writes sources and passages: parallel ingests of one folder
        wait for each other (and then find the work done) instead of failing with "database is locked".
        Re-entrant within a process; released by the OS if the holder dies."""
        return self._writer_lock

    def _init_schema(self) -> None:
        conn = self.conn
        conn.executescript(SCHEMA)
        columns = {r[1] for r in conn.execute("PRAGMA table_info(sources)")}
        if "mtime_ns" not in columns:  # stores made before file times were recorded
            conn.execute("ALTER TABLE sources ADD COLUMN mtime_ns INTEGER NOT NULL DEFAULT 0")
        if self.get_meta("schema") is None:
            self.set_meta("schema", SCHEMA_VERSION)
            self.set_meta("folder", str(self.folder))
            self.set_meta("generation", "0")
        conn.commit()

    # -- connection -------------------------------------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        c = getattr(self._local, "conn", None)
        if c is None:
            c = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
            c.row_factory = sqlite3.Row
            c.execute("PRAGMA busy_timeout=60000")
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("PRAGMA synchronous=NORMAL")
            c.execute("PRAGMA foreign_keys=ON")
            self._local.conn = c
        return c

    def close(self) -> None:
        c = getattr(self._local, "conn", None)
        if c is not None:
            c.close()
            self._local.conn = None

    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    @property
    def generation(self) -> int:
        """Bumped whenever passages change; the keyword index is rebuilt for a new generation."""
        return int(self.get_meta("generation") or 0)

    def bump_generation(self) -> int:
        gen = self.generation + 1
        self.set_meta("generation", str(gen))
        self.conn.commit()
        return gen

    # -- sources ----------------------------------------------------------------------------------
    @staticmethod
    def _source(row: sqlite3.Row) -> SourceRecord:
        return SourceRecord(
            path=row["path"], kind=row["kind"], size=row["size"], sha256=row["sha256"],
            status=row["status"], reason=row["reason"], meta=json.loads(row["meta"] or "{}"),
            passages=row["passages"],
        )

    def sources(self) -> list[SourceRecord]:
        """All files of the folder, in path order."""
        rows = self.conn.execute("SELECT * FROM sources ORDER BY path").fetchall()
        return [self._source(r) for r in rows]

    def source(self, rel_path: str) -> SourceRecord | None:
        row = self.conn.execute("SELECT * FROM sources WHERE path=?", (rel_path,)).fetchone()
        return None if row is None else self._source(row)

    def source_state(self, rel_path: str) -> tuple[int, int, str, str] | None:
        """(size, mtime_ns, sha256, extractor version) recorded for a source, or None."""
        row = self.conn.execute("SELECT size, mtime_ns, sha256, version FROM sources WHERE path=?",
                                (rel_path,)).fetchone()
        return None if row is None else (row[0], row[1], row[2], row[3])

    def touch_source(self, rel_path: str, mtime_ns: int) -> None:
        """Record a new modification time for a source whose content did not change."""
        self.conn.execute("UPDATE sources SET mtime_ns=? WHERE path=?", (mtime_ns, rel_path))

    def upsert_source(self, rec: SourceRecord, version: str, mtime_ns: int = 0) -> int:
        """Insert or replace a source row (dropping its old passages); returns its id."""
        c = self.conn
        c.execute("DELETE FROM sources WHERE path=?", (rec.path,))
        cur = c.execute(
            "INSERT INTO sources(path, kind, size, mtime_ns, sha256, status, reason, meta, passages, version)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            (rec.path, rec.kind, rec.size, mtime_ns, rec.sha256, rec.status, rec.reason,
             json.dumps(rec.meta, ensure_ascii=False, default=str), rec.passages, version),
        )
        return int(cur.lastrowid)

    def finish_source(self, source_id: int, status: str, reason: str, meta: dict, passages: int) -> None:
        self.conn.execute(
            "UPDATE sources SET status=?, reason=?, meta=?, passages=? WHERE id=?",
            (status, reason, json.dumps(meta, ensure_ascii=False, default=str), passages, source_id),
        )

    def delete_sources_except(self, keep: set[str]) -> list[str]:
        """Remove sources whose path is not in ``keep``; returns the removed paths."""
        gone = [r[0] for r in self.conn.execute("SELECT path FROM sources") if r[0] not in keep]
        for p in gone:
            self.conn.execute("DELETE FROM sources WHERE path=?", (p,))
        return gone

    # -- passages ---------------------------------------------------------------------------------
    def add_passages(self, source_id: int, source: str, rows: list[tuple[int, str, dict, str, str]]) -> None:
        """Add ``(ordinal, locator, loc, title, text)`` rows for one source."""
        self.conn.executemany(
            "INSERT OR REPLACE INTO passages(id, source_id, ordinal, locator, loc, title, text, text_hash)"
            " VALUES (?,?,?,?,?,?,?,?)",
            [
                (passage_id(source, o, t), source_id, o, loc_s, json.dumps(loc, ensure_ascii=False, default=str),
                 title, t, text_hash(t))
                for (o, loc_s, loc, title, t) in rows
            ],
        )

    _PASSAGE_SQL = (
        "SELECT p.rowid AS rowid, p.id, p.ordinal, p.locator, p.loc, p.title, p.text, s.path, s.kind"
        " FROM passages p JOIN sources s ON s.id = p.source_id"
    )

    @staticmethod
    def _passage(row: sqlite3.Row) -> Passage:
        return Passage(
            id=row["id"], source=row["path"], kind=row["kind"], ordinal=row["ordinal"], text=row["text"],
            locator=row["locator"], loc=json.loads(row["loc"] or "{}"), title=row["title"],
        )

    def passages(self, source: str | None = None) -> Iterator[Passage]:
        """Passages of one source (or all), in document order."""
        if source is None:
            cur = self.conn.execute(self._PASSAGE_SQL + " ORDER BY s.path, p.ordinal")
        else:
            cur = self.conn.execute(self._PASSAGE_SQL + " WHERE s.path=? ORDER BY p.ordinal", (source,))
        for row in cur:
            yield self._passage(row)

    def get_passage(self, pid: str) -> Passage | None:
        row = self.conn.execute(self._PASSAGE_SQL + " WHERE p.id=?", (pid,)).fetchone()
        return None if row is None else self._passage(row)

    def passages_by_rowid(self, rowids: list[int]) -> dict[int, Passage]:
        out: dict[int, Passage] = {}
        for i in range(0, len(rowids), 500):
            part = rowids[i : i + 500]
            q = self._PASSAGE_SQL + f" WHERE p.rowid IN ({','.join('?' * len(part))})"
            for row in self.conn.execute(q, part):
                out[row["rowid"]] = self._passage(row)
        return out

    def neighbours(self, pid: str, before: int = 1, after: int = 1) -> list[Passage]:
        """The passage and its neighbours in the same source (same article for corpora)."""
        p = self.get_passage(pid)
        if p is None:
            return []
        rows = self.conn.execute(
            self._PASSAGE_SQL + " WHERE s.path=? AND p.ordinal BETWEEN ? AND ? ORDER BY p.ordinal",
            (p.source, p.ordinal - before, p.ordinal + after),
        ).fetchall()
        out = [self._passage(r) for r in rows]
        if p.kind == "corpus":
            out = [q for q in out if q.loc.get("article") == p.loc.get("article")]
        return out

    def passage_count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM passages").fetchone()[0])

    def untokenized(self) -> list[tuple[int, str]]:
        return [(r[0], r[1]) for r in self.conn.execute("SELECT rowid, text FROM passages WHERE tokens IS NULL")]

    def set_tokens(self, pairs: list[tuple[str, int]]) -> None:
        self.conn.executemany("UPDATE passages SET tokens=? WHERE rowid=?", pairs)

    def keyword_rows(self) -> Iterator[tuple[int, str | None, str, str, str, int]]:
        """``(rowid, tokens, loc, source path, source kind, source id)`` of every passage, by rowid."""
        yield from self.conn.execute(
            "SELECT p.rowid, p.tokens, p.loc, s.path, s.kind, p.source_id FROM passages p"
            " JOIN sources s ON s.id = p.source_id ORDER BY p.rowid")

    # -- embeddings -------------------------------------------------------------------------------
    def get_embeddings(self, hashes: list[str], model: str) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for i in range(0, len(hashes), 500):
            part = hashes[i : i + 500]
            q = f"SELECT text_hash, vector FROM embeddings WHERE model=? AND text_hash IN ({','.join('?' * len(part))})"
            for h, v in self.conn.execute(q, [model, *part]):
                out[h] = v
        return out

    def put_embeddings(self, items: list[tuple[str, bytes]], model: str) -> None:
        """Store vectors by text hash (one transaction: a killed writer leaves whole batches only)."""
        self.conn.executemany(
            "INSERT OR IGNORE INTO embeddings(text_hash, model, vector) VALUES (?,?,?)",
            [(h, model, v) for h, v in items],
        )
        self.conn.commit()

    def vectors_after(self, model: str, after: int) -> tuple[int, list[int], list[bytes]]:
        """Vectors stored since embedding row ``after``: (last embedding row, passage rowids, vectors)."""
        rows = self.conn.execute(
            "SELECT e.rowid, p.rowid, e.vector FROM embeddings e JOIN passages p ON p.text_hash = e.text_hash"
            " WHERE e.model = ? AND e.rowid > ? ORDER BY e.rowid", (model, after)).fetchall()
        last = max((r[0] for r in rows), default=after)
        return last, [r[1] for r in rows], [r[2] for r in rows]

    def pending_embeddings(self, model: str) -> list[tuple[str, str]]:
        """Distinct passage texts without a vector, as (text hash, text): documents first, then corpus
        articles, each in ingest order."""
        rows = self.conn.execute(
            "SELECT p.text_hash, p.text FROM passages p JOIN sources s ON s.id = p.source_id"
            " WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.text_hash = p.text_hash AND e.model = ?)"
            " ORDER BY s.kind = 'corpus', p.rowid", (model,)).fetchall()
        seen: set[str] = set()
        out = []
        for h, t in rows:
            if h not in seen:
                seen.add(h)
                out.append((h, t))
        return out

    def dense_progress(self, model: str) -> tuple[int, int]:
        """(passages with a vector, all passages)."""
        row = self.conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(EXISTS(SELECT 1 FROM embeddings e WHERE e.text_hash = p.text_hash"
            " AND e.model = ?)), 0) FROM passages p", (model,)).fetchone()
        return int(row[1]), int(row[0])

    # -- search -----------------------------------------------------------------------------------
    @property
    def searcher(self):
        """The store's :class:`~sourcebook.store.search.Searcher` (keyword index, dense cache, lock)."""
        with self._searcher_lock:
            if self._searcher is None:
                from sourcebook.store.search import Searcher

                self._searcher = Searcher(self)
            return self._searcher

    def search(self, query: str, k: int = 10, kinds: list[str] | None = None, mode: str = "hybrid",
               diverse: bool = False, sources: list[str] | None = None):
        """Search passages; see :meth:`sourcebook.store.search.Searcher.search`."""
        return self.searcher.search(query, k=k, kinds=kinds, mode=mode, diverse=diverse, sources=sources)
