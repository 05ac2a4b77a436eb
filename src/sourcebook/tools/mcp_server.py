"""Serve the tool registry of a task folder as an MCP server (stdio or streamable HTTP).

``sourcebook mcp serve FOLDER`` ingests the folder (incrementally, reusing the cache) and exposes every
built-in tool — ``rag_search``, ``read_file``, … — to any MCP client. Tool names are the plain tool names;
the server group (``tool-rag``, ``tool-reader``, …) is given in each tool's ``meta``.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import typer

from sourcebook.tools.registry import ToolRegistry

log = logging.getLogger(__name__)

SERVER_NAME = "sourcebook"


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
                      port: int = 8765, path: str = "/mcp") -> None:
    """Run the MCP server until the client disconnects (stdio) or the process is stopped (http)."""
    server = build_server(registry)
    if transport == "stdio":
        from mcp.server.stdio import stdio_server

        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())
    elif transport == "http":
        import uvicorn

        app = server.streamable_http_app(streamable_http_path=path, host=host)
        config = uvicorn.Config(app, host=host, port=port, log_level="warning")
        await uvicorn.Server(config).serve()
    else:
        raise ValueError(f"unknown transport {transport!r} (stdio or http)")


def serve(folder: Path, transport: str = "stdio", host: str = "127.0.0.1", port: int = 8765,
          settings: Any = None) -> None:
    """Expose the tools of ``folder`` over MCP (blocking)."""
    # stdout belongs to the protocol on stdio: logs go to stderr
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    import anyio

    registry = registry_for_folder(folder, settings)
    try:
        anyio.run(serve_async, registry, transport, host, port)
    finally:
        registry.close()


def register_cli(app: typer.Typer) -> None:
    """Add ``sourcebook mcp serve FOLDER [--transport stdio|http] [--host] [--port]``."""
    mcp_app = typer.Typer(help="Model Context Protocol: expose the tools of a task folder.")

    @mcp_app.command("serve")
    def serve_cmd(
        folder: Path = typer.Argument(..., exists=True, file_okay=False, help="task folder"),
        transport: str = typer.Option("stdio", "--transport", "-t", help="stdio or http"),
        host: str = typer.Option("127.0.0.1", "--host"),
        port: int = typer.Option(8765, "--port", "-p"),
    ) -> None:
        """Serve rag_search, read_file and the other tools of FOLDER over MCP."""
        if transport not in ("stdio", "http"):
            raise typer.BadParameter("transport must be stdio or http")
        if transport == "http":
            print(f"serving MCP on http://{host}:{port}/mcp", file=sys.stderr)
        serve(folder, transport, host, port)

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
