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


def _articles() -> list[dict[str, str]]:
    """Real articles from the shared corpora when present, else synthetic varied ones."""
    out: list[dict[str, str]] = []
    for path in sorted(SHARED.glob("anchor-tasks/*/long_context_sampled_*.json")) if SHARED.exists() else []:
        if path.stat().st_size:
            out += json.loads(path.read_text(encoding="utf-8"))
    if out:
        return out
    words = "数据 模型 治理 平台 监管 市场 消费 技术 政策 发展 风险 创新 服务 产业 标准".split()
    return [{"title": f"文章{i}",
             "page_body": "。".join("".join(words[(i * 7 + j * 3 + k) % len(words)] for k in range(9))
                                   for j in range(120)) + "。"} for i in range(500)]


def make_corpus(path: Path, megabytes: float) -> None:
    """Write a corpus of about ``megabytes`` MB by cycling through the available articles."""
    articles = _articles()
    limit = int(megabytes * 2**20)
    written = 0
    with path.open("w", encoding="utf-8") as f:
        f.write("[")
        i = 0
        while written < limit:
            art = dict(articles[i % len(articles)])
            art["title"] = f"{art.get('title', '')} #{i}"
            text = ("," if i else "") + json.dumps(art, ensure_ascii=False)
            f.write(text)
            written += len(text.encode())
            i += 1
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
