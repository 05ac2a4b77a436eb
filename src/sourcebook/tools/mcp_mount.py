"""Mount external MCP servers: their tools join the registry under the server's configured name.

Configuration (``settings.mcp_servers``, e.g. in ``sourcebook.toml``)::

    [mcp_servers.tool-search]
    command = "python"
    args = ["-m", "my_search_server"]
    env = { SEARCH_INDEX = "/data/index" }

    [mcp_servers.remote-notes]
    url = "http://127.0.0.1:9000/mcp"

Servers start lazily (when the registry is first asked for its tools) and stay up for the run: each one keeps
a single client session inside a task on one background event-loop thread; calls from the agent's threads are
submitted to that loop. :meth:`MCPMount.close` (called by ``ToolRegistry.close``) ends every session.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from sourcebook.tools.registry import ToolError, ToolRegistry

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 30.0
CALL_TIMEOUT_S = 300.0


@dataclass
class _Conn:
    name: str
    session: Any = None
    tools: list[Any] = field(default_factory=list)
    stop: asyncio.Event | None = None
    task: asyncio.Future[Any] | None = None
    ready_s: float = 0.0


def _result_text(result: Any) -> str:
    parts: list[str] = []
    for block in getattr(result, "content", None) or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind == "resource":
            res = getattr(block, "resource", None)
            parts.append(getattr(res, "text", None) or f"[resource {getattr(res, 'uri', '')}]")
        else:
            parts.append(f"[{kind or 'content'} block]")
    text = "\n".join(parts)
    if not text and getattr(result, "structured_content", None) is not None:
        import json

        text = json.dumps(result.structured_content, ensure_ascii=False)
    return text


class MCPMount:
    """Client sessions to external MCP servers, held on one background event loop."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._conns: dict[str, _Conn] = {}
        self._lock = threading.Lock()

    # -- event loop ---------------------------------------------------------------------------------------
    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                t = threading.Thread(target=loop.run_forever, name="mcp-mount", daemon=True)
                t.start()
                self._loop, self._thread = loop, t
            return self._loop

    def _run(self, coro: Any, timeout: float) -> Any:
        fut = asyncio.run_coroutine_threadsafe(coro, self._ensure_loop())
        try:
            return fut.result(timeout=timeout)
        except TimeoutError:
            fut.cancel()
            raise

    # -- sessions -----------------------------------------------------------------------------------------
    async def _hold(self, conn: _Conn, cfg: dict[str, Any], ready: asyncio.Future[Any]) -> None:
        from mcp import ClientSession

        conn.stop = asyncio.Event()
        try:
            async with AsyncExitStack() as stack:
                if cfg.get("url"):
                    from mcp.client.streamable_http import streamable_http_client

                    streams = await stack.enter_async_context(streamable_http_client(str(cfg["url"])))
                else:
                    from mcp.client.stdio import StdioServerParameters, stdio_client

                    params = StdioServerParameters(
                        command=str(cfg["command"]),
                        args=[str(a) for a in cfg.get("args", [])],
                        env={str(k): str(v) for k, v in (cfg.get("env") or {}).items()} or None,
                        cwd=cfg.get("cwd"),
                    )
                    streams = await stack.enter_async_context(stdio_client(params))
                session = await stack.enter_async_context(ClientSession(streams[0], streams[1]))
                await session.initialize()
                listed = await session.list_tools()
                conn.session, conn.tools = session, list(listed.tools)
                if not ready.done():
                    ready.set_result(conn)
                await conn.stop.wait()
        except BaseException as e:  # noqa: BLE001 - reported to whoever waits for the connection
            if not ready.done():
                ready.set_exception(e if isinstance(e, Exception) else RuntimeError(repr(e)))
            if not isinstance(e, Exception | asyncio.CancelledError):
                raise

    async def _connect(self, name: str, cfg: dict[str, Any]) -> _Conn:
        conn = _Conn(name)
        ready: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        conn.task = asyncio.ensure_future(self._hold(conn, cfg, ready))
        return await ready

    def connect(self, name: str, cfg: dict[str, Any], timeout: float = CONNECT_TIMEOUT_S) -> list[Any]:
        """Start (once) the server ``name`` and return its MCP tool list."""
        if name in self._conns:
            return self._conns[name].tools
        if not cfg.get("url") and not cfg.get("command"):
            raise ValueError(f"mcp_servers.{name}: needs either 'command' (stdio) or 'url' (streamable HTTP)")
        t0 = time.perf_counter()
        conn = self._run(self._connect(name, cfg), timeout)
        conn.ready_s = time.perf_counter() - t0
        self._conns[name] = conn
        log.info("mounted MCP server %s (%d tools) in %.2f s", name, len(conn.tools), conn.ready_s)
        return conn.tools

    def ready_seconds(self, name: str) -> float:
        """How long the server took from start to its tool list."""
        return self._conns[name].ready_s

    def call(self, name: str, tool: str, arguments: dict[str, Any], timeout: float = CALL_TIMEOUT_S) -> str:
        """Call ``tool`` on server ``name``; an error result raises :class:`ToolError` with its text."""
        conn = self._conns.get(name)
        if conn is None or conn.session is None:
            raise ToolError(f"MCP server {name} is not connected")
        result = self._run(conn.session.call_tool(tool, arguments), timeout)
        text = _result_text(result)
        if getattr(result, "is_error", False):
            raise ToolError(text or f"{name}/{tool} reported an error")
        return text

    def close(self) -> None:
        """End every session (stopping stdio server processes) and the loop thread."""
        loop = self._loop
        if loop is None:
            return

        async def _stop_all() -> None:
            for conn in self._conns.values():
                if conn.stop is not None:
                    conn.stop.set()
            tasks = [c.task for c in self._conns.values() if c.task is not None]
            if tasks:
                await asyncio.wait(tasks, timeout=10)

        try:
            asyncio.run_coroutine_threadsafe(_stop_all(), loop).result(timeout=15)
        except Exception as e:
            log.warning("closing MCP sessions: %s", e)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._conns.clear()
        self._loop = None
        self._thread = None


def mount_servers(registry: ToolRegistry, servers: dict[str, dict[str, Any]]) -> MCPMount:
    """Arrange for ``servers`` to be started on first need; their tools join ``registry``.

    A server that fails to start is logged and left out; the others still mount.
    """
    mount = MCPMount()

    def provide(reg: ToolRegistry) -> None:
        for name, cfg in servers.items():
            try:
                tools = mount.connect(name, dict(cfg))
            except Exception as e:
                log.warning("MCP server %s could not start: %s", name, e)
                continue
            for t in tools:
                reg.add_raw(
                    name, t.name, t.description or t.name, dict(getattr(t, "input_schema", None) or {}),
                    lambda args, _n=name, _t=t.name: mount.call(_n, _t, args),
                    timeout_s=float(dict(cfg).get("timeout_s", CALL_TIMEOUT_S)),
                )

    registry.add_provider(provide)
    registry.on_close(mount.close)
    return mount
