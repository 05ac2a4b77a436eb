"""Serve the tool registry of a task folder as an MCP server (stdio or streamable HTTP).

``sourcebook mcp serve FOLDER`` ingests the folder (incrementally, reusing the cache) and exposes every
built-in tool — ``rag_search``, ``read_file``, … — to any MCP client. Tool names are the plain tool names;
the server group (``tool-rag``, ``tool-reader``, …) is given in each tool's ``meta``.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import secrets
import socket
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import typer

from sourcebook.tools.registry import ToolRegistry

log = logging.getLogger(__name__)

SERVER_NAME = "sourcebook"
TOKEN_ENV = "SOURCEBOOK_MCP_TOKEN"


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_token(host: str, token: str | None) -> tuple[str | None, bool]:
    """The bearer token the HTTP server requires → ``(token, generated)``.

    A configured token (argument or ``SOURCEBOOK_MCP_TOKEN``) is always required; a bind beyond loopback
    without one gets a fresh random token; loopback without one needs none."""
    token = token or os.environ.get(TOKEN_ENV) or None
    if token is None and not is_loopback(host):
        return secrets.token_urlsafe(32), True
    return token, False


def allowed_names(host: str, extra: Iterable[str] = ()) -> list[str]:
    """Host names (without port) accepted in the ``Host`` header: loopback names, the bound address
    (or this machine's names for a wildcard bind) and ``extra``."""
    names = ["127.0.0.1", "localhost", "[::1]"]
    if host in ("0.0.0.0", "::", ""):
        names += [socket.gethostname(), socket.getfqdn()]
    elif not is_loopback(host):
        names.append(f"[{host}]" if ":" in host and not host.startswith("[") else host)
    names += [h.strip() for h in extra if h.strip()]
    return list(dict.fromkeys(names))


class BearerToken:
    """ASGI middleware: HTTP requests must carry ``Authorization: Bearer <token>`` (else 401)."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                body = b'{"error": "missing or wrong bearer token"}'
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"www-authenticate", b"Bearer"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def http_app(server: Any, host: str = "127.0.0.1", path: str = "/mcp", token: str | None = None,
             allow_hosts: Iterable[str] = ()) -> Any:
    """The streamable-HTTP ASGI app of ``server`` with Host/Origin checks always on (``allowed_names``)
    and, when ``token`` is given, a bearer-token check in front."""
    from mcp.server.transport_security import TransportSecuritySettings

    names = allowed_names(host, allow_hosts)
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{n}:*" for n in names] + names,
        allowed_origins=[f"{scheme}://{n}:*" for n in names for scheme in ("http", "https")]
        + [f"{scheme}://{n}" for n in names for scheme in ("http", "https")],
    )
    app = server.streamable_http_app(streamable_http_path=path, host=host, transport_security=security)
    return BearerToken(app, token) if token else app


def _exposed_names(registry: ToolRegistry) -> dict[str, tuple[str, str]]:
    """Public tool name → (server, name); a name used by two servers gets the ``server__name`` form."""
    tools = registry.tools()
    counts: dict[str, int] = {}
    for t in tools:
        counts[t.name] = counts.get(t.name, 0) + 1
    return {(t.name if counts[t.name] == 1 else t.wire_name): (t.server, t.name) for t in tools}


def build_server(registry: ToolRegistry, name: str = SERVER_NAME) -> Any:
    """A low-level MCP ``Server`` whose tools are the registry's."""
    import anyio
    import mcp_types as types
    from mcp.server.lowlevel import Server

    names = _exposed_names(registry)

    async def on_list_tools(ctx: Any, params: Any) -> Any:
        out = []
        for public, (server, tname) in names.items():
            t = registry.get(server, tname)
            if t is None:
                continue
            out.append(types.Tool(name=public, description=t.description, input_schema=t.parameters,
                                  meta={"server": server}))
        return types.ListToolsResult(tools=out)

    async def on_call_tool(ctx: Any, params: Any) -> Any:
        target = names.get(params.name)
        if target is None:
            return types.CallToolResult(
                content=[types.TextContent(type="text", text=f"unknown tool {params.name}")], is_error=True)
        args = dict(params.arguments or {})
        result = await anyio.to_thread.run_sync(lambda: registry.call(target[0], target[1], args))
        return types.CallToolResult(content=[types.TextContent(type="text", text=result.text)],
                                    is_error=not result.ok)

    return Server(name, version=_version(), on_list_tools=on_list_tools, on_call_tool=on_call_tool)


def _version() -> str:
    from sourcebook import __version__

    return __version__


def registry_for_folder(folder: Path, settings: Any = None) -> ToolRegistry:
    """Ingest ``folder`` (cached) and build its tool registry."""
    from sourcebook.config import get_settings
    from sourcebook.ingest.folder import ingest_folder
    from sourcebook.tools.builtin import build_registry

    settings = settings or get_settings()
    report = ingest_folder(Path(folder), settings)
    return build_registry(report.store, Path(folder), settings)


async def serve_async(registry: ToolRegistry, transport: str = "stdio", host: str = "127.0.0.1",
                      port: int = 8765, path: str = "/mcp", token: str | None = None,
                      allow_hosts: Iterable[str] = ()) -> None:
    """Run the MCP server until the client disconnects (stdio) or the process is stopped (http)."""
    server = build_server(registry)
    if transport == "stdio":
        from mcp.server.stdio import stdio_server

        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())
    elif transport == "http":
        import uvicorn

        if not is_loopback(host) and not token:
            raise ValueError(f"serving MCP on {host} (beyond loopback) needs a token")
        app = http_app(server, host, path, token, allow_hosts)
        config = uvicorn.Config(app, host=host, port=port, log_level="warning")
        await uvicorn.Server(config).serve()
    else:
        raise ValueError(f"unknown transport {transport!r} (stdio or http)")


