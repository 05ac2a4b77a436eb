"""Walk a task folder and bring the store up to date: only new or changed files are extracted."""

from __future__ import annotations

import fnmatch
import logging
import os
import re
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sourcebook.config import Settings, get_settings
from sourcebook.fileutil import sha256_file
from sourcebook.ingest.archive import ArchiveBudget, safe_extract
from sourcebook.ingest.base import ExtractContext, ExtractionError, extractor_for, extractor_version
from sourcebook.ingest.detect import detect_kind
from sourcebook.models import (
    STATUS_EMPTY,
    STATUS_ERROR,
    STATUS_METADATA,
    STATUS_OK,
    STATUS_PARTIAL,
    STATUS_SKIPPED,
    SourceRecord,
)
from sourcebook.store import Store, open_store
from sourcebook.store.tokenize import tokenize_many

log = logging.getLogger(__name__)

# Bump when extractors change what they produce: every file is then extracted again.
EXTRACTOR_VERSION = "2"

# progress(event, path, done, total): event is "start", "file" (before a file) or "index"
Progress = Callable[[str, str, int, int], None]

_SKIP_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
_BATCH = 500


@dataclass
class IngestReport:
    """What an ingest did: the store, every source with its status, and what changed."""

    store: Store
    sources: list[SourceRecord] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def passages(self) -> int:
        return sum(s.passages for s in self.sources)


@dataclass
class _File:
    rel: str        # path shown to users and stored (POSIX, relative to the folder)
    path: Path      # where to read it
    skip_reason: str = ""


IGNORE_FILE = ".sourcebookignore"


def ignore_patterns(folder: Path) -> list[str]:
    """Glob patterns from the folder's ``.sourcebookignore`` (one per line, ``#`` comments)."""
    try:
        lines = (folder / IGNORE_FILE).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    return [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]


def _ignored(rel: str, patterns: list[str]) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(name, p) or rel.startswith(p.rstrip("/") + "/")
               for p in patterns)


def _hidden_or_ignored(rel: str, patterns: list[str]) -> bool:
    parts = rel.split("/")
    return any(p.startswith(".") for p in parts) or parts[-1] in _SKIP_NAMES or _ignored(rel, patterns)


def _walk(folder: Path) -> list[_File]:
    """Every file under ``folder`` (hidden and ``.sourcebookignore``d ones excluded), symlinks out of the
    folder marked skipped."""
    root = folder.resolve()
    patterns = ignore_patterns(root)
    out: list[_File] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for d in list(dirnames):
            full = Path(dirpath) / d
            if full.is_symlink():
                dirnames.remove(d)
                rel = full.relative_to(root).as_posix()
                target = full.resolve()
                if not target.is_relative_to(root):
                    out.append(_File(rel, full, "symlink points outside the folder; not followed"))
        for name in sorted(filenames):
            if name.startswith(".") or name in _SKIP_NAMES:
                continue
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            if _ignored(rel, patterns):
                continue
            if full.is_symlink():
                target = full.resolve()
                if not target.is_relative_to(root):
                    out.append(_File(rel, full, "symlink points outside the folder; not followed"))
                    continue
                if not target.exists():
                    out.append(_File(rel, full, "broken symlink"))
                    continue
                inside = target.relative_to(root).as_posix()
                if target.is_file() and not _hidden_or_ignored(inside, patterns):
                    out.append(_File(rel, full, f"symlink to {inside}, which is read under its own name"))
                    continue
            out.append(_File(rel, full))
    return out


def ingest_folder(folder: Path, settings: Settings | None = None, progress: Progress | None = None,
                  dense_all: bool = False) -> IngestReport:
    """Bring the evidence store of ``folder`` up to date and return every source's status.

    Raises ``FileNotFoundError``/``NotADirectoryError`` when ``folder`` is not a readable directory.
    """
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: not a folder")
    settings = settings or get_settings()
    # With a vision model configured, photos become evidence through captions. A captioner from other
    # settings can only be installed once the image module has been loaded, so otherwise skip its import.
    if settings.llm.vision_model or "sourcebook.media.image" in sys.modules:
        from sourcebook.llm.vision import install_captioner

        install_captioner(settings)
    store = open_store(folder, settings)
    report = IngestReport(store)
    with store.writer_lock():  # a parallel ingest of this folder finishes first; its work is then reused
        _update(store, folder, settings, report, progress)
    store.searcher.keyword_index()  # build now so the first search is fast
    if dense_all:
        from sourcebook.store.dense import prewarm

        prewarm(store, progress=(lambda d, t: progress("embed", "", d, t)) if progress else None)
    elif settings.search.dense and settings.search.background_index:
        from sourcebook.store import background

        background.start(store)
    report.sources = store.sources()
    return report


