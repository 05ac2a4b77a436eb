"""Archive limits hold for the whole folder: nested archives, ratio bombs, bad members, cleanup."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from sourcebook.config import get_settings
from sourcebook.ingest.archive import ArchiveBudget, safe_extract
from sourcebook.ingest.folder import ingest_folder

TEXT = "Solar roofs pay back in about eight years. Batteries shorten the wait when tariffs change.\n" * 40


def _zip(entries: dict[str, bytes], level: int = 9) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def _bytes_under(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def test_nested_archives_share_one_folder_budget(tmp_path: Path):
    folder = tmp_path / "nest"
    folder.mkdir()
    inner = _zip({f"part{i}.txt": (TEXT * 30).encode() for i in range(4)})  # ~4 × 110 kB of text
    middle = _zip({f"inner{i}.zip": inner for i in range(4)})
    (folder / "outer.zip").write_bytes(_zip({f"middle{i}.zip": middle for i in range(4)}))
    settings = get_settings(zip_max_total_mb=1)  # 64 text members would be ~7 MB: the folder gets 1 MB
    rep = ingest_folder(folder, settings)
    extracted = _bytes_under(rep.store.dir / "work")
    assert extracted <= 1024 * 1024 + len(inner) + len(middle) * 4
    reasons = " ".join(s.reason for s in rep.sources if s.kind == "archive")
    assert "size budget" in reasons
    assert any(s.status == "partial" for s in rep.sources if s.kind == "archive")
    assert any(s.status == "ok" and s.kind == "text" for s in rep.sources)  # what fitted was kept


def test_ratio_bomb_skipped_as_partial(tmp_path: Path):
    folder = tmp_path / "bomb"
    folder.mkdir()
    (folder / "bomb.zip").write_bytes(_zip({"zeros.txt": b"\0" * (8 * 2**20), "note.txt": TEXT.encode()}))
    rep = ingest_folder(folder)
    arch = next(s for s in rep.sources if s.path == "bomb.zip")
    assert arch.status == "partial" and "compression ratio" in arch.reason and "zeros.txt" in arch.reason
    assert any(s.path == "bomb.zip/note.txt" and s.status == "ok" for s in rep.sources)
    assert _bytes_under(rep.store.dir / "work") < 2**20


def test_lying_header_ratio_caught_while_streaming(tmp_path: Path):
    z = tmp_path / "lie.zip"
    z.write_bytes(_zip({"zeros.bin": b"\0" * (4 * 2**20)}))
    files, warnings = safe_extract(z, tmp_path / "out", budget=ArchiveBudget(10**9, 100, max_ratio=3))
    assert files == [] and "compression ratio above 3:1" in warnings[0]
    assert not (tmp_path / "out" / "zeros.bin").exists()


def test_bad_members_skipped_rest_kept(tmp_path: Path):
    folder = tmp_path / "bad"
    folder.mkdir()
    long_name = "n" * 300 + ".txt"
    (folder / "mixed.zip").write_bytes(_zip({
        "a": b"plain file a",
        "a/b.txt": TEXT.encode(),
        "d/x.txt": TEXT.encode(),
        "d": b"file over a folder",
        long_name: TEXT.encode(),
        "good.txt": TEXT.encode(),
    }))
    rep = ingest_folder(folder)
    arch = next(s for s in rep.sources if s.path == "mixed.zip")
    assert arch.status == "partial", arch.reason
    assert "a/b.txt: clashes with another member" in arch.reason
    assert "d: clashes with another member" in arch.reason
    assert "name too long" in arch.reason
    kept = {s.path for s in rep.sources if s.status == "ok"}
    assert {"mixed.zip/good.txt", "mixed.zip/d/x.txt"} <= kept


def test_extracted_files_removed_with_their_archive(tmp_path: Path):
    folder = tmp_path / "gone"
    folder.mkdir()
    z = folder / "docs.zip"
    z.write_bytes(_zip({"one.txt": TEXT.encode()}))
    rep = ingest_folder(folder)
    work = rep.store.dir / "work"
    assert _bytes_under(work) > 0
    z.write_bytes(_zip({"two.txt": (TEXT * 2).encode()}))  # changed: the old extraction goes
    rep = ingest_folder(folder)
    assert [p.name for p in work.rglob("*.txt")] == ["two.txt"]
    z.unlink()  # removed: nothing left
    rep = ingest_folder(folder)
    assert _bytes_under(work) == 0 and rep.sources == []
