"""Safe ZIP extraction: no path escapes, no symlinks, bounded member count, size and ratio (zip-bomb safe),
and readable CJK member names from archives made without the UTF-8 flag."""

from __future__ import annotations

import errno
import stat
import zipfile
from dataclasses import dataclass
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


RATIO_FLOOR = 1 << 20  # members smaller than this are never called bombs, whatever their ratio


@dataclass
class ArchiveBudget:
    """What all the archives of one folder may still extract together (nested archives included)."""

    bytes_left: int = 2 * 1024**3
    members_left: int = 2000
    max_ratio: int = 200


def _member_problem(e: OSError) -> str:
    if e.errno == errno.ENAMETOOLONG:
        return "name too long for the file system"
    if isinstance(e, FileExistsError | NotADirectoryError | IsADirectoryError):
        return "clashes with another member (a file and a folder of the same name)"
    return f"cannot be written ({e.strerror or e})"


def safe_extract(
    zip_path: Path, dest: Path, max_members: int = 2000, max_total_bytes: int = 2 * 1024**3,
    budget: ArchiveBudget | None = None,
) -> tuple[list[Path], list[str]]:
    """Extract regular files of ``zip_path`` into ``dest``.

    Members with absolute paths or ``..`` escapes and symlinks are skipped with a warning; extraction
    stops when the ``budget`` (shared by every archive of a folder; by default ``max_members`` files and
    ``max_total_bytes``) runs out (declared sizes are checked first and the bytes actually written are
    counted, so a lying header cannot inflate past the limit). A member expanding more than
    ``budget.max_ratio`` times its compressed size, failing its CRC, or that cannot be written (name too long,
    clashing with a folder of the same name) is skipped with its reason; the rest are kept.
    Returns ``(extracted_files, warnings)``; the files are ``dest / <member path>`` (not resolved), so
    ``relative_to(dest)`` gives the member path.
    Raises :class:`zipfile.BadZipFile` (or OSError) if the archive itself cannot be opened.
    """
    if budget is None:
        budget = ArchiveBudget(max_total_bytes, max_members)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    files: list[Path] = []
    warnings: list[str] = []
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
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
            if budget.members_left <= 0:
                warnings.append("member limit of the folder's archives reached; remaining members skipped")
                break
            if info.file_size > budget.bytes_left:
                warnings.append(f"{name}: declared size {info.file_size} bytes exceeds the remaining size "
                                "budget of the folder's archives; skipped")
                continue
            limit = max(RATIO_FLOOR, budget.max_ratio * max(1, info.compress_size))
            if info.file_size > limit:
                warnings.append(f"{name}: compression ratio above {budget.max_ratio}:1 (zip bomb?); skipped")
                continue
            try:
                target = (dest / rel).resolve()
                if root not in target.parents:
                    warnings.append(f"{name}: resolves outside the extraction folder; skipped")
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                out = target.open("wb")
            except OSError as e:
                warnings.append(f"{name}: {_member_problem(e)}; skipped")
                continue
            written = 0
            problem = ""
            try:
                with zf.open(info) as src, out:
                    while block := src.read(CHUNK):
                        written += len(block)
                        if written > budget.bytes_left or written > info.file_size:
                            problem = "expands beyond its declared size or the size budget"
                            break
                        if written > limit:
                            problem = f"compression ratio above {budget.max_ratio}:1 (zip bomb?)"
                            break
                        out.write(block)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError,
                    RuntimeError) as e:
                problem = f"unreadable member ({e})"
            if problem:
                warnings.append(f"{name}: {problem}; skipped")
                target.unlink(missing_ok=True)
                continue
            budget.bytes_left -= written
            budget.members_left -= 1
            files.append(dest / rel)
    return files, warnings
