"""Uploaded files (or a zip) become a task folder, within limits on size, file count and zip expansion."""

from __future__ import annotations

import re
import stat
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from sourcebook.errors import InputError

_CHUNK = 1 << 20
_BAD_CHARS = re.compile(r'[\x00-\x1f<>:"|?*\\]')


@dataclass(frozen=True)
class UploadLimits:
    """How much an upload may hold."""

    max_files: int = 200              # files in the form
    max_bytes: int = 512 * 1024**2     # all uploaded bytes together
    max_zip_members: int = 2000
    max_zip_bytes: int = 1024**3      # uncompressed total of a zip
    max_zip_ratio: float = 200.0      # uncompressed / compressed: above it the zip is treated as a bomb


def safe_name(name: str) -> str:
    """The last component of an uploaded file name, without control or path characters; :class:`InputError`
    for names that cannot be made safe (empty, ``.``, ``..``)."""
    base = PurePosixPath(str(name).replace("\\", "/")).name
    base = _BAD_CHARS.sub("_", base).strip().lstrip(".") or ""
    if not base:
        raise InputError(f"{name!r}: not a usable file name")
    return base[:200]


def _member_path(dest: Path, name: str) -> Path:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if not parts or name.startswith("/") or any(p in ("..", "") for p in parts) or ":" in parts[0]:
        raise InputError(f"zip member {name!r}: path leaves the folder")
    target = (dest / Path(*[_BAD_CHARS.sub("_", p) for p in parts])).resolve()
    if not target.is_relative_to(dest.resolve()):
        raise InputError(f"zip member {name!r}: path leaves the folder")
    return target


def extract_zip(path: Path, dest: Path, limits: UploadLimits) -> list[Path]:
    """Extract ``path`` into ``dest`` after checking member count, total and ratio of uncompressed size,
    member paths and symlinks; bytes actually written are counted too (a lying header does not help)."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise InputError(f"{path.name}: not a readable zip ({e})") from e
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > limits.max_zip_members:
            raise InputError(f"{path.name}: {len(infos)} files in the zip; at most {limits.max_zip_members}")
        declared = sum(i.file_size for i in infos)
        packed = max(1, sum(i.compress_size for i in infos))
        if declared > limits.max_zip_bytes:
            raise InputError(f"{path.name}: expands to {declared:,} bytes; at most {limits.max_zip_bytes:,}")
        if declared / packed > limits.max_zip_ratio and declared > 1024**2:
            raise InputError(f"{path.name}: compression ratio {declared / packed:.0f}:1 looks like a zip bomb")
        out: list[Path] = []
        written = 0
        for info in infos:
            if stat.S_ISLNK(info.external_attr >> 16):
                raise InputError(f"zip member {info.filename!r}: symbolic links are not accepted")
            target = _member_path(dest, info.filename)
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, target.open("wb") as fh:
                while chunk := src.read(_CHUNK):
                    written += len(chunk)
                    if written > limits.max_zip_bytes:
                        raise InputError(f"{path.name}: expands beyond {limits.max_zip_bytes:,} bytes")
                    fh.write(chunk)
            out.append(target)
        return out


def save_uploads(files: list[tuple[str, BinaryIO]], root: Path, limits: UploadLimits) -> Path:
    """Write uploaded ``(name, stream)`` pairs into a new folder under ``root`` (zips extracted) and return
    it. :class:`InputError` names the file and the limit it broke; nothing is left behind then."""
    import shutil

    files = [(n, f) for n, f in files if n]
    if not files:
        raise InputError("no files uploaded")
    if len(files) > limits.max_files:
        raise InputError(f"{len(files)} files uploaded; at most {limits.max_files}")
    dest = Path(root) / f"upload-{uuid.uuid4().hex[:12]}"
    dest.mkdir(parents=True)
    total = 0
    try:
        for name, stream in files:
            target = dest / safe_name(name)
            if target.exists():
                target = target.with_name(f"{target.stem}-{uuid.uuid4().hex[:4]}{target.suffix}")
            with target.open("wb") as fh:
                while chunk := stream.read(_CHUNK):
                    total += len(chunk)
                    if total > limits.max_bytes:
                        raise InputError(f"{name}: the upload exceeds {limits.max_bytes:,} bytes")
                    fh.write(chunk)
            if target.suffix.lower() == ".zip":
                extract_zip(target, dest / target.stem, limits)
                target.unlink()
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return dest
