"""Plain data types shared by every stage: passages as extracted, passages as stored, search hits."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Source kinds, as detected by ingest/detect.py
KINDS = (
    "pdf", "pptx", "docx", "sheet", "csv", "text", "html", "json", "corpus",
    "image", "video", "audio", "archive", "legacy", "unknown", "figure",
)

# Source statuses written by ingest
STATUS_OK = "ok"            # content extracted
STATUS_PARTIAL = "partial"  # some content, with warnings (reason says what was lost)
STATUS_EMPTY = "empty"      # readable but no content (0-byte file, blank document)
STATUS_ERROR = "error"      # could not be read (corrupt, encrypted, malformed)
STATUS_SKIPPED = "skipped"  # deliberately not read (symlink out of folder, too large, unsupported)
STATUS_METADATA = "metadata"  # registered with metadata only (no content extractor available)


@dataclass
class PassageDraft:
    """A passage as an extractor yields it, before it gets an id and a source.

    ``locator`` is the human part of a citation ("p. 3", "slide 5", "Sheet1!A2:G40",
    '"文章标题", chunk 2', "03:12–03:40"); ``loc`` holds the same place as structured data
    (page, slide, sheet, range, article, chunk, start_s, end_s, section, ...).
    """

    text: str
    locator: str
    loc: dict[str, Any] = field(default_factory=dict)
    title: str = ""


@dataclass
class Passage:
    """A stored passage: stable id, its source file (relative path) and its place in it."""

    id: str
    source: str
    kind: str
    ordinal: int
    text: str
    locator: str
    loc: dict[str, Any]
    title: str = ""

    @property
    def label(self) -> str:
        """Human citation label, e.g. ``[pdf.pdf, p. 3]`` or ``[long_context: "标题", chunk 2]``."""
        return citation_label(self.source, self.kind, self.locator)


@dataclass
class Hit:
    """One search result."""

    passage_id: str
    score: float
    text: str
    locator: str
    label: str
    source: str
    kind: str
    title: str = ""
    loc: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SourceRecord:
    """A file of the task folder as the store knows it."""

    path: str  # relative to the folder, POSIX separators
    kind: str
    size: int
    sha256: str
    status: str
    reason: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    passages: int = 0


def citation_label(source: str, kind: str, locator: str) -> str:
    """Build the bracketed label a reader sees next to a cited sentence."""
    name = source.rsplit("/", 1)[-1]
    if kind == "corpus":
        stem = name.rsplit(".", 1)[0]
        return f"[{stem}: {locator}]"
    if not locator:
        return f"[{name}]"
    return f"[{name}, {locator}]"
