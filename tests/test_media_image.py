"""Images: OCR of upright, EXIF-rotated and upside-down text, metadata, captioner hook, bad files."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from sourcebook.config import Settings
from sourcebook.ingest.base import ExtractContext, ExtractionError
from sourcebook.media.extractors import extract_image
from sourcebook.media.image import describe_image, set_captioner
from sourcebook.media.ocr import ocr_image, ocr_text
from sourcebook.tools.media_tools import image_describe

from . import mediagen as mg


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(cache_dir=tmp_path_factory.mktemp("img-cache"))


def _card(text: str = "Invoice 2024 Total 315 EUR") -> Image.Image:
    return mg.slide(text, size=(900, 240), font_size=48)


def test_ocr_accepts_paths_bytes_and_images(tmp_path: Path) -> None:
    img = _card()
    p = tmp_path / "card.png"
    img.save(p)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    for src in (p, str(p), buf.getvalue(), img):
        text = ocr_text(src)
        assert "Invoice 2024" in text and "315" in text
    lines = ocr_image(p)
    assert lines and all(0.5 <= score <= 1 and len(box) == 4 for _, box, score in lines)


def test_exif_rotation_and_upside_down(tmp_path: Path) -> None:
    # stored sideways with an EXIF orientation tag saying "rotate 90° to view": like a phone photo
    sideways = _card().rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to display
    p = tmp_path / "photo.jpg"
    sideways.save(p, "JPEG", exif=exif.tobytes(), quality=95)
    assert "Invoice 2024" in ocr_text(p)
    flipped = tmp_path / "flipped.png"
    _card().rotate(180).save(flipped)
    # each upside-down line is turned by the direction classifier (line order follows the page as stored)
    assert {"invoice", "2024", "total", "eur"} <= set(ocr_text(flipped).lower().split())


def test_describe_image_metadata_caption_and_cache(tmp_path: Path, settings: Settings) -> None:
    p = tmp_path / "card.jpg"
    exif = Image.Exif()
    exif[0x010F] = "TestCam"   # Make
    exif[0x0132] = "2024:05:01 10:00:00"  # DateTime
    _card().save(p, "JPEG", exif=exif.tobytes(), quality=95)
    desc = describe_image(p, settings=settings)
    assert (desc.width, desc.height, desc.format) == (900, 240, "JPEG")
    assert desc.exif["Make"] == "TestCam"
    assert "Invoice 2024" in desc.text and desc.caption is None
    calls: list[Path] = []

    def captioner(path: Path) -> str:
        calls.append(path)
        return "A white card with a printed invoice total."

    set_captioner(captioner, name="test")
    try:
        out = image_describe(p, settings=settings)
        again = image_describe(p, settings=settings)
    finally:
        set_captioner(None)
    assert out == again and len(calls) == 1  # caption cached
    assert "[caption] A white card" in out and "900×240" in out and "Make=TestCam" in out
    assert "Invoice 2024" in out


def test_image_extractor(tmp_path: Path, settings: Settings) -> None:
    p = tmp_path / "card.png"
    _card().save(p)
    ctx = ExtractContext(folder=tmp_path, rel_path="card.png", work_dir=tmp_path / "w", settings=settings)
    (passage,) = list(extract_image(p, ctx))
    assert passage.text.startswith("[text in image]") and "315" in passage.text
    assert ctx.meta["width"] == 900 and ctx.meta["ocr_lines"] >= 1
    blank = tmp_path / "blank.png"
    Image.new("RGB", (300, 200), "white").save(blank)
    ctx = ExtractContext(folder=tmp_path, rel_path="blank.png", work_dir=tmp_path / "w", settings=settings)
    assert list(extract_image(blank, ctx)) == []
    assert ctx.meta["no_content_reason"] == "no text recognised in the image"


@pytest.mark.parametrize("content", [b"", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, b"hello"])
def test_bad_images_fail_clearly(tmp_path: Path, settings: Settings, content: bytes) -> None:
    p = tmp_path / "bad.png"
    p.write_bytes(content)
    ctx = ExtractContext(folder=tmp_path, rel_path="bad.png", work_dir=tmp_path / "w", settings=settings)
    with pytest.raises(ExtractionError) as e:
        list(extract_image(p, ctx))
    assert e.value.reason
    assert "cannot read image" in image_describe(p, settings=settings)
