"""Structure: required sections present, in order and non-empty; format; bullet lists; language; title."""

from __future__ import annotations

import difflib
import re

from sourcebook.report.checks.length import _script_counts, count_units, split_references
from sourcebook.report.checks.reading import ParsedReport, ReportSection
from sourcebook.report.requirements import is_reference_title, normalize_title, section_key
from sourcebook.report.types import CheckResult, Requirements


def _title_matches(required: str, heading: str) -> bool:
    key, full, head = section_key(required), normalize_title(required), normalize_title(heading)
    if not head or not key:
        return False
    hkey = section_key(heading)
    if key in head or (len(head) >= 2 and head in full) or (len(hkey) >= 2 and hkey == key):
        return True
    return difflib.SequenceMatcher(None, key, hkey).ratio() >= 0.75


_TITLE_SECTION = {"报告标题", "标题", "题目", "title", "reporttitle"}


def check_sections(parsed: ParsedReport, req: Requirements) -> list[CheckResult]:
    """Required sections present, in the requested order, and none empty (fuzzy title matching)."""
    if not req.sections:
        why = "the request names no sections"
        return [CheckResult(n, None, None, None, why)
                for n in ("sections_present", "sections_order", "sections_nonempty")]
    secs = parsed.sections
    # prefer real headings; fall back to weak (numbered / bold line) ones
    strong = [s for s in secs if not s.weak]
    matched: list[tuple[str, ReportSection | None, int]] = []  # (required, section, index in secs)
    last = -1
    out_of_order: list[str] = []
    for r in req.sections:
        if section_key(r) in _TITLE_SECTION:
            matched.append((r, None, -2 if parsed.title else -3))
            continue
        cands = [i for i, s in enumerate(secs) if _title_matches(r, s.title)]
        if strong:
            strong_c = [i for i in cands if not secs[i].weak]
            cands = strong_c or cands
        after = [i for i in cands if i > last]
        if after:
            idx = after[0]
        elif cands:
            idx = cands[0]
            out_of_order.append(r)
        else:
            matched.append((r, None, -1))
            continue
        matched.append((r, secs[idx], idx))
        last = max(last, idx)
    missing = [r for r, _s, i in matched if i in (-1, -3)]
    found = len(req.sections) - len(missing)
    results = [CheckResult(
        "sections_present", not missing, f"{found}/{len(req.sections)}", req.sections,
        ("missing: " + "; ".join(missing)) if missing else "all required sections have a heading")]
    indices = [i for _r, s, i in matched if s is not None]
    in_order = indices == sorted(indices) and not out_of_order
    if len(indices) < 2:
        results.append(CheckResult("sections_order", None, indices, "requested order",
                                   "fewer than two required sections found; order not measurable"))
    else:
        results.append(CheckResult(
            "sections_order", in_order, [secs[i].title for i in indices], "requested order",
            "" if in_order else "out of order: " + "; ".join(out_of_order or ["see measured sequence"])))
    empty: list[str] = []
    sizes: dict[str, int] = {}
    floor = 20 if req.unit == "chars" else 10
    for r, s, _i in matched:
        if s is None:
            continue
        text = parsed.section_text(s)
        if is_reference_title(s.title) or is_reference_title(r):
            n = len(re.sub(r"\s", "", text))
        else:
            n = count_units(text, req.unit)
        sizes[r] = n
        if n < floor:
            empty.append(f"{r} ({n})")
    if not sizes:
        results.append(CheckResult("sections_nonempty", None, sizes, f"≥ {floor} {req.unit} each",
                                   "no required section found"))
    else:
        results.append(CheckResult("sections_nonempty", not empty, sizes, f"≥ {floor} {req.unit} each",
                                   ("empty or near-empty: " + "; ".join(empty)) if empty else ""))
    return results


def check_format(parsed: ParsedReport, req: Requirements) -> CheckResult:
    """The file is the requested format and well-formed (HTML with body content; Markdown with headings)."""
    want = req.format
    got = parsed.fmt
    if want == "html" and got != "html":
        return CheckResult("format", False, got, want, "HTML was requested")
    if want == "docx" and got != "docx":
        return CheckResult("format", False, got, want, "a Word document was requested")
    if got == "html":
        problems = list(parsed.html_problems)
        if not parsed.html_has_body:
            problems.append("no visible body content")
        if parsed.html_headings == 0:
            problems.append("no <h1>–<h6> headings")
        return CheckResult("format", not problems, "html", want, "; ".join(problems) or "parses, has body and headings")
    real = [s for s in parsed.sections if not s.weak]
    if got == "docx":
        return CheckResult("format", bool(real), "docx", want,
                           f"{len(real)} heading paragraphs" if real else "no Heading-styled paragraphs")
    if re.search(r"<(?:div|p|h[1-6]|ul|ol|table)\b[^>]*>", parsed.markdown) and not real:
        return CheckResult("format", False, got, want, "raw HTML tags in a Markdown report")
    return CheckResult("format", bool(real), "markdown" if real else got, want,
                       f"{len(real)} Markdown headings" if real else "no Markdown headings (# …)")


def check_bullets(parsed: ParsedReport, req: Requirements) -> CheckResult:
    """No bullet or numbered lists anywhere when the request forbids them."""
    if parsed.fmt == "html":
        n, sample = parsed.html_lists, "<ul>/<ol>/<li> elements"
    else:
        n, sample = len(parsed.list_lines), (parsed.list_lines[0][:40] if parsed.list_lines else "")
    if not req.no_bullets:
        return CheckResult("no_bullets", None, n, "not requested", "the request allows lists")
    return CheckResult("no_bullets", n == 0, n, 0, f"list items found, e.g. {sample!r}" if n else "")


def check_language(body: str, req: Requirements) -> CheckResult:
    """Share of CJK characters among CJK characters + Latin words matches the requested language."""
    han, latin = _script_counts(split_references(body)[0])
    if han + latin == 0:
        return CheckResult("language", None, None, req.language, "no letters to measure")
    share = han / (han + latin)
    ok = share >= 0.5 if req.language == "zh" else share <= 0.2
    return CheckResult("language", ok, f"CJK share {share:.2f}", req.language,
                       "zh needs CJK share ≥ 0.50; en needs ≤ 0.20")


def check_title(parsed: ParsedReport, req: Requirements) -> CheckResult:
    """The document title carries the requested 《title》."""
    if not req.title:
        return CheckResult("title", None, parsed.title, None, "the request gives no title")
    want, got = normalize_title(req.title), normalize_title(parsed.title or "")
    ok = bool(got) and (want in got or difflib.SequenceMatcher(None, want, got).ratio() >= 0.8)
    return CheckResult("title", ok, parsed.title, req.title, "" if ok else "document title differs from the request")
