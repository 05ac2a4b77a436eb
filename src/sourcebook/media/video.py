"""Video → timeline of scenes: keyframes, on-screen text (OCR) and speech (ASR).

One decoding pass over the video stream (PyAV, threaded) looks at a few frames per second, downscaled:
PySceneDetect's ContentDetector finds cuts, a pixel-change test finds content changes on a static shot
(a slide's text changing), and a uniform interval is the fallback for shots that drift. For each new
scene one full-size frame is captured as a JPEG keyframe once the picture is steady. Near-duplicate
keyframes (perceptual hash, then identical OCR text) are merged, the count is capped, each remaining
keyframe is OCR'd, and the speech of the audio track is laid over the scenes. The visual part and the
transcript are cached separately by the file's sha256.
"""

from __future__ import annotations

import difflib
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sourcebook.media.asr import Segment, Transcript, format_range, format_ts, join_texts, transcribe
from sourcebook.media.cache import MediaCache, file_sha256, resolve_settings
from sourcebook.media.probe import MediaError, MediaInfo, _open, _short, probe
from sourcebook.media.whisper_model import ModelUnavailableError

VISUAL_VERSION = 1
DETECT_FPS = 4.0          # frames per second examined for changes
DETECT_WIDTH = 320        # width of the downscaled frames used for change detection
KEYFRAME_MAX_SIDE = 1280  # keyframes are saved at most this large (enough for OCR of slide text)
PIXEL_DELTA = 32          # grey-level difference counted as a changed pixel
CHANGE_FRACTION = 0.002   # share of changed pixels that means "the picture changed"
STABLE_FRACTION = 0.0008  # below this between consecutive samples the picture is steady
PHASH_SAME = 4            # phash distance treated as identical when pixels barely differ
PHASH_NEAR = 10           # phash distance at which OCR text decides


@dataclass
class Scene:
    """A stretch of video with one keyframe."""

    index: int
    start_s: float
    end_s: float
    keyframe: str = ""       # path of the JPEG keyframe
    keyframe_s: float = 0.0  # where the keyframe was taken
    ocr: str = ""            # on-screen text
    speech: str = ""         # speech whose midpoint falls in the scene
    cause: str = ""          # start | cut | change | uniform


@dataclass
class Timeline:
    """Everything known about a video, in time order."""

    path: str
    sha256: str
    duration_s: float
    info: dict[str, Any] = field(default_factory=dict)
    scenes: list[Scene] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    language: str = ""
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def has_speech(self) -> bool:
        return bool(self.segments)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Timeline:
        return cls(
            path=d.get("path", ""), sha256=d.get("sha256", ""), duration_s=d.get("duration_s", 0.0),
            info=d.get("info", {}), scenes=[Scene(**s) for s in d.get("scenes", [])],
            segments=[Segment(**s) for s in d.get("segments", [])], language=d.get("language", ""),
            warnings=list(d.get("warnings", [])), timings=dict(d.get("timings", {})),
        )


@dataclass
class _Candidate:
    start_s: float
    keyframe_s: float
    path: Path
    gray: np.ndarray
    phash: Any
    cause: str
    ocr: str | None = None


def _changed(a: np.ndarray, b: np.ndarray) -> float:
    """Share of pixels whose grey level differs by more than PIXEL_DELTA."""
    if a.shape != b.shape:
        return 1.0
    return float(np.count_nonzero(np.abs(a.astype(np.int16) - b.astype(np.int16)) > PIXEL_DELTA)) / a.size


def _detect_size(w: int, h: int) -> tuple[int, int]:
    if w <= 0 or h <= 0:
        return DETECT_WIDTH, DETECT_WIDTH * 9 // 16
    dw = min(DETECT_WIDTH, w)
    dh = max(2, int(round(h * dw / w / 2)) * 2)
    return dw, dh


