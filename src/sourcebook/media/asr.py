"""Speech to timestamped text with faster-whisper (CPU, int8), offline.

Audio comes from any container PyAV reads (wav, mp3, m4a, flac, ogg, the audio track of a video),
resampled to 16 kHz mono float32 and handed to faster-whisper as an array. Silero VAD (bundled with
faster-whisper) skips silence; Chinese output is normalised to simplified characters with OpenCC.
Results are cached by the file's sha256, model and language.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from sourcebook.media.cache import MediaCache, file_sha256, resolve_settings
from sourcebook.media.probe import SAMPLE_RATE, MediaError, decode_audio
from sourcebook.media.whisper_model import load_whisper

CACHE_VERSION = 2
CPU_THREADS = 2


@dataclass
class Segment:
    """One recognised stretch of speech."""

    start_s: float
    end_s: float
    text: str


@dataclass
class Transcript:
    """What was said in a file, with where."""

    language: str
    language_probability: float
    duration_s: float
    segments: list[Segment] = field(default_factory=list)
    model: str = ""
    elapsed_s: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return join_texts([s.text for s in self.segments])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Transcript:
        segs = [Segment(**s) for s in d.get("segments", [])]
        return cls(
            language=d.get("language", ""), language_probability=d.get("language_probability", 0.0),
            duration_s=d.get("duration_s", 0.0), segments=segs, model=d.get("model", ""),
            elapsed_s=d.get("elapsed_s", 0.0), warnings=list(d.get("warnings", [])),
        )


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")


def join_texts(parts: list[str]) -> str:
    """Join text pieces: no space between CJK neighbours, one space otherwise."""
    out = ""
    for p in parts:
        p = p.strip()
        if not p:
            continue
        if out and not (_CJK.match(out[-1]) and _CJK.match(p[0])):
            out += " "
        out += p
    return out


@lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → simplified Chinese (leaves other scripts untouched)."""
    return _t2s().convert(text) if _CJK.search(text) else text


def format_ts(seconds: float, round_up: bool = False) -> str:
    """``mm:ss`` (or ``h:mm:ss`` past an hour); whole seconds down, or up with ``round_up``."""
    s = max(0, math.ceil(seconds - 1e-3) if round_up else int(seconds + 1e-6))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"


def format_range(start_s: float, end_s: float) -> str:
    """``mm:ss–mm:ss`` locator covering the range (start rounded down, end rounded up)."""
    return f"{format_ts(start_s)}–{format_ts(end_s, round_up=True)}"


def transcribe_array(
    audio: np.ndarray, language: str | None = None, settings: Any = None, beam_size: int = 5,
) -> Transcript:
    """Recognise speech in 16 kHz mono float32 ``audio`` (no caching)."""
    settings = resolve_settings(settings)
    m = settings.media
    language = language or m.asr_language or None
    duration = round(len(audio) / SAMPLE_RATE, 3)
    model_name = str(m.whisper_model)
    if duration < 0.1:
        return Transcript(language=language or "", language_probability=0.0, duration_s=duration, model=model_name)
    model = load_whisper(model_name, settings.models_dir(), m.asr_compute_type, CPU_THREADS)
    t0 = time.perf_counter()
    seg_iter, info = model.transcribe(
        audio,
        language=language,
        beam_size=beam_size,
        vad_filter=True,
        vad_parameters={"min_silence_duration_ms": 500},
        condition_on_previous_text=False,
    )
    segments: list[Segment] = []
    lang = info.language or (language or "")
    for s in seg_iter:
        text = s.text.strip()
        if not text:
            continue
        if lang in ("zh", "yue") or _CJK.search(text):
            text = to_simplified(text)
        segments.append(Segment(round(float(s.start), 2), round(float(min(s.end, duration)), 2), text))
    if language is None:
        segments = _fill_speech_gaps(model, audio, segments, beam_size)
    return Transcript(
        language=lang,
        language_probability=round(float(info.language_probability or 0.0), 3),
        duration_s=duration,
        segments=segments,
        model=model_name,
        elapsed_s=round(time.perf_counter() - t0, 3),
    )


