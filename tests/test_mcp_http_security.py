"""MCP over HTTP beyond loopback: a bearer token is required and the Host/Origin checks stay on."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import anyio
import httpx
import pytest

from sourcebook.tools.mcp_server import (
    allowed_names,
    build_server,
    http_app,
    is_loopback,
    registry_for_folder,
    resolve_token,
    serve_async,
)

INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "t", "version": "0"}}}
ACCEPT = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def registry(tmp_path: Path):
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "notes.md").write_text("# 储能\n\n社区储能的装机容量为 5 MWh。\n", encoding="utf-8")
    reg = registry_for_folder(folder)
    yield reg
    reg.close()


def test_loopback_and_token_rules(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("SOURCEBOOK_MCP_TOKEN", raising=False)
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("example.org")
    assert resolve_token("127.0.0.1", None) == (None, False)
    token, generated = resolve_token("0.0.0.0", None)
    assert generated and len(token) >= 32
    assert resolve_token("0.0.0.0", "mine") == ("mine", False)
    monkeypatch.setenv("SOURCEBOOK_MCP_TOKEN", "from-env")
    assert resolve_token("10.1.2.3", None) == ("from-env", False)
    names = allowed_names("192.168.7.9", ["book.example"])
    assert "192.168.7.9" in names and "book.example" in names and "evil.example" not in names


def test_public_bind_without_token_refused(registry):
    with pytest.raises(ValueError, match="needs a token"):
        anyio.run(lambda: serve_async(registry, "http", "0.0.0.0", _free_port()))


def test_token_host_and_origin_enforced(registry):
    import uvicorn

    port = _free_port()
    app = http_app(build_server(registry), host="0.0.0.0", token="s3cret-token", allow_hosts=["book.example"])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.time() + 30
        while not server.started and time.time() < deadline:
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}/mcp"
        auth = {"authorization": "Bearer s3cret-token"}
        with httpx.Client(timeout=10) as c:
            assert c.post(url, json=INIT, headers=ACCEPT).status_code == 401
            assert c.post(url, json=INIT, headers={**ACCEPT, "authorization": "Bearer nope"}).status_code == 401
            bad_host = c.post(url, json=INIT, headers={**ACCEPT, **auth, "host": "evil.example"})
            assert bad_host.status_code in (400, 403, 421)
            bad_origin = c.post(url, json=INIT, headers={**ACCEPT, **auth, "origin": "http://evil.example"})
            assert bad_origin.status_code in (400, 403)
            ok = c.post(url, json=INIT, headers={**ACCEPT, **auth, "host": f"book.example:{port}",
                                                 "origin": f"http://book.example:{port}"})
            assert ok.status_code == 200, ok.text
            assert "serverInfo" in ok.text
            ok2 = c.post(url, json=INIT, headers={**ACCEPT, **auth})  # Host 127.0.0.1:port is allowed too
            assert ok2.status_code == 200
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_stdio_server_stderr_has_no_debug_lines(tmp_path: Path):
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.md").write_text("# A\n\nSolar roofs pay back in eight years.\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "sourcebook.tools.mcp_server", str(folder), "stdio"],
                          input="", capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert "DEBUG" not in proc.stderr, proc.stderr[-2000:]
