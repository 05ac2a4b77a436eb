"""Test helpers for the web app: a real uvicorn server on 127.0.0.1 in a thread, and headless Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("SOURCEBOOK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextmanager
def serve(config) -> Iterator[str]:
    """Run the app for ``config`` on a free loopback port; yields its base URL."""
    import uvicorn

    from sourcebook.web.app import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(config), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def browser_or_skip():
    """A headless Chromium driven by Playwright, or skip with the reason."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    pw = sync_playwright().start()
    try:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception as e:
        pw.stop()
        pytest.skip(f"Chromium does not start: {e}")
    return pw, browser


ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go (kept after the run): ``$SOURCEBOOK_TEST_ARTIFACTS`` or ``test-artifacts/screenshots``
    in the checkout (git-ignored)."""
    d = Path(os.environ.get("SOURCEBOOK_TEST_ARTIFACTS") or ARTIFACTS) / "screenshots"
    d.mkdir(parents=True, exist_ok=True)
    return d
