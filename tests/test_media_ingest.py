"""Media files through folder ingest: each gets passages or a clear status, and one bad file never loses
the others."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sourcebook.ingest.folder import ingest_folder
from sourcebook.models import STATUS_EMPTY, STATUS_ERROR, STATUS_METADATA, STATUS_OK

from . import mediagen as mg


def test_media_folder(tmp_path: Path) -> None:
    folder = tmp_path / "task"
    folder.mkdir()
    mg.write_video(folder / "talk.mp4", [(mg.slide("Budget Review"), 3.0), (mg.slide("Next Steps"), 3.0)])
    mg.write_video(folder / "blank.mp4", [(mg.slide(""), 2.0)])
    mg.slide("Meeting Room 4B", size=(800, 200)).save(folder / "sign.png")
    mg.write_audio(folder / "hum.wav", np.zeros(16000 * 2, dtype=np.float32))
    good = (folder / "talk.mp4").read_bytes()
    (folder / "broken.mp4").write_bytes(good[:3000])
    (folder / "nothing.mp3").write_bytes(b"")
    report = ingest_folder(folder)
    by = {s.path: s for s in report.sources}
    assert by["talk.mp4"].status == STATUS_OK and by["talk.mp4"].passages == 2
    assert by["talk.mp4"].meta["scenes"] == 2 and by["talk.mp4"].meta["has_video"] is True
    assert by["sign.png"].status == STATUS_OK and by["sign.png"].meta["width"] == 800
    assert by["blank.mp4"].status == STATUS_METADATA and "no on-screen text or speech" in by["blank.mp4"].reason
    assert by["hum.wav"].status == STATUS_METADATA and by["hum.wav"].reason == "no speech detected"
    assert by["broken.mp4"].status == STATUS_ERROR and by["broken.mp4"].reason
    assert by["nothing.mp3"].status in (STATUS_EMPTY, STATUS_ERROR) and "empty" in by["nothing.mp3"].reason
    passages = list(report.store.passages("talk.mp4"))
    assert [p.locator for p in passages] == ["00:00–00:03", "00:03–00:06"]
    assert passages[1].label == "[talk.mp4, 00:03–00:06]" and "Next Steps" in passages[1].text
    assert Path(passages[0].loc["keyframe"]).is_file()
    (sign,) = report.store.passages("sign.png")
    assert sign.label == "[sign.png]" and "Meeting Room 4B" in sign.text


def test_cli_search_finds_on_screen_text_and_speech_with_time_locators(tmp_path: Path) -> None:
    import json

    import pytest
    from typer.testing import CliRunner

    from sourcebook.cli import app

    if not mg.espeak_available():
        pytest.skip("espeak-ng not installed: no synthetic speech")
    folder = tmp_path / "task"
    folder.mkdir()
    voice = mg.read_wav(mg.speech("The harvest festival starts on Saturday morning.", tmp_path / "v.wav"))
    mg.write_video(folder / "lecture.mp4", [(mg.slide("Quarterly Budget"), 4.0), (mg.slide("Volcano Safety"), 4.0)],
                   audio=np.concatenate([np.zeros(16000 * 4, dtype=np.float32), voice[: 16000 * 4]]))
    runner = CliRunner()
    screen = json.loads(runner.invoke(app, ["search", str(folder), "volcano safety", "--json", "--mode", "bm25"]).stdout)
    assert screen and screen[0]["locator"] == "00:04–00:08" and "[on screen]" in screen[0]["text"]
    spoken = json.loads(runner.invoke(app, ["search", str(folder), "harvest festival", "--json", "--mode", "bm25"]).stdout)
    assert spoken and spoken[0]["locator"] == "00:04–00:08" and "[speech]" in spoken[0]["text"]
