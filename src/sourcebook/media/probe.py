"""Read what a media container holds (streams, duration, size) and decode its audio, with PyAV only.

No ffmpeg binary is needed: PyAV bundles the libraries. Errors become :class:`MediaError` with a
one-line reason naming what is wrong (empty file, not a media file, no audio stream, ...).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

SAMPLE_RATE = 16000


class MediaError(Exception):
    """A media file cannot be read; the message is the reason shown to users."""


@dataclass
class MediaInfo:
    """Facts about a media file (all optional fields are None when the container does not say)."""

    format: str = ""
    duration_s: float | None = None
    has_video: bool = False
    has_audio: bool = False
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    frames: int | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    sample_rate: int | None = None
    channels: int | None = None
    bit_rate: int | None = None

    def to_meta(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None and v != ""}


def _open(path: Path) -> Any:
    import av

    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise MediaError(f"cannot read file: {e.strerror or e}") from e
    if size == 0:
        raise MediaError("empty file (0 bytes)")
    try:
        return av.open(str(path), metadata_errors="ignore")
    except (av.error.FFmpegError, OSError, ValueError) as e:  # type: ignore[attr-defined]
        raise MediaError(f"not a readable media file ({_short(e)})") from e


def _short(e: BaseException) -> str:
    msg = str(e).strip() or type(e).__name__
    # PyAV messages end with the file name: drop it, the caller names the file
    return msg.split(": '")[0][:200]


def probe(path: Path) -> MediaInfo:
    """Describe the streams of ``path``; raises :class:`MediaError` when it is not readable media."""
    with _open(path) as c:
        return _summary(c)


def probe_meta(path: Path) -> dict[str, Any]:
    """:func:`probe`'s facts as a dict (see :func:`info_of`), plus every stream's facts (``streams``)
    and the container's ``title`` when it has one. Raises :class:`MediaError` like :func:`probe`."""
    with _open(path) as c:
        meta = _summary(c).to_meta()
        meta["streams"] = [_stream_facts(s) for s in c.streams]
        title = (c.metadata or {}).get("title")
        if title:
            meta["title"] = title
    return meta


def _stream_facts(s: Any) -> dict[str, Any]:
    info: dict[str, Any] = {"type": s.type, "codec": s.codec_context.name if s.codec_context else None}
    if s.duration and s.time_base:
        info["duration_s"] = round(float(s.duration * s.time_base), 3)
    if s.type == "video":
        info.update(width=s.codec_context.width, height=s.codec_context.height,
                    fps=round(float(s.average_rate), 3) if s.average_rate else None)
        if s.frames:
            info["frames"] = s.frames
    elif s.type == "audio":
        info.update(sample_rate=s.codec_context.sample_rate, channels=s.codec_context.channels)
    return info


def _summary(c: Any) -> MediaInfo:
    """The :class:`MediaInfo` of an open container."""
    info = MediaInfo(format=c.format.name if c.format else "")
    if c.duration is not None and c.duration > 0:
        info.duration_s = round(c.duration / 1_000_000, 3)
    if c.bit_rate:
        info.bit_rate = int(c.bit_rate)
    vs = [s for s in c.streams.video if not _is_cover_art(s)]
    if vs:
        s = vs[0]
        info.has_video = True
        info.width = s.codec_context.width or None
        info.height = s.codec_context.height or None
        rate = s.average_rate or s.guessed_rate or s.base_rate
        info.fps = round(float(rate), 3) if rate else None
        info.frames = int(s.frames) if s.frames else None
        info.video_codec = s.codec_context.name
        if info.duration_s is None and s.duration and s.time_base:
            info.duration_s = round(float(s.duration * s.time_base), 3)
    if c.streams.audio:
        s = c.streams.audio[0]
        info.has_audio = True
        info.audio_codec = s.codec_context.name
        info.sample_rate = s.codec_context.sample_rate or None
        info.channels = s.codec_context.channels if hasattr(s.codec_context, "channels") else None
        if info.duration_s is None and s.duration and s.time_base:
            info.duration_s = round(float(s.duration * s.time_base), 3)
    if not info.has_video and not info.has_audio:
        raise MediaError("no audio or video stream in the file")
    return info


def _is_cover_art(stream: Any) -> bool:
    """Embedded album art in mp3/m4a files shows up as a one-frame 'video' stream."""
    try:
        if int(stream.disposition) & 0x400:  # AV_DISPOSITION_ATTACHED_PIC
            return True
    except (TypeError, ValueError, AttributeError):
        pass
    try:
        return stream.codec_context.name in ("mjpeg", "png", "bmp") and stream.frames in (0, 1)
    except AttributeError:
        return False


def decode_audio(path: Path, sample_rate: int = SAMPLE_RATE) -> tuple[np.ndarray, list[str]]:
    """Decode the first audio stream to mono float32 at ``sample_rate``.

    Returns the samples and a list of warnings (e.g. corrupt packets skipped). Raises
    :class:`MediaError` when there is no audio stream or nothing decodes.
    """
    import av

    warnings: list[str] = []
    chunks: list[np.ndarray] = []
    bad = 0
    with _open(path) as c:
        if not c.streams.audio:
            raise MediaError("no audio stream")
        stream = c.streams.audio[0]
        stream.thread_type = "AUTO"
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)

        def take(frames: Any) -> None:
            for out in frames:
                chunks.append(out.to_ndarray().reshape(-1))

        try:
            for packet in c.demux(stream):
                try:
                    for frame in packet.decode():
                        take(resampler.resample(frame))
                except (av.error.InvalidDataError, ValueError):  # type: ignore[attr-defined]
                    bad += 1
                    if bad > 50 and not chunks:
                        break
        except av.error.FFmpegError as e:  # type: ignore[attr-defined]
            warnings.append(f"audio stream ends early ({_short(e)})")
        try:
            take(resampler.resample(None))
        except (av.error.FFmpegError, ValueError):  # type: ignore[attr-defined]
            pass
    if bad:
        warnings.append(f"{bad} corrupt audio packet(s) skipped")
    if not chunks:
        raise MediaError("audio stream holds no decodable audio")
    audio = np.concatenate(chunks).astype(np.float32, copy=False)
    return audio, warnings


def info_of(meta: dict[str, Any]) -> MediaInfo:
    """Rebuild a :class:`MediaInfo` from :meth:`MediaInfo.to_meta` output."""
    fields = MediaInfo.__dataclass_fields__
    return MediaInfo(**{k: v for k, v in meta.items() if k in fields})