def _keyframe_size(w: int, h: int) -> tuple[int, int]:
    scale = min(1.0, KEYFRAME_MAX_SIDE / max(w, h, 1))
    return max(2, int(w * scale) // 2 * 2), max(2, int(h * scale) // 2 * 2)


def _scan(path: Path, info: MediaInfo, out_dir: Path, settings: Any) -> tuple[list[_Candidate], float, list[str]]:
    """Decode the video once; return keyframe candidates, the last frame time and warnings."""
    import av
    import cv2
    import imagehash
    from scenedetect import ContentDetector, FrameTimecode

    m = settings.media
    duration = info.duration_s or 0.0
    max_kf = max(1, int(m.max_keyframes))
    min_gap = max(1.0, duration / max_kf) if duration else 1.0
    uniform = max(1.0, float(m.uniform_interval_s))
    warnings: list[str] = []
    cands: list[_Candidate] = []
    out_dir.mkdir(parents=True, exist_ok=True)

    container = _open(path)
    try:
        vs = container.streams.video[0]
        vs.thread_type = "AUTO"
        fps = float(vs.average_rate or vs.guessed_rate or 25)
        if fps > 3 * DETECT_FPS:
            try:  # frames nobody references need not be decoded: we only look at a few per second
                vs.codec_context.skip_frame = "NONREF"
            except Exception:
                pass
        w, h = vs.codec_context.width, vs.codec_context.height
        dw, dh = _detect_size(w, h)
        kw, kh = _keyframe_size(w, h)
        detector = ContentDetector(threshold=27.0, min_scene_len=min_gap)
        step = 1.0 / DETECT_FPS
        next_t = 0.0
        seg_start = 0.0
        seg_cause = "start"
        pending = True
        key_gray: np.ndarray | None = None
        key_t = 0.0
        prev_gray: np.ndarray | None = None
        change_since: float | None = None
        last_t = 0.0
        n = 0

        def capture(frame: Any, t: float, gray: np.ndarray) -> None:
            nonlocal key_gray, key_t, pending
            img = frame.reformat(width=kw, height=kh, format="rgb24").to_image()
            p = out_dir / f"kf_{int(round(t * 1000)):09d}.jpg"
            img.save(p, "JPEG", quality=88)
            cands.append(_Candidate(seg_start, t, p, gray, imagehash.phash(img), seg_cause))
            key_gray, key_t, pending = gray, t, False

        try:
            for frame in container.decode(vs):
                n += 1
                t = float(frame.time) if frame.time is not None else (n - 1) / fps
                last_t = max(last_t, t)
                if t + 1e-6 < next_t:
                    continue
                while next_t <= t + 1e-6:  # a fixed grid, so sampling does not drift with the frame rate
                    next_t += step
                small = frame.reformat(width=dw, height=dh, format="bgr24").to_ndarray()
                gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
                cuts = detector.process_frame(FrameTimecode(t, fps=fps), small)
                stable = prev_gray is not None and _changed(gray, prev_gray) < STABLE_FRACTION
                new_at: float | None = None
                cause = ""
                if cuts and t - seg_start >= min_gap and not pending:
                    new_at, cause = float(cuts[-1].seconds), "cut"
                elif key_gray is not None and not pending:
                    d = _changed(gray, key_gray)
                    if d > CHANGE_FRACTION:
                        if change_since is None:
                            change_since = t
                        if stable and t - seg_start >= min_gap:
                            new_at, cause = max(change_since, seg_start + min_gap), "change"
                        elif t - key_t >= uniform and t - seg_start >= min_gap:
                            new_at, cause = t, "uniform"
                    else:
                        change_since = None
                if new_at is not None:
                    seg_start, seg_cause, pending, change_since = max(seg_start, min(new_at, t)), cause, True, None
                if pending and (stable or t - seg_start >= 1.0):
                    capture(frame, t, gray)
                prev_gray = gray
        except (av.error.FFmpegError, ValueError) as e:  # type: ignore[attr-defined]
            warnings.append(f"video stream ends early at {format_ts(last_t)} ({_short(e)})")
        if n and pending and prev_gray is not None:
            # the last scene never settled: take its last examined frame from a fresh seek
            warnings_before = len(warnings)
            try:
                container.seek(int(max(0.0, last_t - 0.5) / vs.time_base), stream=vs, any_frame=False, backward=True)
                vs.codec_context.skip_frame = "DEFAULT"
                for frame in container.decode(vs):
                    gray = cv2.cvtColor(
                        frame.reformat(width=dw, height=dh, format="bgr24").to_ndarray(), cv2.COLOR_BGR2GRAY
                    )
                    capture(frame, float(frame.time or last_t), gray)
                    break
            except Exception as e:  # best effort
                if len(warnings) == warnings_before:
                    warnings.append(f"last scene has no keyframe ({_short(e)})")
    finally:
        container.close()
    if n == 0:
        raise MediaError("video stream holds no decodable frames")
    end = max(duration, last_t + 1.0 / fps)
    return cands, end, warnings


def _similar(a: str, b: str) -> bool:
    if a == b:
        return True
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= 0.9


def _select(cands: list[_Candidate], max_kf: int) -> list[_Candidate]:
    """Merge near-duplicate candidates (OCR'ing where it matters) and cap their number."""
    from sourcebook.media.ocr import ocr_text

    kept: list[_Candidate] = []
    for c in cands:
        if kept:
            last = kept[-1]
            dist = c.phash - last.phash
            if dist <= PHASH_SAME and _changed(c.gray, last.gray) <= CHANGE_FRACTION:
                continue
            if dist <= PHASH_NEAR:
                if last.ocr is None:
                    last.ocr = ocr_text(last.path)
                c.ocr = ocr_text(c.path)
                if _similar(c.ocr, last.ocr):
                    continue
        kept.append(c)
    if len(kept) > max_kf:
        idx = np.linspace(0, len(kept) - 1, max_kf).round().astype(int)
        kept = [kept[i] for i in sorted(set(idx.tolist()))]
    for c in kept:
        if c.ocr is None:
            c.ocr = ocr_text(c.path)
    return kept


def _visual(path: Path, sha: str, cache: MediaCache, settings: Any) -> dict[str, Any]:
    """Scenes with keyframes and on-screen text (cached)."""
    key = f"visual-k{settings.media.max_keyframes}-u{settings.media.uniform_interval_s}-v{VISUAL_VERSION}"
    hit = cache.load(sha, key)
    if hit is not None and all(Path(s["keyframe"]).exists() for s in hit.get("scenes", []) if s.get("keyframe")):
        return hit
    info = probe(path)
    if not info.has_video:
        raise MediaError("no video stream (audio only)")
    t0 = time.perf_counter()
    # a fresh directory per analysis: a concurrent analysis of the same file never deletes our keyframes
    kf_dir = cache.entry_dir(sha) / f"keyframes-{uuid.uuid4().hex[:8]}"
    try:
        cands, end, warnings = _scan(path, info, kf_dir, settings)
    except BaseException:
        shutil.rmtree(kf_dir, ignore_errors=True)
        raise
    t_scan = time.perf_counter() - t0
    kept = _select(cands, int(settings.media.max_keyframes))
    keep_paths = {c.path for c in kept}
    for c in cands:
        if c.path not in keep_paths:
            c.path.unlink(missing_ok=True)
    scenes: list[dict[str, Any]] = []
    for i, c in enumerate(kept):
        start = 0.0 if i == 0 else round(c.start_s, 3)
        stop = round(kept[i + 1].start_s, 3) if i + 1 < len(kept) else round(end, 3)
        scenes.append(asdict(Scene(i, start, stop, str(c.path), round(c.keyframe_s, 3), c.ocr or "", "", c.cause)))
    if not scenes:
        scenes.append(asdict(Scene(0, 0.0, round(end, 3), cause="start")))
    data = {
        "info": info.to_meta(), "duration_s": round(end, 3), "scenes": scenes, "warnings": warnings,
        "timings": {"scan_s": round(t_scan, 3), "ocr_s": round(time.perf_counter() - t0 - t_scan, 3),
                    "candidates": len(cands)},
    }
    cache.save(sha, key, data)
    for old in cache.entry_dir(sha).glob("keyframes-*"):
        if old != kf_dir and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
    return data


def analyze_video(path: Path, settings: Any = None, speech: bool = True, language: str | None = None) -> Timeline:
    """Build (or load from cache) the timeline of ``path``.

    Raises :class:`MediaError` for unreadable files and for files without a video stream. A video
    without an audio track, or whose audio cannot be recognised, gets a timeline without speech and a
    warning saying why.
    """
    settings = resolve_settings(settings)
    path = Path(path)
    sha = file_sha256(path)
    cache = MediaCache.from_settings(settings)
    t0 = time.perf_counter()
    vis = _visual(path, sha, cache, settings)
    t_vis = time.perf_counter() - t0
    tl = Timeline(
        path=str(path), sha256=sha, duration_s=vis["duration_s"], info=dict(vis["info"]),
        scenes=[Scene(**s) for s in vis["scenes"]], warnings=list(vis.get("warnings", [])),
        timings={**vis.get("timings", {}), "visual_s": round(t_vis, 3)},
    )
    if speech:
        if not tl.info.get("has_audio"):
            tl.warnings.append("no audio track: timeline has no speech")
        else:
            t1 = time.perf_counter()
            try:
                tr: Transcript = transcribe(path, language=language, settings=settings)
                tl.segments = tr.segments
                tl.language = tr.language
                tl.warnings.extend(tr.warnings)
                if not tr.segments:
                    tl.warnings.append("no speech detected in the audio track")
            except (MediaError, ModelUnavailableError) as e:
                tl.warnings.append(f"audio track not transcribed: {e}")
            tl.timings["asr_s"] = round(time.perf_counter() - t1, 3)
        _assign_speech(tl)
    return tl


def _assign_speech(tl: Timeline) -> None:
    """Put each speech segment into the scene holding its midpoint."""
    if not tl.scenes:
        return
    starts = [s.start_s for s in tl.scenes]
    buckets: list[list[str]] = [[] for _ in tl.scenes]
    for seg in tl.segments:
        mid = (seg.start_s + seg.end_s) / 2
        i = max(0, int(np.searchsorted(starts, mid, side="right")) - 1)
        buckets[i].append(seg.text)
    for scene, texts in zip(tl.scenes, buckets, strict=True):
        scene.speech = join_texts(texts)


def _include(start: float, end: float, lo: float, hi: float) -> bool:
    """Does [start, end] belong to the range [lo, hi]? Its midpoint lies inside, or it overlaps by a
    second or by half of itself (so a scene edge a few frames off does not drag in its neighbour)."""
    overlap = min(end, hi) - max(start, lo)
    if overlap <= 0:
        return lo <= start <= hi and end <= start  # zero-length item at a point inside
    mid = (start + end) / 2
    return lo <= mid <= hi or overlap >= min(1.0, 0.5 * (end - start))


def clip_timeline(tl: Timeline, start_s: float, end_s: float) -> tuple[list[Scene], list[Segment]]:
    """Scenes and speech segments of ``tl`` inside [start_s, end_s], with their times clipped to it."""
    lo, hi = max(0.0, float(start_s)), min(float(end_s), tl.duration_s or float(end_s))
    if hi < lo:
        return [], []
    scenes = [
        Scene(**{**asdict(s), "start_s": max(s.start_s, lo), "end_s": min(s.end_s, hi)})
        for s in tl.scenes if _include(s.start_s, s.end_s, lo, hi)
    ]
    segs = [
        Segment(max(g.start_s, lo), min(g.end_s, hi), g.text)
        for g in tl.segments if _include(g.start_s, g.end_s, lo, hi)
    ]
    if tl.segments:
        # speech of a scene now means the speech kept inside the range
        kept_scenes = [Scene(**asdict(s)) for s in scenes]
        sub = Timeline(tl.path, tl.sha256, tl.duration_s, scenes=kept_scenes, segments=segs)
        _assign_speech(sub)
        scenes = sub.scenes
    return scenes, segs


def scene_text(scene: Scene) -> str:
    """``[on screen] ... [speech] ...`` text of one scene."""
    parts = []
    if scene.ocr.strip():
        parts.append("[on screen] " + " / ".join(ln.strip() for ln in scene.ocr.splitlines() if ln.strip()))
    if scene.speech.strip():
        parts.append("[speech] " + scene.speech.strip())
    return "\n".join(parts)


def render_timeline(tl: Timeline, scenes: list[Scene] | None = None) -> str:
    """The timeline as structured text, one block per scene."""
    scenes = tl.scenes if scenes is None else scenes
    lines = []
    for s in scenes:
        body = scene_text(s) or "(no on-screen text or speech)"
        lines.append(f"[{format_range(s.start_s, s.end_s)}] scene {s.index + 1}\n{body}")
    return "\n\n".join(lines)
