"""The built-in tool servers, under the names existing prompts and models know:

``tool-rag``, ``tool-reader``, ``tool-video-enhanced``, ``tool-audio``, ``tool-vqa``, ``tool-python``,
``tool-reasoning`` — plus
any external MCP servers configured in ``settings.mcp_servers`` (mounted lazily under their own names).
"""

from __future__ import annotations

import importlib
import logging
from functools import cached_property
from pathlib import Path
from typing import Any

from sourcebook.tools.rag import RagTools
from sourcebook.tools.reader import ReaderTools
from sourcebook.tools.registry import ToolError, ToolRegistry, confine_path

log = logging.getLogger(__name__)

TIMEOUTS = {
    "tool-rag": 30.0,
    "tool-reader": 30.0,
    "tool-video-enhanced": 900.0,
    "tool-audio": 900.0,
    "tool-vqa": 180.0,
    "tool-reasoning": 300.0,
}


def _media_tools() -> Any | None:
    try:
        return importlib.import_module("sourcebook.tools.media_tools")
    except ImportError as e:
        log.info("media tools not available: %s", e)
        return None


class MediaTools:
    """Video, audio and image tools: paths confined to the folder, work done by ``media_tools``."""

    def __init__(self, folder: Path, settings: Any, mod: Any) -> None:
        self.folder = Path(folder)
        self.settings = settings
        self.mod = mod

    @cached_property
    def _vision(self) -> Any:
        """The configured vision model (built on the first question about an image), or None."""
        from sourcebook.llm.vision import vision_model

        return vision_model(self.settings) if self.settings is not None else None

    def _path(self, path: str) -> str:
        abs_path, _rel = confine_path(self.folder, path)
        if not abs_path.is_file():
            raise ToolError(f"{path}: no such file in the task folder")
        return str(abs_path)

    def _kw(self) -> dict[str, Any]:
        return {"settings": self.settings} if self.settings is not None else {}

    def video_understanding_advanced(self, path: str) -> str:
        """Describe a video as a timeline: scenes with timestamps, on-screen text (OCR) and speech transcript.

        Args:
            path: video file relative to the task folder.
        """
        return self.mod.video_understanding(self._path(path), **self._kw())

    def video_temporal_qa(self, path: str, start_s: float, end_s: float, question: str) -> str:
        """Answer a question from one time range of a video only (scenes, text and speech inside the range).

        Args:
            path: video file relative to the task folder.
            start_s: start of the range in seconds.
            end_s: end of the range in seconds.
            question: what to look for in that range.
        """
        if end_s <= start_s:
            raise ToolError(f"end_s ({end_s}) must be after start_s ({start_s})")
        return self.mod.video_temporal_qa(self._path(path), start_s, end_s, question, **self._kw())

    def video_extract_keyframes(self, path: str, k: int = 8) -> list[dict[str, Any]]:
        """Pick up to k representative keyframes of a video with their timestamps and on-screen text.

        Args:
            path: video file relative to the task folder.
            k: how many keyframes (1-50).
        """
        k = max(1, min(int(k), 50))
        return self.mod.video_extract_keyframes(self._path(path), k, **self._kw())

    def audio_transcription(self, path: str, language: str | None = None) -> str:
        """Transcribe an audio (or video) file with timestamps.

        Args:
            path: audio file relative to the task folder.
            language: optional language code such as "zh" or "en" (detected when omitted).
        """
        return self.mod.audio_transcribe(self._path(path), language=language, **self._kw())

    def image_understanding(self, path: str, question: str | None = None) -> str:
        """Describe an image: size and metadata, text in it (OCR) and a caption when a vision model is configured.

        Args:
            path: image file relative to the task folder.
            question: optional question about the image (answered by the vision model when one is
                configured, else from the description).
        """
        abs_path = self._path(path)
        text = self.mod.image_describe(abs_path, **self._kw())
        if question:
            vm = self._vision
            if vm is not None:
                return f"Answer ({vm.model}): {vm.ask(Path(abs_path), question)}\n\n{text}"
            text = f"Question: {question}\n(no vision model configured; the description below is all there is)\n{text}"
        return text


class ReasoningTool:
    """A second model for careful thinking on a self-contained question."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self._client: Any = None

    def reasoning(self, question: str) -> str:
        """Think step by step about a hard, self-contained question (include all facts it needs) and answer it.

        Args:
            question: the full question with the facts to reason over.
        """
        if self._client is None:
            from sourcebook.llm import make_client

            llm = self.settings.llm.model_copy(update={"model": self.settings.llm.reasoning_model})
            self._client = make_client(llm)
            if self._client is None:
                raise ToolError("no reasoning model configured")
        resp = self._client.chat([
            {"role": "system", "content": "Reason carefully step by step, then state the answer clearly."},
            {"role": "user", "content": question},
        ])
        return resp.text or "(the reasoning model returned no text)"


def build_registry(store: Any, folder: Path | None = None, settings: Any = None,
                   mount_external: bool = True, out_dir: Path | None = None) -> ToolRegistry:
    """Registry with every built-in server available here (media servers only when their code imports).

    ``out_dir`` is where ``tool-python`` writes (charts, files); a temporary directory when not given."""
    folder = Path(folder if folder is not None else store.folder)
    reg = ToolRegistry()
    rag = RagTools(store)
    for fn in (rag.rag_search, rag.rag_get_context, rag.rag_document_stats):
        reg.add(fn, "tool-rag", timeout_s=TIMEOUTS["tool-rag"])
    reader = ReaderTools(store, folder)
    for fn in (reader.read_file, reader.convert_to_markdown):
        reg.add(fn, "tool-reader", timeout_s=TIMEOUTS["tool-reader"])
    mod = _media_tools()
    if mod is not None:
        media = MediaTools(folder, settings, mod)
        video = [(media.video_understanding_advanced, "video_understanding"),
                 (media.video_temporal_qa, "video_temporal_qa"),
                 (media.video_extract_keyframes, "video_extract_keyframes")]
        for fn, needed in video:
            if hasattr(mod, needed):
                reg.add(fn, "tool-video-enhanced", timeout_s=TIMEOUTS["tool-video-enhanced"])
        if hasattr(mod, "audio_transcribe"):
            reg.add(media.audio_transcription, "tool-audio", timeout_s=TIMEOUTS["tool-audio"])
        if hasattr(mod, "image_describe"):
            reg.add(media.image_understanding, "tool-vqa", timeout_s=TIMEOUTS["tool-vqa"])
    from sourcebook.tools.python_tool import add_python_tool

    add_python_tool(reg, folder, store, out_dir)
    if settings is not None and getattr(settings.llm, "reasoning_model", ""):
        reg.add(ReasoningTool(settings).reasoning, "tool-reasoning", timeout_s=TIMEOUTS["tool-reasoning"])
    if mount_external and settings is not None and getattr(settings, "mcp_servers", None):
        from sourcebook.tools.mcp_mount import mount_servers

        mount_servers(reg, settings.mcp_servers)
    return reg
