"""Video timelines: keyframes at slide changes with OCR, temporal ranges, silent/corrupt/empty files,
audio-only MP4, caching, the video extractor and tools."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from sourcebook.config import Settings
from sourcebook.ingest.base import ExtractContext, ExtractionError
from sourcebook.media.extractors import extract_video
from sourcebook.media.probe import MediaError
from sourcebook.media.video import analyze_video
from sourcebook.tools.media_tools import video_extract_keyframes, video_temporal_qa, video_understanding

from . import mediagen as mg
from .conftest import MODELS_DIR

SLIDES = [("Alpha Centauri", "slide one"), ("Quarterly Revenue", "slide two"), ("Final Summary", "slide three")]
SPOKEN = ["The nearest star system is four light years away.",
          "Our revenue grew by twelve percent this quarter.",
          "Thank you for listening to this talk."]
SECS = 4.0


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(cache_dir=tmp_path_factory.mktemp("media-cache"), models_home=MODELS_DIR)


def _audio(tmp: Path) -> np.ndarray:
    """Speech per slide (espeak-ng) or a tone, padded to the slide length."""
    rate = 16000
    track = np.zeros(int(len(SLIDES) * SECS * rate), dtype=np.float32)
    for i, sentence in enumerate(SPOKEN):
        if mg.espeak_available():
            clip = mg.read_wav(mg.speech(sentence, tmp / f"s{i}.wav"), rate)[: int((SECS - 0.5) * rate)]
        else:
            clip = mg.tone(2.0, rate, 300 + 100 * i)
        start = int((i * SECS + 0.3) * rate)
        track[start:start + len(clip)] = clip
    return track


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("videos")
    frames = [(mg.slide(f"{a}\n{b}"), SECS) for a, b in SLIDES]
    out = {
        "slides": mg.write_video(d / "slides.mp4", frames, audio=_audio(d)),
        "silent": mg.write_video(d / "silent.mp4", frames),
        "audio_only": mg.write_audio(d / "voice.mp4", _audio(d)),
    }
    good = out["slides"].read_bytes()
    (d / "truncated.mp4").write_bytes(good[: len(good) // 3])
    (d / "garbage.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    (d / "empty.mp4").write_bytes(b"")
    out.update(truncated=d / "truncated.mp4", garbage=d / "garbage.mp4", empty=d / "empty.mp4")
    return out


@pytest.fixture(scope="module")
def timeline(videos: dict[str, Path], settings: Settings):
    return analyze_video(videos["slides"], settings=settings)


def test_keyframe_ocr_finds_each_slide_at_its_time(timeline) -> None:
    assert timeline.duration_s == pytest.approx(len(SLIDES) * SECS, abs=0.3)
    for i, (title, _) in enumerate(SLIDES):
        hits = [s for s in timeline.scenes if title in s.ocr]
        assert hits, f"{title!r} not found in any keyframe: {[s.ocr for s in timeline.scenes]}"
        scene = hits[0]
        assert abs(scene.start_s - i * SECS) <= 1.0
        assert i * SECS - 1.0 <= scene.keyframe_s <= (i + 1) * SECS
        assert Path(scene.keyframe).is_file() and Path(scene.keyframe).suffix == ".jpg"
    # one scene per slide: the static stretches are not split or duplicated
    assert len(timeline.scenes) == len(SLIDES)


@pytest.mark.skipif(not mg.espeak_available(), reason="espeak-ng not installed: no synthetic speech")
def test_speech_lands_in_its_scene(timeline) -> None:
    assert timeline.language == "en"
    by_title = {s.ocr.split("\n")[0]: s.speech.lower() for s in timeline.scenes}
    assert "revenue" in by_title["Quarterly Revenue"]
    assert "revenue" not in by_title["Alpha Centauri"]
    assert "listening" in by_title["Final Summary"]


def test_temporal_qa_returns_only_that_range(videos: dict[str, Path], settings: Settings, timeline) -> None:
    out = video_temporal_qa(videos["slides"], 4.0, 8.0, "what is on the second slide?", settings=settings)
    assert "Quarterly Revenue" in out
    assert "Alpha Centauri" not in out and "Final Summary" not in out
    assert "00:04–00:08" in out
    if mg.espeak_available():
        assert "revenue" in out.lower() and "listening" not in out.lower()
    # a range past the end says so instead of inventing content
    assert "after the end" in video_temporal_qa(videos["slides"], 100, 120, settings=settings)


def test_silent_video_has_timeline_without_speech(videos: dict[str, Path], settings: Settings) -> None:
    tl = analyze_video(videos["silent"], settings=settings)
    assert not tl.segments and not tl.has_speech
    assert any("no audio track" in w for w in tl.warnings)
    assert [s.ocr.split("\n")[0] for s in tl.scenes] == [t for t, _ in SLIDES]
    ctx = ExtractContext(folder=videos["silent"].parent, rel_path="silent.mp4", work_dir=Path("/nonexistent"),
                         settings=settings)
    passages = list(extract_video(videos["silent"], ctx))
    assert len(passages) == 3 and not ctx.warnings
    assert passages[1].locator == "00:04–00:08" and passages[1].text.startswith("[on screen] Quarterly Revenue")
    assert ctx.meta["has_audio"] is False or "has_audio" not in ctx.meta
    assert ctx.meta["has_video"] is True and ctx.meta["scenes"] == 3


@pytest.mark.parametrize("name", ["truncated", "garbage", "empty"])
def test_bad_files_get_a_clear_error(videos: dict[str, Path], settings: Settings, name: str) -> None:
    path = videos[name]
    ctx = ExtractContext(folder=path.parent, rel_path=path.name, work_dir=path.parent / "w", settings=settings)
    try:
        passages = list(extract_video(path, ctx))
    except ExtractionError as e:
        assert e.reason and len(e.reason) < 300
        if name == "empty":
            assert "empty" in e.reason
        with pytest.raises(MediaError):
            analyze_video(path, settings=settings)
        assert "cannot analyse video" in video_understanding(path, settings=settings)
    else:
        # a cut-off file keeps what was decoded before the damage and says what was lost
        assert name == "truncated"
        assert passages and ctx.warnings


def test_audio_only_mp4_is_handled_as_audio(videos: dict[str, Path], settings: Settings) -> None:
    path = videos["audio_only"]
    ctx = ExtractContext(folder=path.parent, rel_path=path.name, work_dir=path.parent / "w", settings=settings)
    passages = list(extract_video(path, ctx))
    assert ctx.meta["audio_only"] is True and ctx.meta["has_video"] is False
    if mg.espeak_available():
        assert passages and "revenue" in " ".join(p.text for p in passages).lower()
        assert all("–" in p.locator and p.loc["end_s"] > p.loc["start_s"] for p in passages)


def test_second_call_is_cached(videos: dict[str, Path], settings: Settings, timeline) -> None:
    t0 = time.perf_counter()
    again = analyze_video(videos["slides"], settings=settings)
    assert time.perf_counter() - t0 < 0.5
    assert [s.ocr for s in again.scenes] == [s.ocr for s in timeline.scenes]
    assert [g.text for g in again.segments] == [g.text for g in timeline.segments]


def test_keyframe_and_understanding_tools(videos: dict[str, Path], settings: Settings, timeline) -> None:
    kfs = video_extract_keyframes(videos["slides"], k=2, settings=settings)
    assert len(kfs) == 2
    for kf in kfs:
        assert Path(kf["image"]).is_file() and kf["time"].count(":") == 1
        assert set(kf) >= {"timestamp", "image", "text"}
    everything = video_understanding(videos["slides"], settings=settings)
    assert everything.index("Alpha Centauri") < everything.index("Quarterly Revenue") < everything.index(
        "Final Summary")
    assert "3 scene(s)" in everything


def test_keyframe_cap(videos: dict[str, Path], tmp_path: Path) -> None:
    capped = Settings(cache_dir=tmp_path, models_home=MODELS_DIR)
    capped.media.max_keyframes = 2
    tl = analyze_video(videos["silent"], settings=capped)
    assert len(tl.scenes) == 2
    assert tl.scenes[0].start_s == 0.0 and tl.scenes[-1].end_s == pytest.approx(12.0, abs=0.2)
    assert tl.scenes[0].end_s == tl.scenes[1].start_s
    assert "Alpha Centauri" in tl.scenes[0].ocr
