"""``sourcebook media FILE``: show what the media layer reads from one video, audio file or image."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def register_cli(app: typer.Typer) -> None:
    """Add the ``media`` command to ``app``."""

    @app.command("media")
    def media(
        path: Path = typer.Argument(..., exists=True, dir_okay=False, help="video, audio or image file"),
        start: float | None = typer.Option(None, help="only this range of a video: start (seconds)"),
        end: float | None = typer.Option(None, help="only this range of a video: end (seconds)"),
        language: str | None = typer.Option(None, help="speech language (default: detect)"),
        keyframes: int = typer.Option(0, help="list this many keyframes of a video as JSON"),
    ) -> None:
        """Timeline of a video, timestamped transcript of an audio file, or OCR/metadata of an image."""
        from sourcebook.config import get_settings
        from sourcebook.errors import InputError
        from sourcebook.ingest.detect import detect_kind
        from sourcebook.media.probe import MediaError, probe
        from sourcebook.tools import media_tools as mt

        settings = get_settings()
        if language:
            settings.media.asr_language = language
        kind = detect_kind(path)
        if kind == "video":
            try:
                has_video = probe(path).has_video
            except MediaError as e:
                raise InputError(f"{path.name}: {e}") from e
            kind = "video" if has_video else "audio"
        if kind == "image":
            typer.echo(mt.image_describe(path, settings=settings))
        elif kind == "audio":
            typer.echo(mt.audio_transcribe(path, language=language, settings=settings))
        elif kind == "video":
            if keyframes:
                typer.echo(json.dumps(mt.video_extract_keyframes(path, keyframes, settings=settings),
                                      ensure_ascii=False, indent=1))
            elif start is not None or end is not None:
                typer.echo(mt.video_temporal_qa(path, start or 0.0, end if end is not None else 1e9,
                                                settings=settings))
            else:
                typer.echo(mt.video_understanding(path, settings=settings))
        else:
            raise InputError(f"{path.name}: not a video, audio or image file (detected: {kind})")
