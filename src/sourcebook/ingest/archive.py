"""Safe ZIP extraction: no path escapes, no symlinks, bounded member count and size (zip-bomb safe),
and readable CJK member names from archives made without the UTF-8 flag."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path, PurePosixPath

CHUNK = 1 << 20
_UTF8_FLAG = 0x800


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's real name: zipfile decodes names without the UTF-8 flag as cp437; re-decode
    those bytes as UTF-8, then GBK/GB18030, then Shift-JIS, keeping cp437 as the last resort."""
    name = info.filename
    if info.flag_bits & _UTF8_FLAG:
        return name
    try:
        raw = name.encode("cp437")
    except UnicodeEncodeError:
        return name
    if raw.isascii():
        return name
    for enc in ("utf-8", "gb18030", "cp932", "big5"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return name


def _safe_relative(name: str) -> PurePosixPath | None:
    """Normalised relative path of a member, or None when it is absolute or escapes the root."""
    name = name.replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return None
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            return None
        parts.append(part)
    return PurePosixPath(*parts) if parts else None


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return info.create_system == 3 and stat.S_ISLNK(mode)


def safe_extract(
    zip_path: Path, dest: Path, max_members: int = 2000, max_total_bytes: int = 2 * 1024**3
) -> tuple[list[Path], list[str]]:
    """Extract regular files of ``zip_path`` into ``dest``.

    Members with absolute paths or ``..`` escapes and symlinks are skipped with a warning; extraction
    stops at ``max_members`` files or ``max_total_bytes`` (declared sizes are checked first and the
    bytes actually written are counted, so a lying header cannot inflate past the limit). A member that
    fails its CRC or cannot be decompressed is skipped. Returns ``(extracted_files, warnings)``;
    the files are ``dest / <member path>`` (not resolved), so ``relative_to(dest)`` gives the member path.
    Raises :class:`zipfile.BadZipFile` (or OSError) if the archive itself cannot be opened.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    files: list[Path] = []
    warnings: list[str] = []
    total = 0
    with zipfile.ZipFile(zip_path) as zf:
        infos = zf.infolist()
        for info in infos:
            name = member_name(info)
            if info.is_dir():
                continue
            if _is_symlink(info):
                warnings.append(f"{name}: symlink member skipped")
                continue
            rel = _safe_relative(name)
            if rel is None:
                warnings.append(f"{name}: unsafe path (absolute or '..') skipped")
                continue
            if len(files) >= max_members:
                warnings.append(f"member limit reached ({max_members}); remaining members skipped")
                break
            if info.file_size > max_total_bytes - total:
                warnings.append(
                    f"{name}: declared size {info.file_size} bytes exceeds the remaining size budget; skipped"
                )
                continue
            target = (dest / rel).resolve()
            if root not in target.parents:
                warnings.append(f"{name}: resolves outside the extraction folder; skipped")
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            ok = True
            try:
                with zf.open(info) as src, target.open("wb") as out:
                    while True:
                        block = src.read(CHUNK)
                        if not block:
                            break
                        written += len(block)
                        if total + written > max_total_bytes or written > info.file_size:
                            ok = False
                            warnings.append(f"{name}: expands beyond its declared size or the size limit; skipped")
                            break
                        out.write(block)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as e:
                ok = False
                warnings.append(f"{name}: unreadable member ({e}); skipped")
            if not ok:
                target.unlink(missing_ok=True)
                continue
            total += written
            files.append(dest / rel)
    return files, warnings
