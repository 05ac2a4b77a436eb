"""``sourcebook runs`` (list run directories) and ``sourcebook show RUN`` (one run's summary)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from sourcebook.cli_options import JsonOpt, RunsDirOpt

STATUS_STYLE = {"done": "green", "running": "cyan", "failed": "red", "interrupted": "yellow"}


def _tokens(info: dict[str, Any]) -> str:
    t = info.get("tokens") or {}
    return f"{int(t.get('total') or 0):,}"


def _runs_dir(runs_dir: Path | None) -> Path:
    if runs_dir is not None:
        return runs_dir
    from sourcebook import api

    return Path(api.make_settings().runs_dir)


def show_lines(info: dict[str, Any]) -> list[str]:
    """The summary of a run as plain text lines."""
    model = info.get("model") or {}
    t = info.get("tokens") or {}
    cost = info.get("cost_usd")
    lines = [
        f"run       {info.get('id')}",
        f"path      {info.get('path', '')}",
        f"status    {info.get('status')}" + (f" — {info['error']}" if info.get("error") else ""),
        f"request   {' '.join(str(info.get('request') or '').split())[:300]}",
        f"folder    {info.get('folder')}",
        f"started   {info.get('started')}   ended {info.get('ended') or '—'}"
        + (f"   ({info['duration_s']} s)" if info.get("duration_s") is not None else ""),
        f"model     {model.get('name') or '(none: extractive)'}"
        + (f" via {model.get('provider')} {model.get('base_url') or ''}".rstrip() if model.get("name") else ""),
        f"tokens    {int(t.get('prompt') or 0):,} prompt + {int(t.get('completion') or 0):,} completion = "
        f"{int(t.get('total') or 0):,} in {info.get('llm_calls') or 0} model calls"
        + (f"   cost ${cost:.4f}" if cost is not None else ""),
        f"agent     {info.get('turns') or 0} turns, {info.get('tool_calls') or 0} tool calls"
        + (f", stopped: {info['stopped']}" if info.get("stopped") else "")
        + (f", {info['llm_errors']} failed model calls" if info.get("llm_errors") else ""),
    ]
    tools = info.get("tools") or {}
    if tools:
        lines.append("tools     calls  errors  cached  median s")
        for name, st in sorted(tools.items(), key=lambda kv: -kv[1].get("calls", 0)):
            lines.append(f"  {name:<30} {st.get('calls', 0):>5} {st.get('errors', 0):>7} {st.get('cached', 0):>7}"
                         f"  {st.get('median_s', 0):>8.3f}")
    if info.get("verdict"):
        lines.append(f"report    verdict {info['verdict']}")
    for f in info.get("files") or []:
        lines.append(f"  {f}")
    return lines


def register_cli(app: typer.Typer) -> None:
    """Add ``runs`` and ``show``."""

    @app.command("runs")
    def runs_cmd(runs_dir: RunsDirOpt = None, as_json: JsonOpt = False,
                 limit: Annotated[int, typer.Option("--limit", "-n", help="Show at most this many.")] = 50) -> None:
        """List the runs under the runs directory, newest first."""
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        from sourcebook import api

        root = _runs_dir(runs_dir)
        runs = api.list_runs(root)[:limit]
        if as_json:
            typer.echo(json.dumps(runs, ensure_ascii=False, indent=2, default=str))
            return
        if not runs:
            typer.echo(f"no runs in {root}")
            return
        table = Table(title=f"{root} — {len(runs)} runs")
        for col in ("run", "status", "started", "model", "tokens", "verdict", "request"):
            table.add_column(col, justify="right" if col == "tokens" else "left")
        for r in runs:
            style = STATUS_STYLE.get(str(r.get("status")), "")
            table.add_row(escape(r["id"]), f"[{style}]{escape(str(r.get('status')))}[/{style}]" if style
                          else escape(str(r.get("status"))), str(r.get("started") or ""),
                          escape(str((r.get("model") or {}).get("name") or "—")), _tokens(r),
                          str(r.get("verdict") or "—"), escape(" ".join(str(r.get("request") or "").split())[:40]))
        Console().print(table)

    @app.command("show")
    def show_cmd(run: Annotated[Path, typer.Argument(help="Run directory (or its name under --runs-dir).")],
                 runs_dir: RunsDirOpt = None, as_json: JsonOpt = False) -> None:
        """Print the summary of one run: status, times, model, tokens, cost, tool statistics, files."""
        from sourcebook import api

        path = run if run.exists() else _runs_dir(runs_dir) / run
        info = api.show_run(path)
        if as_json:
            typer.echo(json.dumps(info, ensure_ascii=False, indent=2, default=str))
            return
        typer.echo("\n".join(show_lines(info)))
