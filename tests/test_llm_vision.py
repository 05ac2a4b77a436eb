"""A vision model (through the scripted server and the real SDK) captions photos at ingest and answers
questions about an image."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from sourcebook.config import LLMSettings, Settings
from sourcebook.ingest.folder import ingest_folder
from sourcebook.llm.scripted import ScriptedServer
from sourcebook.media import image as image_mod
from sourcebook.tools.builtin import build_registry

CAPTION = "一座残存的石质拱门立在池塘边，周围是树木和碎石。"


def _photo(path: Path) -> None:
    img = Image.new("RGB", (2400, 1600), (120, 150, 170))
    d = ImageDraw.Draw(img)
    d.rectangle((800, 500, 1600, 1300), fill=(200, 200, 190))
    d.ellipse((1000, 300, 1400, 700), fill=(200, 200, 190))
    img.save(path, format="JPEG")


def _image_parts(request: dict) -> list[dict]:
    return [p for m in request["messages"] if isinstance(m.get("content"), list)
            for p in m["content"] if p.get("type") == "image_url"]


def test_caption_becomes_evidence_and_questions_are_answered(tmp_path: Path) -> None:
    folder = tmp_path / "task"
    folder.mkdir()
    _photo(folder / "ruins.jpg")
    turns = [{"text": CAPTION}, {"text": "拱门两侧各有一根石柱。"}]
    with ScriptedServer(turns) as srv:
        settings = Settings(cache_dir=tmp_path / "cache", llm=LLMSettings(
            provider="openai", base_url=srv.openai_base_url, vision_model="vision-test", max_retries=0))
        try:
            report = ingest_folder(folder, settings)
            (src,) = report.sources
            assert src.status == "ok"
            (passage,) = report.store.passages("ruins.jpg")
            assert CAPTION in passage.text
            assert report.store.search("石质拱门 池塘", k=1, mode="bm25")[0].source == "ruins.jpg"
            sent = _image_parts(srv.requests[0])
            assert len(sent) == 1 and sent[0]["image_url"]["url"].startswith("data:image/jpeg;base64,")
            assert srv.requests[0]["model"] == "vision-test"
            reg = build_registry(report.store, folder, settings, mount_external=False)
            result = reg.call("tool-vqa", "image_understanding", {"path": "ruins.jpg", "question": "拱门旁边有什么？"})
            assert result.error is None, result.error
            answer = result.text
            assert "拱门两侧各有一根石柱" in answer and "vision-test" in answer
            assert len(srv.requests) == 2 and _image_parts(srv.requests[1])
        finally:
            image_mod.set_captioner(None)


def test_without_vision_model_no_captioner(tmp_path: Path) -> None:
    folder = tmp_path / "task"
    folder.mkdir()
    _photo(folder / "ruins.jpg")
    image_mod.set_captioner(lambda p: "stale", name="vision-old")
    report = ingest_folder(folder, Settings(cache_dir=tmp_path / "cache"))
    assert image_mod.get_captioner() is None
    assert report.sources[0].status == "metadata"


def test_configuring_a_vision_model_later_rereads_images(tmp_path: Path) -> None:
    folder = tmp_path / "task"
    folder.mkdir()
    _photo(folder / "ruins.jpg")
    cache = tmp_path / "cache"
    first = ingest_folder(folder, Settings(cache_dir=cache))
    assert first.sources[0].status == "metadata"
    with ScriptedServer([{"text": CAPTION}]) as srv:
        settings = Settings(cache_dir=cache, llm=LLMSettings(
            provider="openai", base_url=srv.openai_base_url, vision_model="vision-test", max_retries=0))
        try:
            second = ingest_folder(folder, settings)
        finally:
            image_mod.set_captioner(None)
    assert second.changed == ["ruins.jpg"] and second.sources[0].status == "ok"