def _update(store: Store, folder: Path, settings: Settings, report: IngestReport, progress: Progress | None) -> None:
    """Walk the folder and bring every source in the store up to date (holding the writer lock)."""
    from sourcebook.ingest.archive import ArchiveBudget

    files = _walk(folder)
    budget = ArchiveBudget(settings.zip_max_total_mb * 1024 * 1024, settings.zip_max_members, settings.zip_max_ratio)
    seen: set[str] = set()
    queue = list(files)
    total = len(queue)
    if progress:
        progress("start", "", 0, total)
    done = 0
    while queue:
        f = queue.pop(0)
        seen.add(f.rel)
        if progress:
            progress("file", f.rel, done, total)
        members = _ingest_one(store, folder, f, settings, report, budget)
        if members:
            queue[0:0] = members
            total += len(members)
        done += 1
    report.removed = store.delete_sources_except(seen)
    store.conn.commit()
    _drop_stale_work(store)
    if report.changed or report.removed:
        _tokenize_pending(store, progress)
        store.bump_generation()
    if progress:
        progress("index", "", done, total)


def _tokenize_pending(store: Store, progress: Progress | None) -> None:
    pending = store.untokenized()
    if not pending:
        return
    if progress:
        progress("tokenize", "", 0, len(pending))
    tokens = tokenize_many([t for _, t in pending])
    store.set_tokens([(tok, rowid) for (rowid, _), tok in zip(pending, tokens, strict=True)])
    store.conn.commit()


def _drop_stale_work(store: Store) -> None:
    """Remove extraction folders (archive members, conversions) no source of the store refers to any more."""
    work = store.dir / "work"
    if not work.is_dir():
        return
    used = {s.sha256[:16] for s in store.sources() if s.sha256}
    for d in work.iterdir():
        if d.name not in used:
            shutil.rmtree(d, ignore_errors=True)


