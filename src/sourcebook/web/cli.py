"""``sourcebook web``: serve the web app (loopback by default; any other address needs the access token)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from sourcebook.cli_options import RunsDirOpt


def register_cli(app: typer.Typer) -> None:
    """Add the ``web`` command."""

    @app.command("web")
    def web_cmd(
        host: Annotated[str, typer.Option("--host", help="Address to bind (loopback unless you mean it).")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
        runs_dir: RunsDirOpt = None,
        token: Annotated[str | None, typer.Option(
            "--token", envvar="SOURCEBOOK_WEB_TOKEN",
            help="Access token (required off loopback; generated and printed when not given).")] = None,
    ) -> None:
        """Start, watch and audit runs in a browser."""
        import uvicorn

        from sourcebook.web.app import create_app

        config, url = web_config(host, port, runs_dir, token)
        typer.echo(f"sourcebook web: runs in {config.runs_dir}\nopen {url}", err=True)
        if config.token and not token:
            typer.echo("(a fresh token; give --token or SOURCEBOOK_WEB_TOKEN to keep one)", err=True)
        uvicorn.run(create_app(config), host=host, port=port, log_level="warning")


def web_config(host: str, port: int, runs_dir: Path | None, token: str | None) -> tuple[Any, str]:
    """The app configuration and the address to open: loopback hosts need no token, any other host gets
    ``token`` or a freshly generated one."""
    from sourcebook import api
    from sourcebook.web.app import WebConfig
    from sourcebook.web.security import is_loopback, make_token

    loopback = is_loopback(host)
    if not loopback and not token:
        token = make_token()
    root = Path(runs_dir or api.make_settings().runs_dir).resolve()
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    return WebConfig(runs_dir=root, token=token, loopback=loopback), url
