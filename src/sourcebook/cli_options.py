"""Command-line options shared by several commands (one definition each)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

FolderArg = Annotated[Path, typer.Argument(help="Task folder with the sources.")]
RequestArg = Annotated[str | None, typer.Argument(help="The request text (or use --request-file / --task-file).")]
RequestFileOpt = Annotated[Path | None, typer.Option("--request-file", help="Text file holding the request.")]
TaskFileOpt = Annotated[Path | None, typer.Option("--task-file", help="JSON/JSONL task file; the request is 'query'.")]
RowOpt = Annotated[int, typer.Option("--row", help="Row of a JSONL task file.")]
ModelOpt = Annotated[str | None, typer.Option("--model", "-m", help="Model name (else SOURCEBOOK_LLM__MODEL).")]
BaseUrlOpt = Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible or Anthropic endpoint.")]
ProviderOpt = Annotated[str | None, typer.Option("--provider", help="openai (any compatible server) or anthropic.")]
DialectOpt = Annotated[str | None, typer.Option("--dialect", help="native function calling or xml.")]
RunsDirOpt = Annotated[Path | None, typer.Option("--runs-dir", help="Where run directories go (default: runs).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")]
