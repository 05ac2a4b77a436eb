"""Keep ONNX Runtime's own files inside sourcebook's cache directory.

Importing ``onnxruntime`` writes a device id and a usage database under ``$XDG_CACHE_HOME`` (else
``~/.cache``). :func:`import_onnxruntime` imports it once with ``XDG_CACHE_HOME`` pointing into the configured
cache directory, then restores the environment; later imports (RapidOCR, faster-whisper) reuse the module.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

_lock = threading.Lock()


def import_onnxruntime() -> None:
    """Import ``onnxruntime`` with its cache home under ``<cache_dir>/runtime`` (no-op once imported)."""
    if "onnxruntime" in sys.modules:
        return
    from sourcebook.config import get_settings

    with _lock:
        if "onnxruntime" in sys.modules:
            return
        before = os.environ.get("XDG_CACHE_HOME")
        home = Path(get_settings().cache_dir) / "runtime"
        home.mkdir(parents=True, exist_ok=True)
        os.environ["XDG_CACHE_HOME"] = str(home)
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            pass
        finally:
            if before is None:
                os.environ.pop("XDG_CACHE_HOME", None)
            else:
                os.environ["XDG_CACHE_HOME"] = before
