"""The ``media`` command: describe an image, a video range, and refuse other files clearly."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from . import mediagen as mg


def _app() -> typer.Typer:
    from sourcebook.cli import app

    return app


def test_media_command(tmp_path: Path) -> None:
    img = tmp_path / "note.png"
    mg.slide("Deadline Friday", size=(700, 200), font_size=56).save(img)
    video = mg.write_video(tmp_path / "v.mp4", [(mg.slide("First Point"), 2.0), (mg.slide("Second Point"), 2.0)])
    (tmp_path / "notes.txt").write_text("plain text")
    runner = CliRunner()
    res = runner.invoke(_app(), ["media", str(img)])
    assert res.exit_code == 0 and "Deadline Friday" in res.output and "700×200" in res.output
    res = runner.invoke(_app(), ["media", str(video), "--start", "2", "--end", "4"])
    assert res.exit_code == 0 and "Second Point" in res.output and "First Point" not in res.output
    res = runner.invoke(_app(), ["media", str(tmp_path / "notes.txt")])
    assert res.exit_code == 2 and "notes.txt: not a video, audio or image file" in res.output
