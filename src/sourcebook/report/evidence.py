"""Evidence per section: retrieval merged across a section's queries, coverage of every usable source file,
and honest notes about sources a section would need but that could not be read."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from sourcebook.models import STATUS_METADATA, STATUS_OK, STATUS_PARTIAL, Hit
from sourcebook.report.plan import strip_numbering
from sourcebook.report.types import Draft, Requirements

log = logging.getLogger(__name__)

RRF_K = 60


@dataclass
class EvidenceItem:
    """A passage retrieved for a section, with its fused retrieval score."""

    passage_id: str
    source: str
    label: str
    text: str
    score: float
    via: str = "search"  # search | coverage

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SectionEvidence:
    title: str
    items: list[EvidenceItem] = field(default_factory=list)

    def ids(self) -> list[str]:
        return [i.passage_id for i in self.items]


# Words in a request / section title that point at a kind of source
_KIND_WORDS: dict[str, tuple[str, ...]] = {
    "video": ("视频", "录像", "video", "mp4"),
    "audio": ("音频", "录音", "audio", "podcast"),
    "image": ("图片", "图像", "照片", "画作", "image", "picture", "photo"),
    "pptx": ("ppt", "幻灯片", "slides", "演示文稿"),
    "pdf": ("pdf", "论文", "paper"),
    "sheet": ("excel", "表格", "xlsx", "spreadsheet", "数据集"),
    "csv": ("csv", "excel", "表格", "数据集"),
    "docx": ("docx", "word", "文档", "说明文档"),
}


def usable(src: Any) -> bool:
    return src.status in (STATUS_OK, STATUS_PARTIAL) and (src.passages or 0) > 0


def _merge(hits_per_query: list[list[Hit]]) -> list[tuple[Hit, float]]:
    """Reciprocal-rank fusion over the queries of one section."""
    best: dict[str, Hit] = {}
    score: dict[str, float] = {}
    for hits in hits_per_query:
        for rank, h in enumerate(hits):
            best.setdefault(h.passage_id, h)
            score[h.passage_id] = score.get(h.passage_id, 0.0) + 1.0 / (RRF_K + rank + 1)
    order = sorted(score, key=lambda pid: -score[pid])
    return [(best[pid], score[pid]) for pid in order]


def _item(h: Hit, score: float, via: str = "search") -> EvidenceItem:
    return EvidenceItem(h.passage_id, h.source, h.label, h.text, round(score, 5), via)


def gather_evidence(draft: Draft, req: Requirements, store: Any, k: int = 12, per_section: int = 14) -> list[SectionEvidence]:
    """Retrieve evidence for every non-reference section of ``draft`` and make sure each usable source file
    contributes at least one passage to the section it matches best."""
    out: list[SectionEvidence] = []
    for sec in draft.sections:
        se = SectionEvidence(sec.title)
        if not sec.is_references:
            runs: list[list[Hit]] = []
            for qi, q in enumerate(sec.queries):
                # hybrid (BM25 + dense) for the main query, BM25 for the others: query embeddings are the
                # slow part of retrieval on a CPU
                mode = "hybrid" if qi == 0 else "bm25"
                try:
                    runs.append(store.search(q, k=k, diverse=True, mode=mode))
                except Exception as exc:  # noqa: BLE001 - a failing query must not sink the report
                    log.warning("search failed for %r: %s", q, exc)
            se.items = [_item(h, s) for h, s in _merge(runs)[:per_section]]
        out.append(se)
    _balance(out)
    _ensure_coverage(draft, out, store)
    return out


def _balance(evidence: list[SectionEvidence], keep_min: int = 4) -> None:
    """A passage retrieved for several sections stays only where it ranks best, unless that would leave a
    section with fewer than ``keep_min`` passages."""
    where: dict[str, list[tuple[float, int]]] = {}
    for si, se in enumerate(evidence):
        for it in se.items:
            where.setdefault(it.passage_id, []).append((it.score, si))
    for pid, places in where.items():
        if len(places) < 2:
            continue
        keep = max(places)[1]
        for _, si in places:
            se = evidence[si]
            if si != keep and len(se.items) > keep_min:
                se.items = [it for it in se.items if it.passage_id != pid]


def _ensure_coverage(draft: Draft, evidence: list[SectionEvidence], store: Any) -> None:
    covered = {it.source for se in evidence for it in se.items}
    targets = [i for i, s in enumerate(draft.sections) if not s.is_references and s.queries]
    if not targets:
        return
    for src in store.sources():
        if not usable(src) or src.path in covered:
            continue
        best: tuple[float, int, Hit] | None = None
        for si in targets:
            sec = draft.sections[si]
            for q in sec.queries[:1]:
                try:
                    hits = store.search(q, k=1, sources=[src.path], mode="bm25")
                except Exception as exc:  # noqa: BLE001
                    log.warning("coverage search failed for %s: %s", src.path, exc)
                    hits = []
                if hits and (best is None or hits[0].score > best[0]):
                    best = (hits[0].score, si, hits[0])
        if best is None:
            # nothing matched lexically: take the file's first passage for the first content section
            first = next(iter(store.passages(src.path)), None)
            if first is None:
                continue
            h = Hit(first.id, 0.0, first.text, first.locator, first.label, first.source, first.kind, first.title)
            best = (0.0, targets[0], h)
        _, si, hit = best
        evidence[si].items.append(_item(hit, 0.0, via="coverage"))
        covered.add(src.path)


def _mentions(text: str, words: tuple[str, ...]) -> bool:
    low = text.lower()
    return any(w in low for w in words)


def find_gaps(draft: Draft, req: Requirements, store: Any) -> None:
    """Write honest gap notes (``DraftSection.gaps``, rendered by the renderer) into the sections that would need an unreadable (or absent) source.

    A source with status error/skipped/empty/metadata is "needed" when the request names the file or its
    kind; the note goes to the section whose title mentions the kind (else the first content section).
    A kind the request mentions but the folder lacks entirely is noted the same way."""
    zh = draft.language == "zh"
    content = [s for s in draft.sections if not s.is_references]
    if not content:
        return
    sources = list(store.sources())
    present_kinds = {s.kind for s in sources}
    raw = req.raw

    def target_for(kind: str):
        words = _KIND_WORDS.get(kind, ())
        for s in content:
            if words and _mentions(s.title, words):
                return s
        return content[0]

    for src in sources:
        if usable(src):
            continue
        name = src.path.rsplit("/", 1)[-1]
        stem = name.rsplit(".", 1)[0]
        named = name.lower() in raw.lower() or (len(stem) >= 2 and stem.lower() in raw.lower())
        if not (named or _mentions(raw, _KIND_WORDS.get(src.kind, ()))):
            continue
        reason = src.reason or src.status
        if src.status == STATUS_METADATA:
            note = (f"{name} 只能读取元数据（{reason}），本节未使用其内容。" if zh
                    else f"only metadata of {name} could be read ({reason}); this section does not use its content.")
        elif zh:
            note = f"{name} 无法读取：{reason}，本节未使用其内容。"
        else:
            note = f"{name} could not be read: {reason}; this section does not use its content."
        sec = target_for(src.kind)
        if note not in sec.gaps:
            sec.gaps.append(note)

    own_kinds = {s.kind for s in sources if s.kind != "corpus" and usable(s)}
    for kind in ("pdf", "video", "audio", "image", "pptx"):
        present = bool(own_kinds & ({"pdf", "docx"} if kind == "pdf" else {kind}))
        if present or (kind != "pdf" and kind in present_kinds) or not _mentions(raw, _KIND_WORDS[kind]):
            continue
        label = {"video": ("视频", "video"), "audio": ("音频", "audio"), "image": ("图片", "image"),
                 "pptx": ("PPT", "slide deck"), "pdf": ("论文", "paper")}[kind]
        if zh:
            note = f"请求提到的{label[0]}不在提供的资料文件夹中，本节未使用其内容。"
        else:
            note = f"the {label[1]} mentioned in the request is not in the source folder; this section does not use it."
        sec = target_for(kind)
        if note not in sec.gaps:
            sec.gaps.append(note)
        # a section about the absent source (论文基本信息, 视频补充要点) is not filled from other files
        for s in content:
            if _mentions(strip_numbering(s.title), _SUBJECT_WORDS[kind]):
                s.sources_missing = True
                if note not in s.gaps:
                    s.gaps.append(note)


_SUBJECT_WORDS = {"pdf": ("论文", "paper"), "video": ("视频", "video"), "audio": ("音频", "audio", "录音"),
                  "image": ("图片", "图像", "image", "photo"), "pptx": ("ppt", "幻灯片", "slides")}


def evidence_to_json(draft: Draft, evidence: list[SectionEvidence], used: dict[str, list[str]] | None = None) -> dict:
    """The evidence.json document: per section, passages retrieved and passages actually cited."""
    used = used or {}
    return {
        "sections": [
            {
                "title": se.title,
                "retrieved": [it.to_dict() for it in se.items],
                "cited": used.get(se.title, []),
                "gaps": sec.gaps,
            }
            for se, sec in zip(evidence, draft.sections, strict=True)
        ]
    }


