"""The LLM writer: one section at a time, given only that section's retrieved passages (each with its id),
citing them as ``[@id]``. Replies that are tool calls, empty, or unusable are retried once with a stricter
prompt; after that the section falls back to the extractive writer and the fallback is recorded."""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from sourcebook.report.checks import count_units
from sourcebook.report.citations import cited_ids
from sourcebook.report.evidence import EvidenceItem, SectionEvidence
from sourcebook.report.extractive import ExtractiveWriter
from sourcebook.report.plan import strip_numbering
from sourcebook.report.prose import has_cjk
from sourcebook.report.types import Draft, DraftSection, Requirements

log = logging.getLogger(__name__)

MAX_PASSAGES = 12
PASSAGE_CHARS = 700
MIN_SHARE = 0.3  # a reply shorter than 30 % of the section budget is unusable

_FENCE = re.compile(r"^```[a-zA-Z]*\s*$", re.M)
_HEADING = re.compile(r"^\s*#{1,6}\s+.*$", re.M)
_MD_HEADING = re.compile(r"(?:^|(?<=\n)|(?<=[。！？.!?\]]))\s*#{1,6}\s+")
_BULLET = re.compile(r"^\s*(?:[-*+•·●▪◆■]|\d+[.)、]|[（(]\d+[)）]|[一二三四五六七八九十]+、)\s+")


@dataclass
class WriterEvent:
    section: str
    attempt: int
    outcome: str          # ok | retry | fallback | repaired
    reason: str = ""
    usage: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def unbullet(text: str) -> tuple[str, bool]:
    """Turn list items into running prose (items joined into one paragraph). Returns (text, changed)."""
    out: list[str] = []
    changed = False
    run: list[str] = []
    for line in text.splitlines():
        if _BULLET.match(line):
            run.append(_BULLET.sub("", line).strip())
            changed = True
            continue
        if run:
            out.append(_join_items(run))
            run = []
        out.append(line)
    if run:
        out.append(_join_items(run))
    return "\n".join(out), changed


def _join_items(items: list[str]) -> str:
    fixed = []
    for it in items:
        it = it.strip()
        if it and it[-1] not in "。！？.!?；;":
            it += "。" if has_cjk(it) else "."
        fixed.append(it)
    return ("" if any(has_cjk(i) for i in fixed) else " ").join(fixed)


def clean_reply(text: str, title: str) -> str:
    """Drop code fences and headings (the renderer writes headings), collapse blank lines."""
    text = _FENCE.sub("", text or "")
    lines = []
    for line in text.splitlines():
        if _HEADING.match(line):
            bare = line.lstrip().lstrip("#").strip()
            if len(bare) <= 30 and "[@" not in bare:
                continue  # a heading: the renderer writes headings
            line = bare  # a paragraph that merely starts with '#'
        lines.append(line)
    text = _MD_HEADING.sub("", "\n".join(lines))
    core = strip_numbering(title)
    lines = [ln for ln in text.splitlines() if strip_numbering(ln.strip().strip("*：: ")) != core]
    text = "\n".join(lines)
    text = re.sub(r"\n\s*\n+", "\n\n", text).strip()
    return text


def _passage_block(items: list[EvidenceItem]) -> str:
    rows = []
    for it in items[:MAX_PASSAGES]:
        text = " ".join(_MD_HEADING.sub(" ", it.text).split())[:PASSAGE_CHARS]
        rows.append(f"[@{it.passage_id}] {it.label}\n{text}")
    return "\n\n".join(rows)


