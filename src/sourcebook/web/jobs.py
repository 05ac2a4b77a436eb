"""Runs started from the web app: each in a background thread of the server process."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from sourcebook.errors import SourcebookError

log = logging.getLogger(__name__)


class Jobs:
    """Starts runs in threads and hands back the new run directory's name as soon as it exists."""

    def __init__(self, runs_dir: Path) -> None:
        self.runs_dir = Path(runs_dir)
        self.threads: dict[str, threading.Thread] = {}

    def start(self, folder: Path, request: str, settings: Any, timeout_s: float = 60.0) -> str:
        """Start a run of ``request`` over ``folder``; returns the run id. Input errors found before the run
        directory exists are raised here as :class:`SourcebookError`."""
        from sourcebook import api

        created = threading.Event()
        box: dict[str, Any] = {}

        def on_created(rd: Any) -> None:
            box["id"] = rd.path.name
            created.set()

        def work() -> None:
            try:
                api.run(folder, request, settings=settings, runs_dir=self.runs_dir, on_created=on_created)
            except BaseException as e:  # recorded in run.json by api.run; kept here for the caller
                box["error"] = e
                log.warning("run over %s failed: %s", folder, e)
            finally:
                created.set()

        t = threading.Thread(target=work, name=f"run-{folder.name}", daemon=True)
        t.start()
        created.wait(timeout_s)
        if "id" not in box:
            err = box.get("error")
            raise err if isinstance(err, SourcebookError) else SourcebookError(f"the run did not start: {err}")
        self.threads[box["id"]] = t
        return box["id"]
