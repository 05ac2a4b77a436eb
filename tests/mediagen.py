"""Render small test media (slide videos, tones, synthetic speech) with PyAV and PIL."""

from __future__ import annotations

import shutil
import subprocess
import wave
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_CANDIDATES = {
    True: ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
           "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
    False: ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
}


def font(size: int, bold: bool = True) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A scalable font: DejaVu if installed, else Pillow's built-in one."""
    for p in FONT_CANDIDATES[bold]:
        if Path(p).exists():
            return ImageFont.truetype(p, size)
    return ImageFont.load_default(size=size)


def slide(text: str, size: tuple[int, int] = (1280, 720), bg: tuple[int, int, int] = (255, 255, 255),
          fg: tuple[int, int, int] = (20, 20, 20), font_size: int = 72) -> Image.Image:
    """A slide with centred lines of ``text``."""
    img = Image.new("RGB", size, bg)
    d = ImageDraw.Draw(img)
    f = font(font_size)
    lines = text.split("\n")
    heights = [d.textbbox((0, 0), ln, font=f)[3] for ln in lines]
    y = (size[1] - sum(heights) - 20 * (len(lines) - 1)) // 2
    for ln, lh in zip(lines, heights, strict=True):
        w = d.textlength(ln, font=f)
        d.text(((size[0] - w) / 2, y), ln, font=f, fill=fg)
        y += lh + 20
    return img


def tone(seconds: float, rate: int = 16000, freq: float = 440.0, amp: float = 0.2) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def speech(text: str, out: Path, voice: str = "en-us", speed: int = 150) -> Path:
    """Synthesize ``text`` to a WAV file with espeak-ng (caller checks :func:`espeak_available`)."""
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(out), text], check=True,
                   capture_output=True)
    return out


def read_wav(path: Path, rate: int = 16000) -> np.ndarray:
    """Mono float32 samples of a WAV file, resampled (linearly) to ``rate``."""
    with wave.open(str(path)) as w:
        sr, ch, n = w.getframerate(), w.getnchannels(), w.getnframes()
        data = np.frombuffer(w.readframes(n), dtype=np.int16).astype(np.float32) / 32768
    if ch > 1:
        data = data.reshape(-1, ch).mean(axis=1)
    if sr != rate:
        x = np.arange(int(len(data) * rate / sr)) * sr / rate
        data = np.interp(x, np.arange(len(data)), data).astype(np.float32)
    return data


def write_audio(path: Path, samples: np.ndarray, rate: int = 16000, codec: str | None = None) -> Path:
    """Encode mono float32 ``samples`` into ``path`` (format from the suffix: wav, mp3, m4a, flac, ogg)."""
    import av

    codec = codec or {".wav": "pcm_s16le", ".mp3": "libmp3lame", ".m4a": "aac", ".flac": "flac",
                      ".ogg": "libopus", ".opus": "libopus", ".mp4": "aac"}[path.suffix.lower()]
    out_rate = 48000 if codec == "libopus" else rate
    if out_rate != rate:
        x = np.arange(int(len(samples) * out_rate / rate)) * rate / out_rate
        samples = np.interp(x, np.arange(len(samples)), samples).astype(np.float32)
        rate = out_rate
    with av.open(str(path), "w") as c:
        s = c.add_stream(codec, rate=rate)
        s.layout = "mono"
        _encode_audio(c, s, samples, rate)
    return path


def _encode_audio(container, stream, samples: np.ndarray, rate: int) -> None:
    import av

    fmt = stream.codec_context.codec.audio_formats[0].name if stream.codec_context.codec.audio_formats else "s16"
    frame_size = stream.codec_context.frame_size or 1024
    pts = 0
    pcm = np.clip(samples, -1, 1)
    for i in range(0, len(pcm), frame_size):
        chunk = pcm[i:i + frame_size]
        if fmt.startswith("s16"):
            arr = (chunk * 32767).astype(np.int16).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(arr, format="s16", layout="mono")
        else:
            frame = av.AudioFrame.from_ndarray(chunk.astype(np.float32).reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = rate
        frame.pts = pts
        frame.time_base = Fraction(1, rate)
        pts += len(chunk)
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)


def write_video(path: Path, frames: list[tuple[Image.Image, float]], fps: int = 10,
                audio: np.ndarray | None = None, rate: int = 16000, gop: int = 50) -> Path:
    """Encode ``frames`` (image, seconds to show) as H.264 MP4, with an optional mono AAC track."""
    import av

    with av.open(str(path), "w") as c:
        w, h = frames[0][0].size
        vs = c.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.options = {"preset": "veryfast", "g": str(gop), "crf": "23"}
        a_s = None
        if audio is not None:
            a_s = c.add_stream("aac", rate=rate)
            a_s.layout = "mono"
        i = 0
        for img, secs in frames:
            vf = av.VideoFrame.from_image(img.convert("RGB"))
            for _ in range(int(round(secs * fps))):
                vf.pts = i
                i += 1
                for packet in vs.encode(vf):
                    c.mux(packet)
        for packet in vs.encode(None):
            c.mux(packet)
        if a_s is not None and audio is not None:
            _encode_audio(c, a_s, audio, rate)
    return path