def _ingest_one(store: Store, folder: Path, f: _File, settings: Settings, report: IngestReport,
                budget: ArchiveBudget | None = None) -> list[_File]:
    """Extract one file into the store (unless unchanged); returns archive members to ingest next."""
    if f.skip_reason:
        _record(store, SourceRecord(f.rel, "unknown", 0, "", STATUS_SKIPPED, f.skip_reason), report)
        return []
    try:
        st = f.path.stat()
    except OSError as e:
        _record(store, SourceRecord(f.rel, "unknown", 0, "", STATUS_ERROR, f"cannot read file: {e.strerror}"),
                report)
        return []
    size, mtime_ns = st.st_size, st.st_mtime_ns
    kind = detect_kind(f.path)
    extractor = extractor_for(kind)
    # the version names the extractor too, so a file is read again once a better extractor is available
    version = f"{EXTRACTOR_VERSION}/{kind}/{extractor_version(extractor)}"
    prev = store.source_state(f.rel)
    unchanged = prev is not None and prev[3] == version and prev[:2] == (size, mtime_ns)
    try:
        digest = prev[2] if unchanged else sha256_file(f.path)  # same size and time: no need to hash
    except OSError as e:
        _record(store, SourceRecord(f.rel, kind, size, "", STATUS_ERROR, f"cannot read file: {e.strerror}"),
                report)
        return []
    work_dir = store.dir / "work" / digest[:16]
    if not unchanged and prev is not None and prev[2:] == (digest, version):
        store.touch_source(f.rel, mtime_ns)  # touched, not changed
        unchanged = True
    if unchanged:
        dest = work_dir / "members"
        if kind == "archive" and dest.exists():
            return [_File(f"{f.rel}/{p.relative_to(dest).as_posix()}", p) for p in sorted(dest.rglob("*"))
                    if p.is_file()]
        return []
    rec = SourceRecord(f.rel, kind, size, digest, STATUS_OK)
    if size > settings.max_file_mb * 1024 * 1024:
        rec.status, rec.reason = STATUS_SKIPPED, f"file larger than {settings.max_file_mb} MB"
        _record(store, rec, report, version, mtime_ns)
        return []
    if size == 0:
        rec.status, rec.reason = STATUS_EMPTY, "empty file (0 bytes)"
        _record(store, rec, report, version, mtime_ns)
        return []
    if kind == "archive":
        members, warnings, error = _archive_members(f, work_dir, settings, budget)
        if error:
            rec.status, rec.reason = STATUS_ERROR, error
        elif warnings:
            rec.status, rec.reason = STATUS_PARTIAL, "; ".join(warnings)
        rec.meta = {"members": len(members)}
        _record(store, rec, report, version, mtime_ns)
        return members
    if extractor is None:
        rec.status, rec.reason = STATUS_SKIPPED, f"unsupported file type ({kind}{', ' + f.path.suffix if f.path.suffix else ''})"
        _record(store, rec, report, version, mtime_ns)
        return []
    ctx = ExtractContext(folder=folder, rel_path=f.rel, work_dir=work_dir, settings=settings)
    source_id = store.upsert_source(rec, version, mtime_ns)
    count = 0
    batch: list[tuple[int, str, dict, str, str]] = []
    deadline = time.monotonic() + settings.extract_timeout_s
    try:
        for draft in extractor(f.path, ctx):
            text = (draft.text or "").strip()
            if not text:
                continue
            batch.append((count, draft.locator, draft.loc, draft.title, text))
            count += 1
            if time.monotonic() > deadline:
                rec.status = STATUS_PARTIAL
                rec.reason = (f"extraction stopped at the time limit ({settings.extract_timeout_s:g} s); "
                              f"the first {count} passages kept")
                break
            if len(batch) >= _BATCH:
                store.add_passages(source_id, f.rel, batch)
                batch = []
        if batch:
            store.add_passages(source_id, f.rel, batch)
    except ExtractionError as e:
        rec.status, rec.reason = e.status, e.reason
        if count and e.status == STATUS_ERROR:
            rec.status = STATUS_PARTIAL  # keep what was read before the failure
    except Exception as e:  # an extractor bug must not lose the other files
        log.exception("extractor for %s failed", f.rel)
        rec.status, rec.reason = STATUS_ERROR, f"{type(e).__name__}: {e}"
        if count:
            rec.status = STATUS_PARTIAL
    if rec.status == STATUS_OK:
        if ctx.warnings:
            rec.status = STATUS_PARTIAL if count else STATUS_ERROR
            rec.reason = "; ".join(ctx.warnings)
        elif count == 0:
            if kind in ("image", "video", "audio"):
                rec.status, rec.reason = STATUS_METADATA, ctx.meta.pop("no_content_reason", "no text content found")
            else:
                rec.status, rec.reason = STATUS_EMPTY, "no text content found"
    elif ctx.warnings:
        rec.reason = "; ".join([rec.reason, *ctx.warnings])
    if rec.status in (STATUS_ERROR, STATUS_SKIPPED, STATUS_EMPTY) and count:
        store.conn.execute("DELETE FROM passages WHERE source_id=?", (source_id,))
        count = 0
    rec.meta = ctx.meta
    rec.passages = count
    rec.reason = one_line(rec.reason)
    store.finish_source(source_id, rec.status, rec.reason, rec.meta, count)
    store.conn.commit()
    report.changed.append(f.rel)
    return []


_POINTER_ART = re.compile(r"\(right here\)|[\s^~\-]")


def one_line(reason: str) -> str:
    """A parser's multi-line message as one line: pointer art (``------^``) dropped, lines joined."""
    lines = [" ".join(ln.split()) for ln in reason.splitlines() if _POINTER_ART.sub("", ln)]
    return " ".join(lines)


def _record(store: Store, rec: SourceRecord, report: IngestReport, version: str = EXTRACTOR_VERSION,
            mtime_ns: int = 0) -> None:
    store.upsert_source(rec, version, mtime_ns)
    store.conn.commit()
    report.changed.append(rec.path)


def _archive_members(f: _File, work_dir: Path, settings: Settings,
                     budget: ArchiveBudget | None) -> tuple[list[_File], list[str], str]:
    """Extract a ZIP safely into the store's work dir; its members become ``archive.zip/member`` files.

    Returns (members, warnings, fatal error or "")."""
    dest = work_dir / "members"
    shutil.rmtree(dest, ignore_errors=True)  # what an earlier, interrupted extraction left
    try:
        paths, warnings = safe_extract(f.path, dest, settings.zip_max_members,
                                       settings.zip_max_total_mb * 1024 * 1024, budget=budget)
    except Exception as e:
        return [], [], f"cannot open archive: {e}"
    return [_File(f"{f.rel}/{p.relative_to(dest).as_posix()}", p) for p in paths], warnings, ""
