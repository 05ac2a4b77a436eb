"""Media benchmark: speech recognition accuracy/speed on the shared clips and end-to-end video analysis
of a rendered lecture-like video. Prints tables.

Measured:
  * ASR per clip of ``../shared/fixtures/audio``: real-time factor (processing time / audio duration) with
    language detection and with the language given, CER (zh: punctuation/spaces removed, traditional →
    simplified) or WER (en: lowercase, no punctuation) against ``transcripts.json``.
  * Video: a ``--minutes`` long (default 5) 1280×720 lecture: slides with titles and bullet text, speech per
    slide from ``espeak-ng`` when installed, else a shared speech clip looped. Reported: decode/scan,
    OCR, ASR and total time as a fraction of the video's duration, scenes found vs slides shown, and how
    many slide titles the keyframe OCR recovered. A second call shows the cache.

Targets: ASR RTF ≤ 0.3, Mandarin CER ≤ 0.10, English WER ≤ 0.10 (jfk), video ≤ 0.5 × duration.

    python benchmarks/bench_media.py [--minutes 5] [--skip-video] [--skip-asr] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "fixtures"
sys.path.insert(0, str(ROOT))

from tests import mediagen as mg  # noqa: E402

from sourcebook.config import Settings  # noqa: E402
from sourcebook.media.asr import transcribe_array  # noqa: E402
from sourcebook.media.metrics import char_errors, word_errors  # noqa: E402
from sourcebook.media.probe import SAMPLE_RATE, decode_audio  # noqa: E402
from sourcebook.media.whisper_model import load_whisper  # noqa: E402


def cer(ref: str, hyp: str) -> tuple[int, int]:
    return char_errors(ref, hyp)


def wer(ref: str, hyp: str) -> tuple[int, int]:
    return word_errors(ref, hyp)


def table(rows: list[list[str]], head: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    fmt = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True))  # noqa: E731
    return "\n".join([fmt(head), fmt(["-" * w for w in widths]), *map(fmt, rows)])


def bench_asr(settings: Settings) -> None:
    clips = json.loads((SHARED / "audio" / "transcripts.json").read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    load_whisper(settings.media.whisper_model, settings.models_dir(), settings.media.asr_compute_type, 2)
    print(f"model load: {time.perf_counter() - t0:.2f} s")
    rows = []
    tot = {"audio": 0.0, "auto": 0.0, "given": 0.0}
    zh_err = zh_n = 0
    for c in clips:
        audio, _ = decode_audio(SHARED / "audio" / c["file"])
        dur = len(audio) / SAMPLE_RATE
        transcribe_array(audio[: SAMPLE_RATE], settings=settings)  # warm-up
        t = time.perf_counter()
        auto = transcribe_array(audio, settings=settings)
        t_auto = time.perf_counter() - t
        t = time.perf_counter()
        transcribe_array(audio, language=c["language"], settings=settings)
        t_given = time.perf_counter() - t
        if c["language"] == "zh":
            e, n = cer(c["reference"], auto.text)
            zh_err, zh_n = zh_err + e, zh_n + n
            metric = f"CER {e / n:.3f}"
        else:
            e, n = wer(c["reference"], auto.text)
            metric = f"WER {e / n:.3f}"
        tot["audio"] += dur
        tot["auto"] += t_auto
        tot["given"] += t_given
        rows.append([c["file"], f"{dur:.1f}", auto.language, f"{t_auto / dur:.3f}", f"{t_given / dur:.3f}", metric,
                     auto.text[:60]])
    rows.append(["ALL", f"{tot['audio']:.1f}", "", f"{tot['auto'] / tot['audio']:.3f}",
                 f"{tot['given'] / tot['audio']:.3f}", f"zh CER {zh_err / max(1, zh_n):.3f}", ""])
    print("\nASR (whisper " + settings.media.whisper_model + ", int8, 2 threads)")
    print(table(rows, ["clip", "dur_s", "lang", "RTF(detect)", "RTF(given)", "accuracy", "text"]))
    print("(clips under 30 s pay for a whole 30-s Whisper window; the video section below gives the rate\n"
          " on a 5-minute narration)")


LECTURE = [
    ("Introduction to Solar Energy", "Why sunlight matters", "The sun delivers more energy in one hour than the world uses in a year."),
    ("Photovoltaic Cells", "Silicon and electrons", "A photovoltaic cell turns light into electric current using silicon layers."),
    ("Efficiency Limits", "Shockley Queisser limit", "Single junction cells cannot convert more than about one third of sunlight."),
    ("Inverters", "From DC to AC", "An inverter changes direct current from the panels into alternating current."),
    ("Battery Storage", "Lithium iron phosphate", "Batteries store daytime energy so that homes can use it at night."),
    ("Grid Connection", "Net metering rules", "Surplus power flows back to the grid and the meter runs backwards."),
    ("Rooftop Systems", "Orientation and tilt", "Panels facing south at the right tilt collect the most energy."),
    ("Utility Scale Plants", "Tracking mounts", "Large plants use trackers that follow the sun across the sky."),
    ("Costs Over Time", "Module prices fell ninety percent", "The price of solar modules has dropped by about ninety percent."),
    ("Recycling Panels", "Glass aluminium silver", "Old panels can be recycled to recover glass, aluminium and silver."),
    ("Weather Effects", "Clouds and temperature", "Hot weather lowers cell efficiency while clouds reduce the light."),
    ("Maintenance", "Cleaning and inspection", "Regular cleaning and inspection keep a system performing well."),
    ("Policy Support", "Feed in tariffs", "Feed in tariffs guaranteed a fixed price for solar electricity."),
    ("Case Study Germany", "Energiewende", "Germany installed large amounts of solar capacity over two decades."),
    ("Case Study China", "Manufacturing scale", "China produces most of the world's solar panels today."),
    ("Future Materials", "Perovskite tandem cells", "Perovskite tandem cells may push efficiency beyond thirty percent."),
    ("Floating Solar", "Panels on reservoirs", "Floating solar farms on reservoirs also reduce water evaporation."),
    ("Agrivoltaics", "Crops under panels", "Some crops grow well in the partial shade under raised panels."),
    ("Summary", "Key points", "Solar energy is cheap, clean and growing quickly around the world."),
    ("Questions", "Thank you", "Thank you for listening. Please send me your questions."),
]


def render_lecture(out: Path, minutes: float, fps: int) -> tuple[Path, list[float], str]:
    n = len(LECTURE)
    secs = minutes * 60 / n
    rate = 16000
    track = np.zeros(int(minutes * 60 * rate), dtype=np.float32)
    source = "espeak-ng"
    loop = None
    if not mg.espeak_available():
        source = "looped shared clip"
        loop, _ = decode_audio(SHARED / "audio" / "en_whisper.cpp_jfk.wav")
    frames = []
    starts = []
    for i, (title, sub, said) in enumerate(LECTURE):
        bullets = f"{title}\n\n• {sub}\n• slide {i + 1} of {n}"
        frames.append((mg.slide(bullets, font_size=56), secs))
        starts.append(i * secs)
        if loop is None:
            narration = f"{title}. {said} This part is about {sub.lower()}."
            clip = mg.read_wav(mg.speech(narration, out.parent / f"s{i}.wav", speed=140), rate)
        else:
            clip = np.tile(loop, int(np.ceil(secs / (len(loop) / rate))))
        clip = clip[: int((secs - 1.0) * rate)]
        a = int((i * secs + 0.5) * rate)
        track[a:a + len(clip)] = clip[: len(track) - a]
    mg.write_video(out, frames, fps=fps, audio=track, gop=fps * 10)
    return out, starts, source


def bench_video(settings: Settings, minutes: float, fps: int, keep: Path | None) -> None:
    from sourcebook.media.video import analyze_video

    work = keep or Path(tempfile.mkdtemp(prefix="bench-media-"))
    work.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    path, starts, source = render_lecture(work / "lecture.mp4", minutes, fps)
    print(f"\nrendered {path.name} ({minutes:.1f} min, 1280x720 @ {fps} fps, speech: {source}) "
          f"in {time.perf_counter() - t:.1f} s, {path.stat().st_size / 1e6:.1f} MB")
    t = time.perf_counter()
    tl = analyze_video(path, settings=settings)
    total = time.perf_counter() - t
    t = time.perf_counter()
    analyze_video(path, settings=settings)
    cached = time.perf_counter() - t
    dur = tl.duration_s
    found = sum(1 for title, _, _ in LECTURE if any(title in s.ocr for s in tl.scenes))
    timed = 0
    for (title, _, _), st in zip(LECTURE, starts, strict=True):
        hit = next((s for s in tl.scenes if title in s.ocr), None)
        timed += bool(hit and abs(hit.start_s - st) <= 1.0)
    tm = tl.timings
    rows = [
        ["scan (decode + scene detection + keyframes)", f"{tm.get('scan_s', 0):.1f}", f"{tm.get('scan_s', 0) / dur:.3f}"],
        ["OCR of keyframes", f"{tm.get('ocr_s', 0):.1f}", f"{tm.get('ocr_s', 0) / dur:.3f}"],
        ["ASR of the audio track", f"{tm.get('asr_s', 0):.1f}", f"{tm.get('asr_s', 0) / dur:.3f}"],
        ["total (cold, incl. hashing)", f"{total:.1f}", f"{total / dur:.3f}"],
        ["second call (cache)", f"{cached:.2f}", f"{cached / dur:.4f}"],
    ]
    print(table(rows, ["video stage", "seconds", "× duration"]))
    print(f"duration {dur:.1f} s; slides {len(LECTURE)}; scenes {len(tl.scenes)}; keyframe candidates "
          f"{tm.get('candidates')}; titles found by OCR {found}/{len(LECTURE)}, at the right time (±1 s) "
          f"{timed}/{len(LECTURE)}; speech segments {len(tl.segments)} ({tl.language})")
    if keep is None:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--fps", type=int, default=25)
    ap.add_argument("--skip-asr", action="store_true")
    ap.add_argument("--skip-video", action="store_true")
    ap.add_argument("--keep", type=Path, default=None, help="keep the rendered video in this folder")
    args = ap.parse_args()
    cache = Path(tempfile.mkdtemp(prefix="bench-media-cache-"))
    settings = Settings(cache_dir=cache, models_home=Settings().models_dir())
    try:
        load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        load = "?"
    print(f"machine: {load}")
    try:
        if not args.skip_asr:
            if (SHARED / "audio").exists():
                bench_asr(settings)
            else:
                print("ASR: ../shared/fixtures/audio not present, skipped")
        if not args.skip_video:
            bench_video(settings, args.minutes, args.fps, args.keep)
    finally:
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
