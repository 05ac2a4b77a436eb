"""Data shapes that flow through the report stages: what the request demands, the draft being written,
and the measured checks."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

# Inline citation marker in drafts: [@<passage id>], several allowed: [@p1][@p2]
CITE_MARKER = re.compile(r"\[@([A-Za-z0-9_\-:.]+)\]")


@dataclass
class Requirements:
    """What the request asks for, parsed in code (see report/requirements.py).

    Length is counted with ``report.checks.count_units``: CJK characters + Latin words (documented there).
    """

    raw: str
    min_units: int | None = None
    max_units: int | None = None
    unit: str = "chars"          # "chars" (CJK chars + Latin words) or "words" (English word count)
    approximate: bool = False    # 约/左右/about: a ±10 % window around the target
    sections: list[str] = field(default_factory=list)  # required section titles, in order
    format: str = "markdown"     # markdown | html
    language: str = "zh"         # zh | en
    no_bullets: bool = False     # 不要分点 / no bullet lists
    title: str | None = None     # 《...》 title when given
    role: str | None = None      # 假设你是一名… → the writer's role
    cite_sources: bool = True
    problems: list[str] = field(default_factory=list)  # contradictory or impossible asks, stated as found

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def target_units(self) -> int:
        """A length to aim for: the middle of the range (or a sensible default)."""
        lo, hi = self.min_units, self.max_units
        if lo and hi:
            return (lo + hi) // 2
        if lo:
            return int(lo * 1.15)
        if hi:
            return int(hi * 0.85)
        return 1500 if self.unit == "chars" else 800


@dataclass
class DraftSection:
    """One section of a draft. ``body`` is Markdown paragraphs with inline ``[@passage_id]`` markers;
    ``gaps`` states what could not be used and why (rendered honestly in the section)."""

    title: str
    body: str = ""
    budget: int = 0              # length budget in units
    queries: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    intent: str = ""             # the request's instruction for this section (guides evidence, not the heading)
    sources_missing: bool = False  # the section is about a source the folder lacks: not filled from others
    is_references: bool = False  # the "参考资料 / References" section, filled by the renderer
    # figures shown at the end of the section: {"path": image file, "caption": str,
    # "provenance": {"code": script or description that made it, "inputs": [source paths]}}
    figures: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Draft:
    title: str
    sections: list[DraftSection]
    language: str = "zh"
    extractive: bool = False     # True when written without an LLM
    notes: list[str] = field(default_factory=list)


@dataclass
class CheckResult:
    """One measured requirement. ``passed`` is None when the check could not be measured."""

    name: str
    passed: bool | None
    measured: Any
    expected: Any
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
