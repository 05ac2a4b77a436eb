"""Citations in form: present in the body, numbered ones listed; markers resolvable; relevant inputs cited."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from sourcebook.report.checks.length import _CJK_NUM_CITE, _LABEL_CITE, _NUM_CITE
from sourcebook.report.checks.reading import ParsedReport
from sourcebook.report.types import CITE_MARKER, CheckResult, Requirements


def _cited_numbers(text: str) -> list[int]:
    nums: list[int] = []
    for m in (*_NUM_CITE.finditer(text), *_CJK_NUM_CITE.finditer(text)):
        for part in re.split(r"\s*[,，、]\s*", m.group(1)):
            if re.fullmatch(r"\d+\s*[\-–]\s*\d+", part):
                a, b = (int(x) for x in re.split(r"\s*[\-–]\s*", part))
                if 0 < b - a < 50:
                    nums.extend(range(a, b + 1))
                    continue
            if part.strip().isdigit():
                nums.append(int(part))
    return nums


def _reference_numbers(refs: str) -> list[int]:
    nums = []
    for line in refs.splitlines()[1:]:
        m = re.match(r"^\s*(?:[-*+]\s*)?(?:\\?\[\^?(\d{1,4})\\?\]|(\d{1,4})[.、)）]|【(\d{1,4})】)", line)
        if m:
            nums.append(int(next(g for g in m.groups() if g)))
    return nums


def check_citations(parsed: ParsedReport, req: Requirements) -> list[CheckResult]:
    """Citations present in the body, and every cited number has an entry in the references section."""
    body = parsed.body
    nums = _cited_numbers(body)
    ids = CITE_MARKER.findall(body)
    labels = _LABEL_CITE.findall(body)
    total = len(nums) + len(ids) + len(labels)
    if not req.cite_sources:
        present = CheckResult("citations_present", None, total, "not requested", "the request does not ask for citations")
    else:
        present = CheckResult("citations_present", total > 0, total, "≥ 1 citation in the body",
                              "" if total else "no citation markers ([1], [@id], [file, locator]) in the body")
    refs = _reference_numbers(parsed.references)
    if not nums:
        numbered = CheckResult("citations_numbered", None, 0, "cited numbers listed in references",
                               "no numbered citations to resolve")
    else:
        dangling = sorted(set(nums) - set(refs))
        unused = sorted(set(refs) - set(nums))
        detail = []
        if not parsed.references:
            detail.append("no references section")
        if dangling:
            detail.append(f"cited but not listed: {dangling[:10]}")
        if unused:
            detail.append(f"listed but never cited: {unused[:10]}")
        numbered = CheckResult("citations_numbered", bool(parsed.references) and not dangling,
                               f"{len(set(nums))} cited / {len(refs)} listed", "every cited number listed",
                               "; ".join(detail))
    return [present, numbered]


def check_inputs_cited(cited_sources: Iterable[str], usable_sources: Iterable[str]) -> CheckResult:
    """Every usable input file is cited at least once."""
    usable = sorted(set(usable_sources))
    cited = set(cited_sources)
    if not usable:
        return CheckResult("inputs_cited", None, 0, "every usable input cited", "no usable input files")
    missing = [s for s in usable if s not in cited]
    return CheckResult("inputs_cited", not missing, f"{len(usable) - len(missing)}/{len(usable)}",
                       "every usable input cited", ("not cited: " + ", ".join(missing[:20])) if missing else "")


def check_citations_resolvable(marker_ids: Iterable[str], resolve: Callable[[str], Any]) -> CheckResult:
    """Every citation marker names a passage that exists."""
    ids = list(dict.fromkeys(marker_ids))
    if not ids:
        return CheckResult("citations_resolvable", None, 0, "all markers resolve", "no citation markers")
    bad = [i for i in ids if resolve(i) is None]
    return CheckResult("citations_resolvable", not bad, f"{len(ids) - len(bad)}/{len(ids)}", "all markers resolve",
                       ("unresolvable: " + ", ".join(bad[:20])) if bad else "")
