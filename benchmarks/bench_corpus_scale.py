"""Scale benchmark: ingest and search a ≥ 12,000-article, ≥ 60 MB article corpus.

The corpus is built from the real ``long_context_sampled_*.json`` files of ``../shared/fixtures/anchor-tasks``:
articles are de-duplicated by a hash of title + body, then replicated with distinct titles (suffix
" (副本 N)") and EVERY sentence marked with the copy number, so no passage text of a copy equals any other
(no vector cached by text hash can be reused across copies). It is written as a single
``long_context.json`` into a temporary task folder. Queries are distinct.

Measured:
  * cold ingest + index time (``ingest_folder`` with a fresh cache dir), in a child process, with its peak RSS;
  * warm query latency p50/p95 over ``--queries`` distinct queries (titles and body phrases sampled from
    the corpus), for ``bm25`` and ``hybrid`` — hybrid on its first pass (no vector built yet: candidates
    embedded lazily within the query's time budget), on a second pass over the same queries (repeated), and
    after the dense index is complete — with the query process's peak RSS. A complete e5 index of this
    corpus takes hours on two cores, so "complete" is simulated by storing a random unit vector for every
    passage: that measures the cost of scoring every vector, not the quality (see bench_hard_retrieval.py);
  * a fresh ``sourcebook search`` process, wall time.

Targets: cold index ≤ 60 s; new-query hybrid p50 ≤ 1 s, p95 ≤ 2 s; fresh-process search ≤ 2 s.

Usage::

    python benchmarks/bench_corpus_scale.py [--articles 12000] [--min-mb 60] [--queries 100] [--keep DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures"
SEED = 7
_SENTENCE_END = re.compile(r"(?<=[。！？!?])")


def load_unique_articles(fixtures: Path) -> list[dict[str, str]]:
    """Every article of the anchor-task corpora, de-duplicated by title + body."""
    seen: set[str] = set()
    out: list[dict[str, str]] = []
    for path in sorted(fixtures.glob("anchor-tasks/*/long_context_sampled_*.json")):
        try:
            items = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            print(f"  skipping {path}: {exc}", file=sys.stderr)
            continue
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            title = str(item.get("title") or "").strip()
            body = str(item.get("page_body") or "").strip()
            if not body:
                continue
            key = hashlib.sha1(f"{title}\x00{body}".encode()).hexdigest()
            if key not in seen:
                seen.add(key)
                out.append({"title": title, "page_body": body})
    return out


def _vary(body: str, copy: int, rng: random.Random) -> str:
    """The body with every sentence marked by the copy number (and a random tag), so that no passage of a
    copy equals a passage of another copy."""
    sentences = [s for s in _SENTENCE_END.split(body) if s]
    tag = f"{rng.randrange(10**6):06d}"
    return "".join(f"{s}〔{copy}-{tag}〕" for s in sentences) or f"〔{copy}-{tag}〕{body}"


def build_corpus(unique: list[dict[str, str]], articles: int, min_bytes: int) -> list[dict[str, str]]:
    """Replicate ``unique`` with distinct titles until ≥ ``articles`` items and ≥ ``min_bytes`` of JSON."""
    rng = random.Random(SEED)
    out = list(unique)
    size = sum(len(json.dumps(a, ensure_ascii=False).encode()) + 2 for a in out)
    copy = 1
    while len(out) < articles or size < min_bytes:
        for a in unique:
            item = {"title": f"{a['title']} (副本 {copy})", "page_body": _vary(a["page_body"], copy, rng)}
            out.append(item)
            size += len(json.dumps(item, ensure_ascii=False).encode()) + 2
            if len(out) >= articles and size >= min_bytes:
                break
        copy += 1
    return out


def sample_queries(corpus: list[dict[str, str]], n: int) -> list[str]:
    """Half article titles, half phrases of 8–16 characters cut from body sentences (seeded)."""
    rng = random.Random(SEED + 1)
    queries: list[str] = []
    while len(queries) < n:
        queries = list(dict.fromkeys(queries))  # distinct
        a = rng.choice(corpus)
        if len(queries) % 2 == 0 and a["title"]:
            queries.append(re.sub(r" \(副本 \d+\)$", "", a["title"])[:60])
        else:
            sentences = [s for s in _SENTENCE_END.split(a["page_body"]) if len(s) >= 12]
            if not sentences:
                continue
            s = rng.choice(sentences)
            length = rng.randint(8, 16)
            start = rng.randrange(0, max(1, len(s) - length))
            queries.append(s[start:start + length])
    return queries


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


# ------------------------------------------------------------------------------------------------ children

def child_ingest(folder: Path, cache: Path) -> None:
    """(child process) Cold ingest + index; prints a JSON line with timings and peak RSS."""
    from sourcebook.config import get_settings
    from sourcebook.ingest.folder import ingest_folder

    settings = get_settings(cache_dir=cache)
    settings.search.background_index = False  # measured separately: it would take the cores for hours
    t0 = time.perf_counter()
    report = ingest_folder(folder, settings)
    seconds = time.perf_counter() - t0
    statuses = {s.path: f"{s.status} {s.reason}".strip() for s in report.sources}
    store_bytes = sum(p.stat().st_size for p in report.store.dir.rglob("*") if p.is_file())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # worker processes, if ingest uses any
    print(json.dumps({"seconds": seconds,
                      "cpu_s": usage.ru_utime + usage.ru_stime + kids.ru_utime + kids.ru_stime,
                      "child_rss_mb": kids.ru_maxrss / 1024,
                      "passages": report.passages, "statuses": statuses,
                      "store_mb": store_bytes / 1e6,
                      "rss_mb": usage.ru_maxrss / 1024}))


def child_query(folder: Path, cache: Path, queries_file: Path, hybrid_queries: int) -> None:
    """(child process) Warm query latencies per mode; prints a JSON line. Hybrid runs on the first
    ``hybrid_queries`` queries only: its first pass embeds up to ``dense_candidates`` passages per query."""
    from sourcebook.config import get_settings
    from sourcebook.store import open_store

    settings = get_settings(cache_dir=cache)
    store = open_store(folder, settings)
    queries = json.loads(queries_file.read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    store.search(queries[0], k=10, mode="bm25")  # loads the index
    load_s = time.perf_counter() - t0
    result: dict[str, object] = {"index_load_s": load_s}
    def timed(label: str, mode: str, qs: list[str]) -> None:
        times, cpu, empty = [], [], 0
        for q in qs:
            t, c = time.perf_counter(), time.thread_time()
            hits = store.search(q, k=10, mode=mode)
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.thread_time() - c) * 1000)
            empty += not hits
        result[label] = {"p50": _pct(times, 0.5), "p95": _pct(times, 0.95), "mean": statistics.fmean(times),
                         "cpu_p50": _pct(cpu, 0.5), "cpu_p95": _pct(cpu, 0.95), "empty": empty, "n": len(times)}

    timed("bm25", "bm25", queries)
    store.search("预热", k=10, mode="hybrid")  # load the embedding model outside the timings
    timed("hybrid, new queries, no vectors yet", "hybrid", queries[:hybrid_queries])
    timed("hybrid, repeated queries", "hybrid", queries[:hybrid_queries])
    # the dense index complete: a (random) unit vector for every passage
    import numpy as np

    from sourcebook.store.embedder import get_embedder

    model = get_embedder(settings).model_id
    pending = store.pending_embeddings(model)
    rng = np.random.default_rng(SEED)
    for i in range(0, len(pending), 5000):
        part = pending[i:i + 5000]
        vecs = rng.standard_normal((len(part), 384)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        store.put_embeddings([(h, v.tobytes()) for (h, _), v in zip(part, vecs, strict=True)], model)
    result["vectors"] = store.dense_progress(model)[0]
    t, c = time.perf_counter(), time.thread_time()
    store.searcher.dense_cache()
    result["vector_load_s"] = time.perf_counter() - t
    result["vector_load_cpu_s"] = time.thread_time() - c
    fresh = queries[hybrid_queries:2 * hybrid_queries]
    timed("hybrid, new queries, index complete", "hybrid", fresh)
    result["load"] = os.getloadavg()[1]
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _run_child(*args: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"child {args[0]} failed with exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------------ main

def main(argv: list[str] | None = None) -> int:
    """Build the corpus, run the ingest and query children, print a table."""
    parser = argparse.ArgumentParser(description="Scale benchmark over a ≥ 12k-article corpus.")
    parser.add_argument("--articles", type=int, default=12_000)
    parser.add_argument("--min-mb", type=float, default=60.0)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--hybrid-queries", type=int, default=30,
                        help="queries timed in hybrid mode (its first pass embeds BM25 candidates: slow)")
    parser.add_argument("--fixtures", type=Path, default=FIXTURES)
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it (default: a temp dir)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)

    if args.child:
        kind, *rest = args.child
        if kind == "ingest":
            child_ingest(Path(rest[0]), Path(rest[1]))
        else:
            child_query(Path(rest[0]), Path(rest[1]), Path(rest[2]), int(rest[3]))
        return 0

    if not (args.fixtures / "anchor-tasks").is_dir():
        print(f"error: {args.fixtures / 'anchor-tasks'} not found (needs ../shared/fixtures)", file=sys.stderr)
        return 2
    unique = load_unique_articles(args.fixtures)
    if not unique:
        print("error: no articles found in the anchor-task corpora", file=sys.stderr)
        return 2
    corpus = build_corpus(unique, args.articles, int(args.min_mb * 1e6))

    with tempfile.TemporaryDirectory(prefix="sb-scale-") as tmp:
        base = args.keep or Path(tmp)
        folder, cache = base / "task", base / "cache"
        shutil.rmtree(cache, ignore_errors=True)  # always a cold ingest
        folder.mkdir(parents=True, exist_ok=True)
        corpus_path = folder / "long_context.json"
        corpus_path.write_text(json.dumps(corpus, ensure_ascii=False), encoding="utf-8")
        size_mb = corpus_path.stat().st_size / 1e6
        queries_file = base / "queries.json"
        queries_file.write_text(json.dumps(sample_queries(corpus, args.queries), ensure_ascii=False),
                                encoding="utf-8")
        print(f"corpus: {len(unique):,} unique articles -> {len(corpus):,} articles, {size_mb:.1f} MB")

        ing = _run_child("--child", "ingest", str(folder), str(cache))
        ing_load = os.getloadavg()[1]
        status = ing["statuses"].get("long_context.json", "?")
        qry = _run_child("--child", "query", str(folder), str(cache), str(queries_file), str(args.hybrid_queries))
        cli = shutil.which("sourcebook", path=str(Path(sys.executable).parent)) or "sourcebook"
        env = dict(os.environ, SOURCEBOOK_CACHE_DIR=str(cache), SOURCEBOOK_SEARCH__BACKGROUND_INDEX="false")
        t = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([cli, "search", str(folder), "潮汐能源政策的新问题", "-k", "5", "--json"], env=env,
                       capture_output=True, check=True)
        cli_s = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cli_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime

    rows = [
        ("articles / corpus size", f"{len(corpus):,} / {size_mb:.1f} MB", ""),
        ("passages indexed", f"{ing['passages']:,}", f"status: {status}"),
        ("cold ingest + index", f"{ing['seconds']:.1f} s", f"target ≤ 60 s; CPU time {ing['cpu_s']:.1f} s "
                                                           "(process + its workers, incl. imports)"),
        ("load average during ingest", f"{ing_load:.1f}", f"{os.cpu_count()} CPUs; > CPUs means a shared machine"),
        ("store on disk", f"{ing['store_mb']:.0f} MB", ""),
        ("peak RSS, ingest process", f"{ing['rss_mb']:.0f} MB",
         f"largest worker process: {ing['child_rss_mb']:.0f} MB" if ing["child_rss_mb"] else ""),
        ("index load (first query)", f"{qry['index_load_s'] * 1000:.0f} ms", ""),
        ("fresh `sourcebook search` process", f"{cli_s:.2f} s", f"CPU {cli_cpu:.2f} s; target ≤ 2 s "
                                                                "(new query, complete index)"),
        ("vectors in the complete index", f"{qry['vectors']:,}", f"loaded in {qry['vector_load_s']:.1f} s (CPU {qry['vector_load_cpu_s']:.1f} s)"),
    ]
    for label in ("bm25", "hybrid, new queries, no vectors yet", "hybrid, repeated queries",
                  "hybrid, new queries, index complete"):
        m = qry[label]
        rows.append((f"{label} p50 / p95", f"{m['p50']:.1f} / {m['p95']:.1f} ms",
                     f"CPU {m['cpu_p50']:.1f} / {m['cpu_p95']:.1f} ms; n={m['n']}, {m['empty']} empty"))
    rows.append(("peak RSS, query process", f"{qry['rss_mb']:.0f} MB", f"load average {qry['load']:.1f}"))
    width = max(len(r[0]) for r in rows)
    print(f"\n{'measure':<{width}}  {'value':<24} note")
    print("-" * (width + 60))
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:<24} {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