def build_messages(section: DraftSection, evidence: SectionEvidence, req: Requirements, draft: Draft,
                   strict: str = "", target: int | None = None, current: str = "") -> list[dict[str, Any]]:
    """Chat messages asking for one section body."""
    zh = req.language == "zh"
    budget = target or section.budget
    unit = ("个汉字" if zh else "characters") if req.unit == "chars" else ("词" if zh else "words")
    others = "、".join(strip_numbering(s.title) for s in draft.sections) if zh else ", ".join(strip_numbering(s.title) for s in draft.sections)
    ids = ", ".join(f"[@{i}]" for i in evidence.ids()[:MAX_PASSAGES])
    if zh:
        system = (f"你是{req.role or '一名严谨的研究写作者'}。你只依据用户给出的资料段落写作，不编造事实、数字或来源。"
                  "每个包含事实的句子都必须在句末标注所依据段落的编号，格式为 [@段落编号]，只能使用给出的编号。")
        rules = [f"报告题目：《{draft.title}》；全部章节：{others}。",
                 f"现在只写章节“{strip_numbering(section.title)}”的正文，不要写标题。",
                 f"篇幅约 {budget} {unit}（允许上下浮动 10%）。",
                 "使用正式书面语，写成连贯的段落，不要使用列表、分点或编号。",
                 f"可用的段落编号：{ids}。"]
        if current:
            rules.append(f"以下是本节现有正文，请在保持引用的前提下改写为约 {budget} {unit}：\n{current}")
        if strict:
            rules.append(f"上一次回复不可用（{strict}）。请直接输出正文段落，不要调用工具，必须带 [@编号] 引用。")
        user = "\n".join(rules) + "\n\n资料段落：\n\n" + _passage_block(evidence.items)
    else:
        system = (f"You are {req.role or 'a careful research writer'}. Write only from the passages the user gives; "
                  "never invent facts, numbers or sources. End every factual sentence with the id of the passage "
                  "it relies on, as [@passage_id], using only the ids given.")
        rules = [f"Report title: {draft.title}; all sections: {others}.",
                 f"Write only the body of the section \"{strip_numbering(section.title)}\", without a heading.",
                 f"Length: about {budget} {unit} (±10 %).",
                 "Formal prose in paragraphs; no bullet points, lists or numbering.",
                 f"Passage ids you may cite: {ids}."]
        if current:
            rules.append(f"Current body of this section; rewrite it to about {budget} {unit}, keeping its citations:\n{current}")
        if strict:
            rules.append(f"The previous reply was unusable ({strict}). Reply with the body paragraphs only, call no "
                         "tools, and cite with [@id].")
        user = "\n".join(rules) + "\n\nPassages:\n\n" + _passage_block(evidence.items)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


