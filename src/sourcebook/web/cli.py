"""``sourcebook web``: serve the web app (loopback by default; any other address needs the access token)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

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

        from sourcebook import api
        from sourcebook.web.app import WebConfig, create_app
        from sourcebook.web.security import is_loopback, make_token

        loopback = is_loopback(host)
        if not loopback and not token:
            token = make_token()
        root = Path(runs_dir or api.make_settings().runs_dir).resolve()
        config = WebConfig(runs_dir=root, token=token, loopback=loopback)
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
        typer.echo(f"sourcebook web: runs in {root}\nopen {url}", err=True)
        if token and not os.environ.get("SOURCEBOOK_WEB_TOKEN"):
            typer.echo("(the token is needed once per browser; set SOURCEBOOK_WEB_TOKEN or --token to fix it)",
                       err=True)
        uvicorn.run(create_app(config), host=host, port=port, log_level="warning")
