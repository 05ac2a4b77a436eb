"""Metadata-only media registration and the legacy Office fallback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from sourcebook.ingest.base import ExtractContext, ExtractionError
from sourcebook.ingest.legacy import extract_legacy
from sourcebook.ingest.media_meta import extract_audio, extract_image, extract_video
from tests.docgen import make_image_with_text


def ctx_for(path: Path, tmp_path: Path) -> ExtractContext:
    return ExtractContext(folder=path.parent, rel_path=path.name, work_dir=tmp_path / "w")


def test_image_metadata_with_exif(tmp_path: Path) -> None:
    img = make_image_with_text(None, "hello", size=(320, 200))
    exif = Image.Exif()
    exif[0x010F] = "Acme Cameras"   # Make
    exif[0x0110] = "Model 7"        # Model
    path = tmp_path / "photo.jpg"
    img.save(path, exif=exif)
    ctx = ctx_for(path, tmp_path)
    assert list(extract_image(path, ctx)) == []
    assert (ctx.meta["width"], ctx.meta["height"], ctx.meta["format"], ctx.meta["mode"]) == (320, 200, "JPEG", "RGB")
    assert ctx.meta["exif"] == {"Make": "Acme Cameras", "Model": "Model 7"}


def test_corrupt_image(tmp_path: Path) -> None:
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    with pytest.raises(ExtractionError, match="unreadable image"):
        list(extract_image(path, ctx_for(path, tmp_path)))


def test_audio_metadata(tmp_path: Path) -> None:
    import wave

    path = tmp_path / "tone.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x00\x01" * 16000 * 2)
    ctx = ctx_for(path, tmp_path)
    assert list(extract_audio(path, ctx)) == []
    assert ctx.meta["duration_s"] == pytest.approx(2.0, abs=0.05)
    assert ctx.meta["has_audio"] and not ctx.meta["has_video"]
    assert ctx.meta["sample_rate"] == 16000 and ctx.meta["channels"] == 1


def test_video_metadata(tmp_path: Path) -> None:
    import av
    import numpy as np

    path = tmp_path / "clip.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for i in range(20):
            frame = av.VideoFrame.from_ndarray(np.full((120, 160, 3), i * 10, dtype=np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    ctx = ctx_for(path, tmp_path)
    assert list(extract_video(path, ctx)) == []
    assert ctx.meta["has_video"] and (ctx.meta["width"], ctx.meta["height"]) == (160, 120)
    assert ctx.meta["duration_s"] == pytest.approx(2.0, abs=0.2)
    assert ctx.meta["streams"][0]["codec"] == "mpeg4"


def test_corrupt_media(tmp_path: Path) -> None:
    path = tmp_path / "broken.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 50)
    with pytest.raises(ExtractionError):
        list(extract_video(path, ctx_for(path, tmp_path)))


@pytest.mark.skipif(bool(shutil.which("soffice") or shutil.which("libreoffice")), reason="LibreOffice installed")
def test_legacy_without_libreoffice_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "old.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    with pytest.raises(ExtractionError) as err:
        list(extract_legacy(path, ctx_for(path, tmp_path)))
    assert err.value.status == "skipped"
    assert "install LibreOffice" in err.value.reason
