"""Legacy Office formats (.ppt, .doc): converted with LibreOffice into the work dir, then read by the
PPTX/DOCX extractors. Without LibreOffice the file is skipped with a clear reason."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from sourcebook.ingest.base import ExtractContext, ExtractionError, register
from sourcebook.models import PassageDraft

CONVERT_TIMEOUT_S = 300
TARGETS = {".ppt": "pptx", ".pps": "pptx", ".doc": "docx", ".rtf": "docx", ".odt": "docx", ".odp": "pptx"}


def soffice_binary() -> str | None:
    """Path of the LibreOffice executable, if installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(path: Path, target_ext: str, out_dir: Path) -> Path:
    """Convert ``path`` to ``target_ext`` (``pptx``/``docx``/``xlsx``) with headless LibreOffice."""
    binary = soffice_binary()
    if binary is None:
        raise ExtractionError("legacy format: install LibreOffice to read .ppt/.doc", status="skipped")
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = out_dir / "lo-profile"
    cmd = [binary, f"-env:UserInstallation={profile.resolve().as_uri()}", "--headless", "--norestore",
           "--convert-to", target_ext, "--outdir", str(out_dir), str(path)]
    env = dict(os.environ, HOME=str(out_dir))
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=CONVERT_TIMEOUT_S, env=env, check=False)
    except subprocess.TimeoutExpired as e:
        raise ExtractionError(f"LibreOffice conversion timed out after {CONVERT_TIMEOUT_S} s") from e
    result = out_dir / f"{path.stem}.{target_ext}"
    if proc.returncode != 0 or not result.exists():
        err = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip().splitlines()
        raise ExtractionError(f"LibreOffice could not convert the file: {err[-1] if err else 'no output'}")
    return result


@register("legacy")
def extract_legacy(path: Path, ctx: ExtractContext) -> Iterator[PassageDraft]:
    """Old binary .ppt/.doc files, via LibreOffice conversion."""
    from sourcebook.ingest.base import extractor_for

    ext = path.suffix.lower()
    target = TARGETS.get(ext)
    if target is None:
        raise ExtractionError(f"unsupported legacy format {ext or '(no extension)'}", status="skipped")
    if path.stat().st_size == 0:
        raise ExtractionError("empty file", status="empty")
    converted = convert(path, target, ctx.work_dir / "converted")
    ctx.meta["converted_from"] = ext.lstrip(".")
    extractor = extractor_for(target)
    if extractor is None:
        raise ExtractionError(f"no extractor for converted {target}")
    yield from extractor(converted, ctx)
