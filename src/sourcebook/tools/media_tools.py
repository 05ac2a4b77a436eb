"""Media tools: plain typed functions over the media layer, returning text an LLM can read and cite.

All results are cached by file content hash, so asking twice about the same file is instant.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from sourcebook.media.asr import format_range, format_ts, timestamped_text, transcribe
from sourcebook.media.image import describe_image, render_description
from sourcebook.media.probe import MediaError
from sourcebook.media.video import analyze_video, clip_timeline, render_timeline, scene_text


def _check(path: str | Path) -> Path:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p.name}: no such file")
    return p


def _reason(error: BaseException, p: Path) -> str:
    """The error's message with the file's absolute path (from the decoder) shortened to its name."""
    text = str(error)
    for full in {str(p.resolve()), str(p.absolute()), str(p)}:
        text = text.replace(full, p.name)
    return text


def video_understanding(path: str | Path, settings: Any = None) -> str:
    """The whole timeline of a video: per scene its time range, on-screen text and speech."""
    p = _check(path)
    try:
        tl = analyze_video(p, settings=settings)
    except MediaError as e:
        return f"{p.name}: cannot analyse video: {_reason(e, p)}"
    info = tl.info
    head = [f"{p.name}: video {format_ts(tl.duration_s)} ({tl.duration_s:.1f} s)"]
    if info.get("width"):
        head.append(f"{info['width']}×{info['height']}")
    head.append(f"{len(tl.scenes)} scene(s)")
    head.append(f"speech: {tl.language or '?'}, {len(tl.segments)} segment(s)" if tl.segments else "no speech")
    out = ", ".join(head)
    if tl.warnings:
        out += "\nnotes: " + "; ".join(tl.warnings)
    return out + "\n\n" + render_timeline(tl)


def video_temporal_qa(
    path: str | Path, start_s: float, end_s: float, question: str = "", settings: Any = None,
) -> str:
    """Evidence from ``start_s``–``end_s`` only: the scenes and speech overlapping it, times clipped.

    ``question`` is echoed so the reader knows what the evidence is for; answering is left to the caller.
    """
    p = _check(path)
    if end_s < start_s:
        start_s, end_s = end_s, start_s
    try:
        tl = analyze_video(p, settings=settings)
    except MediaError as e:
        return f"{p.name}: cannot analyse video: {_reason(e, p)}"
    scenes, segs = clip_timeline(tl, start_s, end_s)
    lo, hi = max(0.0, start_s), min(end_s, tl.duration_s)
    head = f"{p.name} [{format_range(lo, hi)}]"
    if question:
        head += f"\nquestion: {question}"
    if lo >= tl.duration_s:
        return head + f"\n(the range starts after the end of the video at {format_ts(tl.duration_s)})"
    if not scenes and not segs:
        return head + "\n(nothing in this range)"
    blocks = []
    for s in scenes:
        # with speech listed below by timestamp, a scene shows only what is on screen
        shown = replace(s, speech="") if segs else s
        body = scene_text(shown) or ("(no on-screen text)" if segs else "(no on-screen text or speech)")
        blocks.append(f"[{format_range(s.start_s, s.end_s)}] scene {s.index + 1}\n{body}")
    if segs:
        blocks.append("speech in range:\n" + timestamped_text(segs))
    return head + "\n\n" + "\n\n".join(blocks)


def video_extract_keyframes(path: str | Path, k: int = 8, settings: Any = None) -> list[dict[str, Any]]:
    """Up to ``k`` keyframes spread over the video: ``{"timestamp", "time", "image", "text"}`` each."""
    p = _check(path)
    tl = analyze_video(p, settings=settings, speech=False)
    scenes = [s for s in tl.scenes if s.keyframe]
    if k > 0 and len(scenes) > k:
        # spread evenly over the video
        step = len(scenes) / k
        scenes = [scenes[int(i * step)] for i in range(k)]
    return [
        {"timestamp": s.keyframe_s, "time": format_ts(s.keyframe_s), "start_s": s.start_s, "end_s": s.end_s,
         "image": s.keyframe, "text": s.ocr}
        for s in scenes
    ]


def audio_transcribe(path: str | Path, language: str | None = None, settings: Any = None) -> str:
    """Timestamped transcript (``[mm:ss–mm:ss] text`` lines) of an audio file or a video's audio track."""
    p = _check(path)
    try:
        tr = transcribe(p, language=language, settings=settings)
    except MediaError as e:
        return f"{p.name}: cannot transcribe: {_reason(e, p)}"
    head = f"{p.name}: {tr.duration_s:.1f} s of audio, language {tr.language or '?'}"
    if not tr.segments:
        return head + "\n(no speech detected)"
    return head + "\n" + timestamped_text(tr.segments)


def image_describe(path: str | Path, settings: Any = None) -> str:
    """Size, EXIF facts, caption (when a captioner is installed) and recognised text of an image."""
    p = _check(path)
    try:
        return render_description(describe_image(p, settings=settings))
    except MediaError as e:
        return f"{p.name}: cannot read image: {_reason(e, p)}"
