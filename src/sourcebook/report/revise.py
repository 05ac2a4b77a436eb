"""Revision driven by checks measured in code.

Each round measures the draft (``report.measure``: the rendered draft through the same checks as the final
report) and verifies every claim (``sourcebook.grounding``), then applies targeted fixes: drop unresolvable
markers, re-cite, rewrite (model) or drop contradicted and unsupported claims, write missing/empty sections, expand short sections or condense long
ones (LLM rewrite when a model is available, evidence sentences otherwise), cite uncited usable files. A
final deterministic pass trims the weakest sentences or appends evidence sentences so the length
lands in range. Every action is logged; nothing is reported as passing unless it was measured.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from sourcebook.grounding.draft import sentence_verdicts
from sourcebook.report.checks import count_units
from sourcebook.report.citations import (
    CitedSentence,
    ResolveLog,
    cited_ids,
    claim_text,
    join_sentences,
    resolve_citations,
    split_cited_sentences,
)
from sourcebook.report.evidence import EvidenceItem, SectionEvidence, usable
from sourcebook.report.extractive import ExtractiveWriter, with_marker
from sourcebook.report.prose import has_cjk
from sourcebook.report.types import CheckResult, Draft, DraftSection, Requirements

log = logging.getLogger(__name__)

MAX_ROUNDS = 3
SHORT_ADDITION = 150  # units: smaller evidence additions continue the last paragraph


@dataclass
class RevisionAction:
    round: int
    action: str       # drop_unresolvable | recite | drop_unsupported | write_missing | expand | condense | cite_file | final_trim | final_append
    section: str = ""
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Reviser:
    """Holds what revision needs; ``run()`` performs the rounds and the final pass."""

    draft: Draft
    req: Requirements
    store: Any
    evidence: list[SectionEvidence]
    extractive: ExtractiveWriter
    llm: Any = None                      # LLMWriter or None
    max_rounds: int = MAX_ROUNDS
    actions: list[RevisionAction] = field(default_factory=list)
    resolve_log: ResolveLog = field(default_factory=ResolveLog)

    # ------------------------------------------------------------------ measuring
    def content_sections(self) -> list[tuple[DraftSection, SectionEvidence]]:
        return [(s, e) for s, e in zip(self.draft.sections, self.evidence, strict=True) if not s.is_references]

    def measure(self) -> list[CheckResult]:
        """The checks of ``report.measure`` (claims are verified by ``fix_citations`` itself)."""
        from sourcebook.report.measure import measure

        return measure(self.draft, self.req, self.store, self.extractive, ground=False).checks

    def total_units(self) -> int:
        """The rendered draft's body length, counted as the final check counts it."""
        from sourcebook.report.measure import draft_length

        return draft_length(self.draft, self.store, self.req)

    def bounds(self) -> tuple[int | None, int | None]:
        return self.req.min_units, self.req.max_units

    def _log(self, rnd: int, action: str, section: str = "", detail: str = "") -> None:
        self.actions.append(RevisionAction(rnd, action, section, detail))
        log.info("revise r%d %s %s %s", rnd, action, section, detail)

    # ------------------------------------------------------------------ fixes
    def fix_citations(self, rnd: int) -> None:
        """Drop unresolvable markers; a sentence left with no valid citation, or whose citations do not
        support it, is re-cited to a supporting evidence passage when one exists and dropped otherwise
        (extractive sentences are verbatim, so this mostly concerns model-written text)."""
        for sec, ev in self.content_sections():
            if not sec.body:
                continue
            sents = split_cited_sentences(sec.body)
            orphaned: set[int] = set()
            before = len(self.resolve_log.dropped)
            for i, s in enumerate(sents):
                if not s.ids:
                    continue
                raw = resolve_citations(s.raw, self.store, self.resolve_log)
                if raw != s.raw:
                    ids = [pid for pid in s.ids if pid not in self.resolve_log.dropped[before:]]
                    sents[i] = CitedSentence(raw, s.text, ids, s.paragraph)
                    if not ids:
                        orphaned.add(i)
            if len(self.resolve_log.dropped) > before:
                self._log(rnd, "drop_unresolvable", sec.title, ", ".join(self.resolve_log.dropped[before:]))
            sec.body = join_sentences(sents, self.req.language)
            self._act_on_verdicts(rnd, sec, ev, orphaned)

    def _act_on_verdicts(self, rnd: int, sec: DraftSection, ev: SectionEvidence, orphaned: set[int]) -> None:
        """Contradicted and unsupported claims (uncited factual sentences included) are re-cited to an
        evidence passage that supports them, else rewritten from their passage by the model (kept only if
        the rewrite then verifies), else removed."""
        keep: list[CitedSentence] = []
        changed = False
        for i, (s, v) in enumerate(sentence_verdicts(sec.body, self.store, sec.title)):
            if v is None or v.accepted or _is_note(s.text):
                keep.append(s)
                continue
            better = self._best_passage(s.text, ev)
            if better is not None:
                pid, verdict = better
                keep.append(CitedSentence(_replace_markers(s.raw, pid), s.text, [pid], s.paragraph))
                self._log(rnd, "recite", sec.title, f"{s.text[:40]}… → [@{pid}] ({verdict})")
                changed = True
                continue
            fixed = self._llm_fix(s, v)
            if fixed is not None:
                keep.append(fixed)
                self._log(rnd, "rewrite_claim", sec.title, f"{s.text[:40]}… ({v.verdict}: {v.reason}) → "
                          f"{fixed.text[:40]}…")
                changed = True
                continue
            why = "its only citations did not resolve" if i in orphaned else f"{v.verdict}: {v.reason}"
            self._log(rnd, "drop_" + v.verdict, sec.title, f"{s.text[:60]}… ({why})")
            changed = True
        if changed:
            sec.body = join_sentences(keep, self.req.language)

    def sync_used(self) -> None:
        """Every sentence already in the draft counts as used, so evidence additions never repeat one."""
        from sourcebook.report.measure import _grams

        for sec, _ in self.content_sections():
            for s in split_cited_sentences(sec.body or ""):
                if s.text not in self.extractive.used_texts:
                    self.extractive.used_texts.add(s.text)
                    self.extractive.used_grams.append(_grams(s.text))

    def drop_duplicates(self, rnd: int) -> None:
        """A sentence that repeats another one of the report (bigram/word Jaccard ≥ 0.8) is removed from the
        longer of the two sections."""
        from sourcebook.report.measure import DUPLICATE_JACCARD, _grams, _jaccard

        seen: list[set[str]] = []
        # the thinnest sections keep their sentences; a repeat goes from the section that can spare it
        order = sorted(self.content_sections(), key=lambda p: _content_units(p[0].body, self.req.unit))
        for sec, _ in order:
            if not sec.body:
                continue
            keep, dropped = [], []
            for s in split_cited_sentences(sec.body):
                g = _grams(s.text)
                if not _is_note(s.text) and any(_jaccard(g, h) >= DUPLICATE_JACCARD for h in seen):
                    dropped.append(s.text[:40])
                    continue
                keep.append(s)
                seen.append(g)
            if dropped:
                sec.body = join_sentences(keep, self.req.language)
                self._log(rnd, "drop_duplicate", sec.title, "; ".join(dropped))

    def _llm_fix(self, s: CitedSentence, v: Any) -> CitedSentence | None:
        if self.llm is None or not hasattr(self.llm, "fix_claim"):
            return None
        pid = v.passage_id or (s.ids[0] if s.ids else None)
        p = self.store.get_passage(pid) if pid else None
        if p is None:
            return None
        reply = self.llm.fix_claim(s.text, p.id, p.text, v.reason, self.req)
        if not reply:
            return None
        got = split_cited_sentences(reply)
        if len(got) != 1:
            return None
        new = got[0]
        check = sentence_verdicts(new.raw, self.store)
        if not check or check[0][1] is None or not check[0][1].accepted:
            return None
        return CitedSentence(new.raw, new.text, new.ids, s.paragraph)

    def _best_passage(self, sentence: str, ev: SectionEvidence) -> tuple[str, str] | None:
        """An evidence passage under which ``sentence`` is quoted or supported (the first such, by rank)."""
        from sourcebook.grounding.report import passage_context
        from sourcebook.grounding.verify import verify_claim

        text = claim_text(sentence)
        for it in ev.items[:20]:
            p = self.store.get_passage(it.passage_id)
            if p is None:
                continue
            v = verify_claim(text, [(p.id, p.text, passage_context(p))], [f"[@{p.id}]"], use_e5=False)
            if v.accepted:
                return p.id, v.verdict
        return None

    def write_missing(self, rnd: int, use_llm: bool = True) -> None:
        """An empty section is written (model, else evidence sentences not used elsewhere), or says that the
        sources hold nothing for it."""
        for sec, ev in self.content_sections():
            if _content_units(sec.body, self.req.unit) > 0 or NO_EVIDENCE[self.draft.language] in sec.gaps:
                continue
            self.sync_used()
            body = ""
            if self.llm is not None and use_llm:
                body = self.llm.write_section(sec, ev, self.req, self.draft)
            if not body:
                body = self.extractive.write_section(sec, ev, self.req, self.draft)
            if not body:
                body = self._widen_and_fill(sec, ev, max(sec.budget, 60))
            if body:
                sec.body = _merge_bodies(sec.body, body)
                self._log(rnd, "write_missing", sec.title, f"{count_units(body, self.req.unit)} units")
            else:
                note = NO_EVIDENCE[self.draft.language]
                if note not in sec.gaps:
                    sec.gaps.append(note)
                    self._log(rnd, "write_missing", sec.title, "no evidence found; section states so")

    def cited_sources(self) -> set[str]:
        """Source files cited anywhere in the draft."""
        out: set[str] = set()
        for sec in self.draft.sections:
            out |= self._sources(sec.body)
        return out

    def uncited_sources(self) -> list[str]:
        """Usable source files the draft does not cite (in store order)."""
        cited = self.cited_sources()
        return [s.path for s in self.store.sources() if usable(s) and s.path not in cited]

    def not_used(self) -> list[str]:
        """Usable files left out of the report because nothing in them is relevant to the request."""
        cited = self.cited_sources()
        return [p for p in self.uncited_sources() if p not in cited and p not in self.extractive.relevant_sources]

    def cite_missing_files(self, rnd: int) -> list[str]:
        """Every usable source file cited at least once, by construction: for each uncited file, its
        best-supported evidence sentence (one not already in the report) goes into the section it matches
        best. Returns the files that were cited this way."""
        content = self.content_sections()
        if not content:
            return []
        added: list[str] = []
        nothing: list[str] = []
        in_draft = {s.text for sec in self.draft.sections for s in split_cited_sentences(sec.body)}
        for path in self.uncited_sources():
            pick = self._coverage_sentence(path, content, in_draft)
            if pick is None:
                nothing.append(path)
                continue
            sec, cand = pick
            if cand.text in in_draft:
                # the report already states this very sentence (citing another file that quotes it):
                # the file is cited on that sentence too
                if self._co_cite(cand.text, cand.passage_id):
                    added.append(path)
                    self._log(rnd, "cite_file", "", f"{path}: co-cited on {cand.text[:40]}")
                continue
            body = self.extractive.compose([cand], self.req.language)
            sec.body = _merge_bodies(sec.body, body, self.req.language)
            self.extractive.used_texts.add(cand.text)
            in_draft.add(cand.text)
            added.append(path)
            self._log(rnd, "cite_file", sec.title, f"{path}: {cand.text[:40]}")
        if nothing:  # one line for all of them, however many files there are
            more = f" (+{len(nothing) - 5} more)" if len(nothing) > 5 else ""
            log.warning("no citable text in %d file(s): %s%s", len(nothing), ", ".join(nothing[:5]), more)
        return added

    def _co_cite(self, text: str, pid: str) -> bool:
        """Add ``[@pid]`` to the first draft sentence whose text is ``text``."""
        for sec in self.draft.sections:
            if sec.is_references or not sec.body:
                continue
            sents = split_cited_sentences(sec.body)
            for i, s in enumerate(sents):
                if s.text == text and s.ids:
                    last = f"[@{s.ids[-1]}]"
                    at = s.raw.rfind(last) + len(last)
                    sents[i] = CitedSentence(s.raw[:at] + f"[@{pid}]" + s.raw[at:], s.text, [*s.ids, pid], s.paragraph)
                    sec.body = join_sentences(sents, self.req.language)
                    return True
        return False

    def _coverage_items(self, path: str, content: list[tuple[DraftSection, SectionEvidence]]
                        ) -> list[tuple[int, EvidenceItem]]:
        """Passages of ``path`` that could vouch for a sentence, each with the content section it came
        from: evidence items first, then in-file searches with each section's queries, then the file's
        opening passages (attached to the first section)."""
        out: list[tuple[int, EvidenceItem]] = []
        seen: set[str] = set()
        for ci, (_, ev) in enumerate(content):
            for it in ev.items:
                if it.source == path and it.passage_id not in seen:
                    out.append((ci, it))
                    seen.add(it.passage_id)
        for ci, (sec, _) in enumerate(content):
            for q in sec.queries[:1] or [sec.title]:
                try:
                    hits = self.store.search(q, k=3, sources=[path], mode="bm25")
                except Exception as exc:  # noqa: BLE001 - a failing query must not sink the report
                    log.warning("coverage search failed for %s: %s", path, exc)
                    hits = []
                for h in hits:
                    if h.passage_id not in seen:
                        out.append((ci, EvidenceItem(h.passage_id, h.source, h.label, h.text, 0.0, "coverage")))
                        seen.add(h.passage_id)
        for i, p in enumerate(self.store.passages(path)):
            if i >= 3:
                break
            if p.id not in seen:
                out.append((0, EvidenceItem(p.id, p.source, p.label, p.text, 0.0, "coverage")))
                seen.add(p.id)
        return out

    def _coverage_sentence(self, path: str, content: list[tuple[DraftSection, SectionEvidence]],
                           in_draft: set[str]) -> tuple[DraftSection, Any] | None:
        """The sentence that cites ``path``: among clean sentences of its passages not already in the
        report, the one best supported by its passage and most relevant to the section it goes to."""
        items = self._coverage_items(path, content)
        if not items:
            return None
        lang = self.req.language
        fresh: list[tuple[int, Any]] = []
        stated: list[tuple[int, Any]] = []   # sentences the report already states (citing another file)
        for ci, it in items:
            ev = SectionEvidence(content[ci][1].title, [it])
            for c in self.extractive.candidates(ev, lang, include_used=True):
                (stated if c.text in in_draft else fresh).append((ci, c))
        pool = fresh or stated
        # only on-topic sentences: a file is never forced into the report with text off the subject
        pool = [(ci, c) for ci, c in pool
                if self.extractive.on_topic(c, self.extractive.intent(content[ci][0], self.req))]
        if not pool:
            return None
        best_i = max(range(len(pool)), key=lambda i: (
            not pool[i][1].fallback,
            round(self.extractive.relevance(content[pool[i][0]][0], pool[i][1].text), 1),
            -pool[i][1].rank,
        ))
        ci, cand = pool[best_i]
        # the sentence goes where it fits best: its own section, unless another matches it clearly better
        rel = [self.extractive.relevance(sec, cand.text) for sec, _ in content]
        target = max(range(len(content)), key=lambda j: rel[j])
        if rel[target] <= rel[ci] + 0.1:
            target = ci
        return content[target][0], cand

    def expand(self, rnd: int, deficit: int) -> bool:
        """Add about ``deficit`` units, spread over the sections furthest below their budget."""
        grew = False
        content = [(s, e) for s, e in self.content_sections() if s.budget > 0]
        if not content:
            return False
        shares = self._shares(content, deficit, below=True)
        for (sec, ev), need in zip(content, shares, strict=True):
            if need <= 0:
                continue
            have = _content_units(sec.body, self.req.unit)
            if self.llm is not None:
                body = self.llm.rewrite(sec, ev, self.req, self.draft, have + need)
                if body and _content_units(body, self.req.unit) > have and self._keeps_sources(sec.body, body):
                    sec.body = body
                    self._log(rnd, "expand", sec.title, f"model rewrite {have} → {_content_units(body, self.req.unit)}")
                    grew = True
                    continue
            add = self._more(sec, ev, need) or self._widen_and_fill(sec, ev, need)
            if add:
                sec.body = _merge_bodies(sec.body, add, self.req.language)
                self._log(rnd, "expand", sec.title, f"+{count_units(add, self.req.unit)} units from evidence")
                grew = True
        return grew

    def _widen_and_fill(self, sec: DraftSection, ev: SectionEvidence, need: int) -> str:
        """Retrieve more passages for ``sec`` (larger k) and take sentences from them."""
        have = set(ev.ids())
        for q in sec.queries[:3] or [sec.title]:
            try:
                hits = self.store.search(q, k=30, diverse=True)
            except Exception as exc:  # noqa: BLE001
                log.warning("search failed: %s", exc)
                continue
            for h in hits:
                if h.passage_id not in have:
                    ev.items.append(EvidenceItem(h.passage_id, h.source, h.label, h.text, h.score, "widen"))
                    have.add(h.passage_id)
        return self._more(sec, ev, need)

    def _more(self, sec: DraftSection, ev: SectionEvidence, need: int) -> str:
        """Evidence sentences for ``sec``: a short addition continues the last paragraph (no connector)."""
        self.sync_used()
        start = 1 if need >= SHORT_ADDITION else 0
        return self.extractive.more(sec, ev, self.req, need, start_paragraph=start)

    def condense(self, rnd: int, excess: int) -> bool:
        """Remove about ``excess`` units: model rewrite when available, else drop low-support sentences."""
        content = [(s, e) for s, e in self.content_sections() if s.body]
        shares = self._shares(content, excess, below=False)
        shrunk = False
        for (sec, ev), cut in zip(content, shares, strict=True):
            if cut <= 0:
                continue
            have = _content_units(sec.body, self.req.unit)
            if self.llm is not None:
                body = self.llm.rewrite(sec, ev, self.req, self.draft, max(have - cut, 1))
                if body and _content_units(body, self.req.unit) < have and self._keeps_sources(sec.body, body):
                    sec.body = body
                    self._log(rnd, "condense", sec.title, f"model rewrite {have} → {_content_units(body, self.req.unit)}")
                    shrunk = True
                    continue
            if self._drop_lowest(sec, cut, rnd, "condense"):
                shrunk = True
        return shrunk

    def _sources(self, body: str) -> set[str]:
        out = set()
        for pid in dict.fromkeys(cited_ids(body)):
            p = self.store.get_passage(pid)
            if p is not None:
                out.add(p.source)
        return out

    def _keeps_sources(self, old: str, new: str) -> bool:
        """A model rewrite is accepted only if it still cites every source file the old body cited."""
        return self._sources(old) <= self._sources(new)

    def _drop_lowest(self, sec: DraftSection, cut: int, rnd: int, action: str) -> bool:
        """Drop the weakest sentences of ``sec`` (contradicted, then unsupported, then the least relevant) until ``cut`` units are gone (keeps notes, one
        sentence per cited source, and at least one sentence)."""
        rank = {"contradicted": 0, "unsupported": 1, "supported": 2, "quoted": 3}
        scored = [(s, rank[v.verdict] + self.extractive.relevance(sec, s.text) if v else 9.0)
                  for s, v in sentence_verdicts(sec.body, self.store, sec.title)]
        if len(scored) <= 1:
            return False
        source_of: dict[str, str] = {}
        for s, _ in scored:
            for pid in s.ids:
                p = self.store.get_passage(pid)
                if p is not None:
                    source_of[pid] = p.source
        per_source: dict[str, int] = {}
        for s, _ in scored:
            for src in {source_of.get(pid) for pid in s.ids} - {None}:
                per_source[src] = per_source.get(src, 0) + 1
        order = sorted(range(len(scored)), key=lambda i: scored[i][1])
        dropped: set[int] = set()
        removed = 0
        for i in order:
            if removed >= cut or len(scored) - len(dropped) <= 1:
                break
            s, score = scored[i]
            if _is_note(s.text):
                continue
            srcs = {source_of.get(pid) for pid in s.ids} - {None}
            if any(per_source.get(x, 0) <= 1 for x in srcs):
                continue
            u = count_units(s.text, self.req.unit)
            # don't overshoot by far with one very long sentence when close to done
            if removed > 0 and removed + u > cut * 1.6 and u > 40:
                continue
            dropped.add(i)
            removed += u
            for x in srcs:
                per_source[x] -= 1
        if not dropped:
            return False
        sec.body = join_sentences([s for i, (s, _) in enumerate(scored) if i not in dropped], self.req.language)
        self._log(rnd, action, sec.title, f"-{removed} units ({len(dropped)} weakest sentences)")
        return True

    def _shares(self, content: list[tuple[DraftSection, SectionEvidence]], amount: int, below: bool) -> list[int]:
        gaps = []
        for sec, _ in content:
            have = _content_units(sec.body, self.req.unit)
            gaps.append(max(0, sec.budget - have) if below else max(0, have - sec.budget))
        total = sum(gaps)
        if total <= 0:  # everyone on budget: spread by budget
            gaps = [max(1, s.budget) for s, _ in content]
            total = sum(gaps)
        return [int(round(amount * g / total)) + (1 if g else 0) for g in gaps]

    # ------------------------------------------------------------------ driver
    def _window(self) -> tuple[int, int]:
        lo, hi = self.bounds()
        target = self.req.target_units
        lo_t = lo if lo is not None else 0
        hi_t = hi if hi is not None else max(target * 2, lo_t + 1)
        # aim inside the range with a small margin either side
        margin = max(1, int(0.03 * (hi_t - lo_t))) if hi is not None and lo is not None else 0
        return lo_t + margin, hi_t - margin

    def fit_length(self, rnd: int) -> None:
        lo, hi = self._window()
        n = self.total_units()
        target = min(max(self.req.target_units, lo), hi)
        if n < lo:
            self.expand(rnd, target - n)
        elif n > hi:
            self.condense(rnd, n - target)

    def final_pass(self) -> None:
        """Deterministic: trim lowest-support sentences / append evidence sentences until in range, then
        make sure every usable file is cited (a file cited this way is never trimmed away: trimming keeps
        the last sentence citing each file of a section) and trim other sentences again if that overshot."""
        self._fit_final()
        if self.cite_missing_files(99):
            self._fit_final()

    def _fit_final(self) -> None:
        lo, hi = self._window()
        for _ in range(12):
            n = self.total_units()
            if n > hi:
                content = sorted((s for s, _ in self.content_sections() if s.body),
                                 key=lambda s: -(_content_units(s.body, self.req.unit) - s.budget))
                if not content or not any(self._drop_lowest(s, n - hi + 1, 99, "final_trim") for s in content[:3]):
                    break
            elif n < lo:
                grew = False
                for sec, ev in sorted(self.content_sections(), key=lambda p: _content_units(p[0].body, self.req.unit) - p[0].budget):
                    if sec.budget <= 0:
                        continue
                    add = self._more(sec, ev, lo - n) or self._widen_and_fill(sec, ev, lo - n)
                    if add:
                        sec.body = _merge_bodies(sec.body, add, self.req.language)
                        self._log(99, "final_append", sec.title, f"+{count_units(add, self.req.unit)} units")
                        grew = True
                        break
                if not grew:
                    break
            else:
                break

    def run(self) -> list[CheckResult]:
        """Rounds of measured fixes, then the final pass; returns the last measurement."""
        results: list[CheckResult] = []
        for rnd in range(1, self.max_rounds + 1):
            self.fix_citations(rnd)
            self.drop_duplicates(rnd)
            self.write_missing(rnd)
            self.cite_missing_files(rnd)
            self.fit_length(rnd)
            results = self.measure()
            failing = [r for r in results if r.passed is False and r.name in _FIXABLE]
            if not failing:
                break
        final = self.max_rounds + 1
        self.fix_citations(final)
        self.drop_duplicates(final)
        self.write_missing(final, use_llm=False)
        self.final_pass()
        # whatever the last steps added is verified and de-duplicated too
        self.fix_citations(99)
        self.drop_duplicates(99)
        self.write_missing(99, use_llm=False)
        self._fit_final()
        return self.measure()