class LLMWriter:
    """Writes sections with a chat model; falls back to ``fallback`` (extractive) per section."""

    def __init__(self, client: Any, fallback: ExtractiveWriter | None = None, store: Any = None) -> None:
        self.client = client
        self.fallback = fallback or ExtractiveWriter()
        self.store = store
        self.events: list[WriterEvent] = []
        self.fallback_sections: list[str] = []

    def _ask(self, messages: list[dict[str, Any]]) -> tuple[str, str, dict[str, int]]:
        """(text, problem, usage); ``problem`` is '' when the reply is usable text."""
        try:
            resp = self.client.chat(messages, tools=None)
        except Exception as exc:  # noqa: BLE001 - a failing model must not lose the report
            return "", f"model call failed: {exc}", {}
        usage = {"prompt_tokens": resp.usage.prompt_tokens, "completion_tokens": resp.usage.completion_tokens}
        if resp.tool_calls:
            return "", "the reply was a tool call, not text", usage
        if not (resp.text or "").strip():
            return "", "the reply was empty", usage
        return resp.text, "", usage

    def _usable(self, text: str, section: DraftSection, evidence: SectionEvidence, req: Requirements,
                target: int) -> tuple[str, str]:
        body = clean_reply(text, section.title)
        body, _ = unbullet(body)
        known = set(evidence.ids())
        ids = cited_ids(body)
        if not ids:
            return body, "no [@id] citations"
        if self.store is not None:
            valid = [i for i in ids if i in known or self.store.get_passage(i) is not None]
        else:
            valid = [i for i in ids if i in known]
        if not valid:
            return body, "none of the cited ids exist"
        if target and count_units(body, req.unit) < MIN_SHARE * target:
            return body, f"far too short ({count_units(body, req.unit)} of ~{target} units)"
        return body, ""

    def _generate(self, section: DraftSection, evidence: SectionEvidence, req: Requirements, draft: Draft,
                  target: int, current: str = "") -> str | None:
        problem = ""
        for attempt in (1, 2):
            msgs = build_messages(section, evidence, req, draft, strict=problem, target=target, current=current)
            text, problem, usage = self._ask(msgs)
            if not problem:
                body, problem = self._usable(text, section, evidence, req, target)
                if not problem:
                    self.events.append(WriterEvent(section.title, attempt, "ok", usage=usage))
                    return body
            self.events.append(WriterEvent(section.title, attempt, "retry" if attempt == 1 else "failed", problem, usage))
        return None

    def write_section(self, section: DraftSection, evidence: SectionEvidence, req: Requirements, draft: Draft) -> str:
        """Section body from the model, or from the extractive writer after two unusable replies."""
        if not evidence.items:
            return ""
        body = self._generate(section, evidence, req, draft, section.budget)
        if body is not None:
            return body
        self.fallback_sections.append(section.title)
        self.events.append(WriterEvent(section.title, 3, "fallback", "extractive writer used after two unusable replies"))
        return self.fallback.write_section(section, evidence, req, draft)

    def rewrite(self, section: DraftSection, evidence: SectionEvidence, req: Requirements, draft: Draft,
                target: int) -> str | None:
        """Ask the model to expand/condense the current body to ``target`` units (None when unusable)."""
        if section.title in self.fallback_sections or not evidence.items:
            return None
        return self._generate(section, evidence, req, draft, target, current=section.body)

    def fix_claim(self, sentence: str, passage_id: str, passage: str, reason: str, req: Requirements) -> str | None:
        """Ask the model to restate ``sentence`` so that it says only what ``passage`` says (one call); the
        reply is one sentence citing ``[@passage_id]``, or None when unusable."""
        zh = req.language == "zh"
        ask = (f"下面这句话与其引用的资料不符（{reason}）。请只依据资料改写这句话，只写一句，句末保留引用标记 [@{passage_id}]，"
               f"不要添加资料中没有的信息。\n\n句子：{sentence}\n\n资料 [@{passage_id}]：\n{passage[:1500]}" if zh else
               f"This sentence does not match the passage it cites ({reason}). Rewrite it to state only what the "
               f"passage says, as one sentence ending with the marker [@{passage_id}], adding nothing the passage "
               f"does not state.\n\nSentence: {sentence}\n\nPassage [@{passage_id}]:\n{passage[:1500]}")
        text, problem, usage = self._ask([{"role": "user", "content": ask}])
        self.events.append(WriterEvent("(claim fix)", 1, "ok" if not problem else "failed", problem, usage))
        if problem:
            return None
        body = " ".join(clean_reply(text, "").split())
        return body if f"[@{passage_id}]" in body else None

    def verify_claims(self, items: list[tuple[str, str, str]], req: Requirements) -> list[tuple[str, str]]:
        """One call for a batch of (claim, passage id, passage text): the model's verdict per claim —
        supported / contradicted / unsupported — with a reason. Unparseable answers give ('', '')."""
        lines = []
        for n, (claim, pid, text) in enumerate(items, 1):
            lines.append(f"{n}. CLAIM: {claim}\n   PASSAGE [@{pid}]: {text[:800]}")
        ask = ("For each numbered claim, judge whether its passage supports it. Answer with one JSON list, one "
               "object per claim in order: {\"n\": number, \"verdict\": \"supported\"|\"contradicted\"|"
               "\"unsupported\", \"reason\": one short line}. Nothing else.\n\n" + "\n".join(lines))
        text, problem, usage = self._ask([{"role": "user", "content": ask}])
        self.events.append(WriterEvent("(claim check)", 1, "ok" if not problem else "failed", problem, usage))
        out = [("", "")] * len(items)
        if problem:
            return out
        import json

        m = re.search(r"\[.*\]", text, re.S)
        try:
            rows = json.loads(m.group(0)) if m else []
        except json.JSONDecodeError:
            return out
        for row in rows if isinstance(rows, list) else []:
            try:
                n = int(row.get("n"))
                verdict = str(row.get("verdict", "")).lower()
            except (TypeError, ValueError, AttributeError):
                continue
            if 1 <= n <= len(items) and verdict in ("supported", "contradicted", "unsupported"):
                out[n - 1] = (verdict, str(row.get("reason", ""))[:200])
        return out