def serve(folder: Path, transport: str = "stdio", host: str = "127.0.0.1", port: int = 8765,
          settings: Any = None, token: str | None = None, allow_hosts: Iterable[str] = ()) -> None:
    """Expose the tools of ``folder`` over MCP (blocking)."""
    # stdout belongs to the protocol on stdio: logs go to stderr, warnings only (libraries such as bm25s
    # set their own loggers to DEBUG)
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.WARNING)
    import anyio

    registry = registry_for_folder(folder, settings)
    try:
        anyio.run(lambda: serve_async(registry, transport, host, port, token=token, allow_hosts=allow_hosts))
    finally:
        registry.close()


def register_cli(app: typer.Typer) -> None:
    """Add ``sourcebook mcp serve FOLDER [--transport stdio|http] [--host] [--port]``."""
    mcp_app = typer.Typer(help="Model Context Protocol: expose the tools of a task folder.")

    @mcp_app.command("serve")
    def serve_cmd(
        folder: Path = typer.Argument(..., exists=True, file_okay=False, help="task folder"),
        transport: str = typer.Option("stdio", "--transport", "-t", help="stdio or http"),
        host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (http); beyond loopback a "
                                 "bearer token is required."),
        port: int = typer.Option(8765, "--port", "-p"),
        token: str | None = typer.Option(None, "--token", envvar=TOKEN_ENV, show_envvar=True,
                                         help="Bearer token clients must send (http). Generated and printed "
                                              "when binding beyond loopback without one."),
        allow_host: list[str] = typer.Option([], "--allow-host", help="Extra host name accepted in the Host "
                                             "and Origin headers (http; repeatable)."),
    ) -> None:
        """Serve rag_search, read_file and the other tools of FOLDER over MCP."""
        if transport not in ("stdio", "http"):
            raise typer.BadParameter("transport must be stdio or http")
        if transport == "http":
            token, generated = resolve_token(host, token)
            print(f"serving MCP on http://{host}:{port}/mcp", file=sys.stderr)
            if not is_loopback(host):
                print(f"warning: {host} is reachable beyond this machine; clients must send the token",
                      file=sys.stderr)
            if generated:
                print(f"token (send as 'Authorization: Bearer <token>'): {token}", file=sys.stderr)
        serve(folder, transport, host, port, token=token, allow_hosts=allow_host)

    app.add_typer(mcp_app, name="mcp")


def main(argv: list[str] | None = None) -> None:
    """``python -m sourcebook.tools.mcp_server FOLDER [stdio|http] [port]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print("usage: python -m sourcebook.tools.mcp_server FOLDER [stdio|http] [port]", file=sys.stderr)
        raise SystemExit(2)
    transport = args[1] if len(args) > 1 else "stdio"
    port = int(args[2]) if len(args) > 2 else 8765
    serve(Path(args[0]), transport, port=port)


if __name__ == "__main__":
    main()