def _fill_speech_gaps(model: Any, audio: np.ndarray, segments: list[Segment], beam_size: int,
                      min_gap_s: float = 1.0) -> list[Segment]:
    """Speech that the first pass left without text — typically a passage in a second language after the
    language was detected on the first 30 s — is transcribed again on its own, with its own language."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    duration = len(audio) / SAMPLE_RATE
    extra: list[Segment] = []
    for chunk in get_speech_timestamps(audio, VadOptions(min_silence_duration_ms=500)):
        start, end = chunk["start"] / SAMPLE_RATE, chunk["end"] / SAMPLE_RATE
        if end - start < min_gap_s:
            continue
        covered = sum(max(0.0, min(end, s.end_s) - max(start, s.start_s)) for s in segments)
        if covered >= 0.5 * (end - start):
            continue
        part, _info = model.transcribe(audio[chunk["start"]:chunk["end"]], beam_size=beam_size,
                                       vad_filter=False, condition_on_previous_text=False)
        for s in part:
            text = s.text.strip()
            if not text:
                continue
            if _CJK.search(text):
                text = to_simplified(text)
            extra.append(Segment(round(start + float(s.start), 2), round(min(start + float(s.end), duration), 2),
                                 text))
    return sorted(segments + extra, key=lambda s: s.start_s) if extra else segments


def transcribe(path: Path, language: str | None = None, settings: Any = None) -> Transcript:
    """Transcribe the (first) audio stream of ``path``; cached by content hash, model and language.

    Raises :class:`~sourcebook.media.probe.MediaError` when the file has no decodable audio and
    :class:`~sourcebook.media.whisper_model.ModelUnavailableError` when the model is missing.
    """
    settings = resolve_settings(settings)
    path = Path(path)
    language = language or settings.media.asr_language or None
    sha = file_sha256(path)
    cache = MediaCache.from_settings(settings)
    key = f"transcript-{Path(str(settings.media.whisper_model)).name}-{language or 'auto'}-v{CACHE_VERSION}"
    hit = cache.load(sha, key)
    if hit is not None:
        return Transcript.from_dict(hit)
    audio, warnings = decode_audio(path)
    tr = transcribe_array(audio, language=language, settings=settings)
    tr.warnings.extend(warnings)
    cache.save(sha, key, tr.to_dict())
    return tr


def group_segments(
    segments: list[Segment], min_s: float = 20.0, max_s: float = 60.0, max_chars: int = 800,
) -> list[list[Segment]]:
    """Group consecutive segments into passages of roughly ``min_s``–``max_s`` seconds.

    A group closes once it spans ``min_s`` and the last segment ends a sentence, when it reaches the
    midpoint of ``min_s`` and ``max_s`` regardless, or when the next segment would push it past
    ``max_s`` / ``max_chars``. A long pause (> 5 s) also closes a group that spans ``min_s / 2``.
    """
    groups: list[list[Segment]] = []
    cur: list[Segment] = []
    chars = 0
    soft = (min_s + max_s) / 2
    for seg in segments:
        if cur:
            span_with = seg.end_s - cur[0].start_s
            span = cur[-1].end_s - cur[0].start_s
            gap = seg.start_s - cur[-1].end_s
            if span_with > max_s or chars + len(seg.text) > max_chars or (gap > 5.0 and span >= min_s / 2):
                groups.append(cur)
                cur, chars = [], 0
        cur.append(seg)
        chars += len(seg.text)
        span = cur[-1].end_s - cur[0].start_s
        ends_sentence = bool(re.search(r"[.!?。！？…]['\"”’」)]?$", seg.text.strip()))
        if span >= soft or (span >= min_s and ends_sentence):
            groups.append(cur)
            cur, chars = [], 0
    if cur:
        groups.append(cur)
    return groups


def timestamped_text(segments: list[Segment]) -> str:
    """One line per segment: ``[mm:ss–mm:ss] text``."""
    return "\n".join(f"[{format_range(s.start_s, s.end_s)}] {s.text}" for s in segments)


__all__ = [
    "MediaError", "Segment", "Transcript", "format_range", "format_ts", "group_segments", "join_texts",
    "timestamped_text", "to_simplified", "transcribe", "transcribe_array",
]