_FIXABLE = {"length", "sections_present", "sections_nonempty", "not_empty", "citations_resolvable",
            "inputs_cited", "no_bullets", "citations_present"}

NO_EVIDENCE = {
    "zh": "所提供的资料中没有找到与本节直接相关的内容，本节不作推断。",
    "en": "the provided sources contain nothing directly relevant to this section; it makes no claims.",
}


def _is_note(text: str) -> bool:
    t = text.strip()
    return t.startswith(("（说明：", "(Note:"))


def _content_units(body: str, unit: str) -> int:
    return sum(count_units(s.text, unit) for s in split_cited_sentences(body or "") if not _is_note(s.text))


def _merge_bodies(a: str, b: str, language: str | None = None) -> str:
    """Append ``b`` to ``a``: as a new paragraph, or (``language`` given and ``b`` short, one paragraph)
    continuing ``a``'s last paragraph."""
    a, b = (a or "").strip(), (b or "").strip()
    if not (a and b):
        return a or b
    if language and "\n\n" not in b and count_units(b) < SHORT_ADDITION and not _is_note(a.rsplit("\n\n", 1)[-1]):
        latin_gap = language == "zh" and a[-1:] in ".!?" and not has_cjk(b[:1])
        return a + (" " if language != "zh" or latin_gap else "") + b
    return f"{a}\n\n{b}"


def _replace_markers(raw: str, pid: str) -> str:
    from sourcebook.report.citations import strip_markers

    return with_marker(strip_markers(raw).strip(), pid)
