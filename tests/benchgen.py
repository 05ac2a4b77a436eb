"""Tiny generated benchmark suites: a query.jsonl plus task folders with Markdown, text and PDF sources."""

from __future__ import annotations

import json
from pathlib import Path

from tests.docgen import make_pdf
from tests.report_corpus import ZH_FILES

REQUEST_A = (
    "假设你是一名城市规划研究人员，请根据提供的资料，撰写一篇《城市绿色交通发展报告》。"
    "报告需包含以下部分：（1）引言；（2）现状与数据；（3）问题与挑战；（4）参考资料。全文字数在500至700字之间。"
)
REQUEST_B = (
    "Write a short report titled 'Solar adoption in Riverton' from the provided files. It must have the sections "
    "Introduction, Findings and References, and be between 150 and 300 words."
)
EN_MD = """# Riverton solar survey

In 2023 Riverton counted 1,240 rooftop solar systems, up from 610 in 2020. Most installations are on detached
homes in the northern districts, where roofs face south and shading is low.

The city rebate of 300 dollars per kilowatt covered about a fifth of the average installation cost. Installers
report waiting lists of six to eight weeks during the spring season.

Grid operators noted that midday exports from rooftop systems now exceed the evening demand of the same
neighbourhoods on sunny weekends, which raises questions about storage.
"""
EN_PDF_PAGES = [
    "Battery storage in Riverton grew slowly: only 85 homes had a home battery at the end of 2023. "
    "Owners named the high purchase price as the main obstacle.\n\n"
    "A pilot programme in the harbour district pays households for letting the grid operator draw on their "
    "batteries during the evening peak.",
    "The council plans to require solar-ready roofs on all new public buildings from 2025. "
    "Schools and libraries will be the first buildings to receive panels under the plan.",
]


def make_suite(root: Path, answers: dict[str, str] | None = None, extra: dict[str, str] | None = None) -> Path:
    """Write ``root/query.jsonl`` and the folders ``a`` (Chinese Markdown + text) and ``b`` (English Markdown +
    PDF); ``extra`` adds more tasks on folder ``a`` with the given requests. Returns the query file."""
    root.mkdir(parents=True, exist_ok=True)
    a = root / "a"
    a.mkdir()
    for name in ("城市交通.md", "居民调查.txt"):
        (a / name).write_text(ZH_FILES[name], encoding="utf-8")
    b = root / "b"
    b.mkdir()
    (b / "survey.md").write_text(EN_MD, encoding="utf-8")
    make_pdf(b / "storage.pdf", EN_PDF_PAGES, title="Riverton storage")
    rows = [{"task": "a", "query": REQUEST_A}, {"task": "b", "query": REQUEST_B}]
    for task, query in (extra or {}).items():
        target = root / task
        target.mkdir()
        for name in ("城市交通.md", "居民调查.txt"):
            (target / name).write_text(ZH_FILES[name], encoding="utf-8")
        rows.append({"task": task, "query": query})
    for row in rows:
        if answers and row["task"] in answers:
            row["answer"] = answers[row["task"]]
    q = root / "query.jsonl"
    q.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return q


def tree_digest(path: Path) -> dict[str, tuple[int, str]]:
    """``{relative path: (mtime_ns, sha256)}`` of every file under ``path``."""
    import hashlib

    return {p.relative_to(path).as_posix(): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(path.rglob("*")) if p.is_file()}


def start_ray(ray) -> None:
    """``ray.init(num_cpus=2)``; a second attempt when the node does not come up in Ray's fixed 30 s (a
    heavily loaded machine), so the test measures the suite, not the machine's load."""
    for attempt in (1, 2):
        try:
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            return
        except Exception as e:
            ray.shutdown()
            if attempt == 2 or "timed out during startup" not in str(e):
                raise
