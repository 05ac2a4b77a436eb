"""Extraction throughput: a generated article corpus (default ~60 MB) and, when present, the shared
fixture documents. Prints a table of sizes, passages and seconds.

    python benchmarks/bench_extract.py [--corpus-mb 60]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from sourcebook.ingest.base import ExtractContext, extractor_for
from sourcebook.ingest.detect import detect_kind

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"


def make_corpus(path: Path, megabytes: float) -> None:
    body = "人工智能正在改变内容生产方式，媒体机构需要新的核查流程。记者利用模型整理采访记录，编辑负责事实核查。" * 40
    per_article = len(json.dumps({"title": "标题", "page_body": body}, ensure_ascii=False).encode())
    n = int(megabytes * 2**20 / per_article)
    with path.open("w", encoding="utf-8") as f:
        f.write("[")
        for i in range(n):
            if i:
                f.write(",")
            json.dump({"title": f"文章{i}", "page_body": body, "url": f"https://example.org/{i}"}, f,
                      ensure_ascii=False)
        f.write("]")


def measure(path: Path, kind: str | None = None) -> tuple[str, int, float, float, str]:
    kind = kind or detect_kind(path)
    extractor = extractor_for(kind)
    ctx = ExtractContext(folder=path.parent, rel_path=path.name, work_dir=Path(tempfile.mkdtemp()))
    start = time.perf_counter()
    status = "ok"
    count = 0
    try:
        for _ in extractor(path, ctx):
            count += 1
    except Exception as e:  # report, keep going
        status = f"{type(e).__name__}: {e}"[:40]
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # process high-water mark so far
    return kind, count, elapsed, peak, status


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus-mb", type=float, default=60.0)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "long_context.json"
        make_corpus(corpus, args.corpus_mb)
        rows.append((f"generated corpus ({corpus.stat().st_size / 2**20:.0f} MB)", *measure(corpus, "corpus")))
    if SHARED.exists():
        for path in sorted(SHARED.glob("anchor-tasks/*/*")) + sorted(SHARED.glob("docs/*/*.*")):
            if path.is_file() and path.suffix.lower() in (".pdf", ".pptx", ".docx", ".xlsx", ".csv") \
                    or path.name.endswith("_128k.json"):
                rows.append((str(path.relative_to(SHARED))[-60:], *measure(path)))
    print(f"{'file':62} {'kind':7} {'passages':>8} {'seconds':>8} {'maxrss MB':>9}  status")
    for name, kind, count, secs, peak, status in rows:
        print(f"{name:62} {kind:7} {count:8d} {secs:8.2f} {peak:9.0f}  {status}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
