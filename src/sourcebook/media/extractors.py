"""Full extractors for images, audio and video (registered over the metadata-only ones).

* image → one passage: caption (if a captioner is installed) and the recognised text.
* audio → passages of ~20–60 s of transcript, ``locator="mm:ss–mm:ss"``.
* video → one passage per scene (``[on screen] ... [speech] ...``); long scenes are split by speech,
  scenes without on-screen text are merged with their neighbours up to a minute.
An MP4 holding only audio is handled as audio.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sourcebook.ingest.base import ExtractContext, ExtractionError, register

# The metadata-only extractors must be registered before these replace them, whatever imports first.
from sourcebook.ingest.media_meta import image_meta
from sourcebook.media.asr import Segment, format_range, group_segments, join_texts, transcribe
from sourcebook.media.cache import resolve_settings
from sourcebook.media.probe import MediaError, MediaInfo, info_of, probe_meta
from sourcebook.media.whisper_model import ModelUnavailableError
from sourcebook.models import PassageDraft

MAX_PASSAGE_S = 60.0


def _settings(ctx: ExtractContext) -> Any:
    return resolve_settings(ctx.settings)


def _probe(path: Path, ctx: ExtractContext) -> MediaInfo:
    try:
        meta = probe_meta(path)
    except MediaError as e:
        raise ExtractionError(str(e)) from e
    ctx.meta.update(meta)
    return info_of(meta)


@register("image")
def extract_image(path: Path, ctx: ExtractContext) -> Iterator[PassageDraft]:
    """OCR text and optional caption of an image."""
    from sourcebook.media.image import describe_image

    settings = _settings(ctx)
    try:  # the facts the metadata-only extractor records (EXIF); an unreadable file gets its reason below
        ctx.meta.update(image_meta(path))
    except Exception:
        pass
    try:
        desc = describe_image(path, settings, ocr=bool(settings.media.ocr_images))
    except MediaError as e:
        raise ExtractionError(str(e)) from e
    ctx.meta.update(desc.meta())
    parts = []
    if desc.caption:
        parts.append(f"[caption] {desc.caption}")
    if desc.text:
        parts.append(f"[text in image] {desc.text}")
    if not parts:
        ctx.meta["no_content_reason"] = "no text recognised in the image" if settings.media.ocr_images else (
            "image OCR is turned off")
        return
    yield PassageDraft(
        text="\n".join(parts), locator="",
        loc={"width": desc.width, "height": desc.height, "ocr_lines": len(desc.ocr_lines)},
    )


def _speech_passages(segments: list[Segment]) -> Iterator[PassageDraft]:
    for group in group_segments(segments, max_s=MAX_PASSAGE_S):
        start, end = group[0].start_s, group[-1].end_s
        yield PassageDraft(
            text=join_texts([s.text for s in group]), locator=format_range(start, end),
            loc={"start_s": start, "end_s": end},
        )


def _transcribe(path: Path, ctx: ExtractContext) -> list[Segment] | None:
    settings = _settings(ctx)
    try:
        tr = transcribe(path, settings=settings)
    except ModelUnavailableError as e:
        raise ExtractionError(f"speech recognition unavailable: {e}") from e
    except MediaError as e:
        raise ExtractionError(str(e)) from e
    for w in tr.warnings:
        ctx.warn(w)
    ctx.meta["language"] = tr.language
    ctx.meta["asr_model"] = tr.model
    ctx.meta["speech_segments"] = len(tr.segments)
    return tr.segments


def _caption_variant() -> str:
    from sourcebook.media.image import captioner_name

    name = captioner_name()
    return f"caption-{name}" if name else ""


extract_image.variant = _caption_variant  # a caption model added or changed later: images are read again


@register("audio")
def extract_audio(path: Path, ctx: ExtractContext) -> Iterator[PassageDraft]:
    """Timestamped transcript of an audio file, in passages of ~20–60 s."""
    yield from _audio_passages(path, ctx, _probe(path, ctx))


def _audio_passages(path: Path, ctx: ExtractContext, info: MediaInfo) -> Iterator[PassageDraft]:
    if not info.has_audio:
        raise ExtractionError("no audio stream in the file")
    segments = _transcribe(path, ctx)
    if not segments:
        ctx.meta["no_content_reason"] = "no speech detected"
        return
    yield from _speech_passages(segments)


@register("video")
def extract_video(path: Path, ctx: ExtractContext) -> Iterator[PassageDraft]:
    """Scenes of a video with on-screen text and speech (audio-only containers become transcripts)."""
    from sourcebook.media.video import analyze_video, scene_text

    info = _probe(path, ctx)
    if not info.has_video:
        ctx.meta["audio_only"] = True
        yield from _audio_passages(path, ctx, info)
        return
    settings = _settings(ctx)
    try:
        tl = analyze_video(path, settings=settings)
    except MediaError as e:
        raise ExtractionError(str(e)) from e
    ctx.meta.update({
        "duration_s": tl.duration_s, "scenes": len(tl.scenes), "language": tl.language or None,
        "speech_segments": len(tl.segments), "has_speech": tl.has_speech,
    })
    for w in tl.warnings:
        if w.startswith(("no audio track", "no speech detected")):
            ctx.meta.setdefault("notes", []).append(w)
        else:
            ctx.warn(w)

    pending: list[Any] = []  # scenes without on-screen text, merged into one passage

    def flush() -> Iterator[PassageDraft]:
        if not pending:
            return
        lo, hi = pending[0].start_s, pending[-1].end_s
        segs = [g for g in tl.segments if lo <= (g.start_s + g.end_s) / 2 < hi]
        if segs:
            for p in _speech_passages(segs):
                p.loc.update({"keyframe": pending[0].keyframe, "scenes": [s.index for s in pending]})
                p.text = "[speech] " + p.text
                yield p
        pending.clear()

    for scene in tl.scenes:
        if not scene.ocr.strip():
            if pending and scene.end_s - pending[0].start_s > MAX_PASSAGE_S:
                yield from flush()
            pending.append(scene)
            continue
        yield from flush()
        segs = [g for g in tl.segments if scene.start_s <= (g.start_s + g.end_s) / 2 < scene.end_s]
        groups = group_segments(segs, max_s=MAX_PASSAGE_S) if segs else [[]]
        for gi, group in enumerate(groups):
            start = scene.start_s if gi == 0 else group[0].start_s
            end = scene.end_s if gi == len(groups) - 1 else group[-1].end_s
            sc = type(scene)(**{**scene.__dict__, "speech": join_texts([g.text for g in group]),
                                "ocr": scene.ocr if gi == 0 else ""})
            text = scene_text(sc)
            if gi > 0:
                text = f"[on screen, continued] (slide of {format_range(scene.start_s, scene.end_s)})\n" + text
            yield PassageDraft(
                text=text, locator=format_range(start, end),
                loc={"start_s": start, "end_s": end, "keyframe": scene.keyframe, "scene": scene.index},
            )
    yield from flush()
    if not any(s.ocr.strip() for s in tl.scenes) and not tl.segments:
        ctx.meta["no_content_reason"] = "no on-screen text or speech found"
