"""Safe ZIP extraction: path escapes, symlinks, limits, zip bombs and CJK member names."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from sourcebook.ingest.archive import member_name, safe_extract
from tests.docgen import make_zip, make_zip_bomb


def test_rejects_escapes_and_extracts_the_rest(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "a.zip", {
        "docs/readme.txt": b"hello",
        "../evil.txt": b"owned",
        "/etc/passwd_copy": b"root",
        "docs/../../evil2.txt": b"owned",
        "ok/./nested/file.md": b"# hi",
    })
    dest = tmp_path / "out"
    files, warnings = safe_extract(z, dest, max_members=100, max_total_bytes=10**6)
    rels = sorted(p.relative_to(dest).as_posix() for p in files)
    assert rels == ["docs/readme.txt", "ok/nested/file.md"]
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "evil2.txt").exists()
    assert len(warnings) == 3 and all("unsafe path" in w for w in warnings)
    assert (dest / "docs" / "readme.txt").read_bytes() == b"hello"


def test_symlink_member_skipped(tmp_path: Path) -> None:
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo("link")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
        zf.writestr("real.txt", "data")
    files, warnings = safe_extract(path, tmp_path / "out", max_members=10, max_total_bytes=10**6)
    assert [p.name for p in files] == ["real.txt"]
    assert warnings == ["link: symlink member skipped"]


def test_zip_bomb_over_limit(tmp_path: Path) -> None:
    bomb = make_zip_bomb(tmp_path / "bomb.zip", size=20 * 2**20)
    assert bomb.stat().st_size < 2**20  # small on disk
    files, warnings = safe_extract(bomb, tmp_path / "out", max_members=10, max_total_bytes=5 * 2**20)
    assert files == []
    assert len(warnings) == 1 and "bomb.txt" in warnings[0]
    assert not any((tmp_path / "out").rglob("*.txt"))


def test_lying_header_is_caught_while_writing(tmp_path: Path) -> None:
    # declared size says 10 bytes; the data inflates to 3 MB
    path = tmp_path / "liar.zip"
    payload = b"A" * (3 * 2**20)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("liar.txt", payload)
    data = bytearray(path.read_bytes())
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24:cd + 28] = (10).to_bytes(4, "little")  # uncompressed size in the central directory
    path.write_bytes(bytes(data))
    files, warnings = safe_extract(path, tmp_path / "out", max_members=10, max_total_bytes=2**20)
    assert files == []
    assert warnings and "liar.txt" in warnings[0]
    assert not (tmp_path / "out" / "liar.txt").exists()


def test_member_count_limit(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "many.zip", {f"f{i}.txt": b"x" for i in range(12)})
    files, warnings = safe_extract(z, tmp_path / "out", max_members=5, max_total_bytes=10**6)
    assert len(files) == 5
    assert any("member limit" in w for w in warnings)


def test_gbk_member_names(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "zh.zip", {"报告/数据表.csv": b"a,b\n1,2\n"}, utf8_names=False)
    with zipfile.ZipFile(z) as zf:
        info = zf.infolist()[0]
        assert not info.flag_bits & 0x800
        assert member_name(info) == "报告/数据表.csv"
    files, warnings = safe_extract(z, tmp_path / "out", max_members=10, max_total_bytes=10**6)
    assert warnings == []
    assert [p.relative_to(tmp_path / "out").as_posix() for p in files] == ["报告/数据表.csv"]


def test_not_a_zip(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip at all")
    with pytest.raises(zipfile.BadZipFile):
        safe_extract(bad, tmp_path / "out", max_members=10, max_total_bytes=100)
