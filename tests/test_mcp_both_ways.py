"""MCP both ways: the official client lists and calls rag_search on our server (stdio and streamable HTTP),
and external MCP servers mount into the registry under their configured names."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import anyio
import pytest

from sourcebook.config import get_settings
from sourcebook.ingest.folder import ingest_folder
from sourcebook.tools.builtin import build_registry
from sourcebook.tools.mcp_mount import MCPMount
from sourcebook.tools.registry import ToolRegistry
from tests.test_tools_registry import make_task_folder

TINY_SERVER = textwrap.dedent('''
    from mcp.server.mcpserver import MCPServer

    app = MCPServer("tiny")

    @app.tool()
    def shout(text: str) -> str:
        """Upper-case the text."""
        return text.upper()

    @app.tool()
    def explode(text: str) -> str:
        """Always fails."""
        raise ValueError("boom: " + text)

    if __name__ == "__main__":
        import sys

        if len(sys.argv) > 1:
            app.run("streamable-http", host="127.0.0.1", port=int(sys.argv[1]))
        else:
            app.run()
''')


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    f = make_task_folder(tmp_path)
    os.environ["SOURCEBOOK_SEARCH__DENSE"] = "false"
    ingest_folder(f, get_settings())  # warm the cache so the server starts fast
    yield f
    os.environ.pop("SOURCEBOOK_SEARCH__DENSE", None)


def _text(result) -> str:
    return "\n".join(b.text for b in result.content if getattr(b, "type", "") == "text")


async def _exercise(session) -> dict:
    await session.initialize()
    tools = (await session.list_tools()).tools
    names = {t.name for t in tools}
    assert {"rag_search", "rag_get_context", "read_file", "convert_to_markdown"} <= names
    rag = next(t for t in tools if t.name == "rag_search")
    assert rag.input_schema["required"] == ["query"]
    res = await session.call_tool("rag_search", {"query": "储能 装机容量", "k": 3})
    assert not res.is_error
    data = json.loads(_text(res))
    assert data["hits"][0]["source"] == "notes.md" and data["hits"][0]["passage_id"]
    bad = await session.call_tool("read_file", {"path": "../../etc/passwd"})
    assert bad.is_error and "not allowed" in _text(bad)
    return data


def test_official_client_over_stdio(folder: Path) -> None:
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "sourcebook.tools.mcp_server", str(folder), "stdio"],
                                   env=dict(os.environ))

    async def main() -> dict:
        async with stdio_client(params) as streams, ClientSession(streams[0], streams[1]) as session:
            return await _exercise(session)

    data = anyio.run(main)
    assert data["query"] == "储能 装机容量"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_official_client_over_streamable_http(folder: Path) -> None:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sourcebook.tools.mcp_server", str(folder), "http", str(port)],
                            env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_port(proc, port)

        async def main() -> dict:
            async with streamable_http_client(f"http://127.0.0.1:{port}/mcp") as streams, \
                    ClientSession(streams[0], streams[1]) as session:
                return await _exercise(session)

        data = anyio.run(main)
        assert data["hits"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_mount_external_stdio_server(tmp_path: Path) -> None:
    script = tmp_path / "tiny_server.py"
    script.write_text(TINY_SERVER)
    reg = ToolRegistry()
    from sourcebook.tools.mcp_mount import mount_servers

    mount = mount_servers(reg, {"tool-tiny": {"command": sys.executable, "args": [str(script)]},
                                "tool-broken": {"command": str(tmp_path / "no-such-binary")}})
    try:
        assert mount._loop is None  # nothing starts before the tools are needed
        servers = reg.servers()
        assert servers["tool-tiny"] == ["shout", "explode"]
        assert "tool-broken" not in servers  # a server that cannot start is left out, the rest still mount
        ready = mount.ready_seconds("tool-tiny")
        print(f"tiny stdio MCP server: process start to tool list in {ready:.2f} s")
        assert ready < 20.0  # includes the server's own Python start-up and imports
        spec = next(s for s in reg.specs() if s.name == "shout")
        assert spec.server == "tool-tiny" and spec.parameters["required"] == ["text"]
        r = reg.call("tool-tiny", "shout", {"text": "hello 世界"})
        assert r.ok and r.text == "HELLO 世界"
        r2 = reg.call("tool-tiny", "explode", {"text": "x"})
        assert not r2.ok and "explode" in r2.text
        # the session stays up: a second call reuses it
        assert reg.call("tool-tiny", "shout", {"text": "again"}).text == "AGAIN"
    finally:
        reg.close()
    assert mount._loop is None


def _wait_port(proc: subprocess.Popen, port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on port {port}")


def test_mount_running_http_server_is_ready_within_a_second(tmp_path: Path) -> None:
    script = tmp_path / "tiny_server.py"
    script.write_text(TINY_SERVER)
    port = _free_port()
    proc = subprocess.Popen([sys.executable, str(script), str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        _wait_port(proc, port)
        import mcp.client.streamable_http  # noqa: F401  (module import is not part of the connection time)

        mount = MCPMount()
        t0 = time.perf_counter()
        tools = mount.connect("tool-tiny", {"url": f"http://127.0.0.1:{port}/mcp"})
        first_ready = time.perf_counter() - t0
        print(f"HTTP MCP server mounted, first tool ready in {first_ready:.3f} s")
        assert [t.name for t in tools] == ["shout", "explode"]
        assert first_ready < 1.0
        assert mount.call("tool-tiny", "shout", {"text": "ok"}) == "OK"
        mount.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_mount_our_own_server_into_registry(folder: Path) -> None:
    """Mount `sourcebook mcp serve` itself as an external server: its tools appear under the configured name."""
    settings = get_settings(mcp_servers={"remote-book": {
        "command": sys.executable, "args": ["-m", "sourcebook.tools.mcp_server", str(folder), "stdio"],
        "env": {k: v for k, v in os.environ.items() if k.startswith("SOURCEBOOK_")}}})
    store = ingest_folder(folder, settings).store
    reg = build_registry(store, folder, settings)
    try:
        r = reg.call("remote-book", "rag_search", {"query": "peak load", "k": 2})
        assert r.ok, r.text
        assert json.loads(r.text)["hits"][0]["source"] == "sub/field.txt"
        assert r.passage_ids
        assert {"tool-rag", "tool-reader", "remote-book"} <= set(reg.servers())
    finally:
        reg.close()


def test_mount_rejects_config_without_command_or_url() -> None:
    m = MCPMount()
    with pytest.raises(ValueError, match="needs either 'command'"):
        m.connect("x", {"args": []})
    m.close()
