"""Retrieval quality on CMRC 2018 (dev) in BEIR layout: MAP, nDCG@10 and Recall@10 per search mode and per
fusion setting.

The 848 passages of ``../shared/fixtures/retrieval/cmrc2018_zh/beir_dev/corpus.jsonl`` are written as an
article corpus ``[{title, page_body}]`` (one article per passage) into a temporary task folder and ingested
with ``ingest_folder``. Every hit maps back to its BEIR document through ``loc["article"]`` (the article's
position in the corpus). Dense vectors are computed for every passage up front, so ``dense`` ranks the whole
collection. Rankings are the distinct documents among the top ``--depth`` passages.

Embedding the collection is the slow part, so the store is kept in ``--cache`` (default ``.cache/bench``
in the repository; ``--fresh`` starts from an empty one) and query vectors are computed once per question
and reused across fusion settings.

``--hard`` keeps the questions that share the fewest words with their answer passage (the lowest quarter by
the share of the question's search tokens found in the passage), where keyword search struggles, and compares
BM25, hybrid before any vector is built (lazy: candidates embedded within the query budget, vectors kept for
later queries), dense scores over every passage, and hybrid once the dense index is complete.

Usage::

    python benchmarks/bench_retrieval.py [--limit 500] [--depth 100] [--no-fusion-grid] [--hard --fresh]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATASET = ROOT.parent / "shared" / "fixtures" / "retrieval" / "cmrc2018_zh" / "beir_dev"
SEED = 11


def load_beir(path: Path) -> tuple[list[dict], dict[str, str], dict[str, dict[str, int]]]:
    """(corpus rows, queries by id, qrels {query id: {doc id: grade}}) of a BEIR folder."""
    corpus = [json.loads(line) for line in (path / "corpus.jsonl").open(encoding="utf-8") if line.strip()]
    queries = {}
    for line in (path / "queries.jsonl").open(encoding="utf-8"):
        if line.strip():
            row = json.loads(line)
            queries[row["_id"]] = row["text"]
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with (path / "qrels.tsv").open(encoding="utf-8") as f:
        next(f)  # header
        for line in f:
            qid, did, grade = line.rstrip("\n").split("\t")
            if int(grade) > 0:
                qrels[qid][did] = int(grade)
    return corpus, queries, dict(qrels)


# ------------------------------------------------------------------------------------------------ metrics

def average_precision(ranked: list[str], relevant: dict[str, int]) -> float:
    hits, total = 0, 0.0
    for i, d in enumerate(ranked, 1):
        if d in relevant:
            hits += 1
            total += hits / i
    return total / len(relevant) if relevant else 0.0


def ndcg_at(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    dcg = sum((2 ** relevant[d] - 1) / math.log2(i + 1) for i, d in enumerate(ranked[:k], 1) if d in relevant)
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum((2 ** g - 1) / math.log2(i + 1) for i, g in enumerate(ideal, 1))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    return len(set(ranked[:k]) & set(relevant)) / len(relevant) if relevant else 0.0


# ------------------------------------------------------------------------------------------------ runs

def evaluate(store, doc_ids: list[str], queries: list[tuple[str, str]], qrels, mode: str,
             depth: int) -> dict[str, float]:
    """Mean metrics of ``mode`` over ``queries`` plus mean latency in ms."""
    ap = nd = rc = 0.0
    elapsed = 0.0
    for qid, text in queries:
        t = time.perf_counter()
        hits = store.search(text, k=depth, mode=mode)
        elapsed += time.perf_counter() - t
        ranked: list[str] = []
        for h in hits:
            i = h.loc.get("article")
            if isinstance(i, int) and 0 <= i < len(doc_ids) and doc_ids[i] not in ranked:
                ranked.append(doc_ids[i])
        rel = qrels[qid]
        ap += average_precision(ranked, rel)
        nd += ndcg_at(ranked, rel)
        rc += recall_at(ranked, rel)
    n = len(queries)
    return {"MAP": ap / n, "nDCG@10": nd / n, "R@10": rc / n, "ms": 1000 * elapsed / n}


def hard_questions(qids: list[str], queries: dict[str, str], qrels, texts: dict[str, str]) -> list[str]:
    """The quarter of questions whose search tokens are least present in their relevant passage."""
    from sourcebook.store.tokenize import tokenize

    def overlap(qid: str) -> float:
        q = set(tokenize(queries[qid]))
        doc = set()
        for d in qrels[qid]:
            doc |= set(tokenize(texts.get(d, "")))
        return len(q & doc) / max(1, len(q))

    ranked = sorted(qids, key=lambda q: (overlap(q), q))
    return sorted(ranked[: max(1, len(ranked) // 4)])


def main(argv: list[str] | None = None) -> int:
    """Ingest the collection, embed it, evaluate each mode and fusion setting, print a table."""
    parser = argparse.ArgumentParser(description="Retrieval quality per search mode on CMRC 2018 (BEIR).")
    parser.add_argument("--dataset", type=Path, default=DATASET)
    parser.add_argument("--limit", type=int, default=500, help="number of questions (seeded sample; 0 = all)")
    parser.add_argument("--depth", type=int, default=100, help="passages retrieved per query")
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "bench",
                        help="cache dir kept between runs (vectors of the collection)")
    parser.add_argument("--fresh", action="store_true", help="use an empty temporary cache dir")
    parser.add_argument("--no-fusion-grid", action="store_true", help="only the default hybrid setting")
    parser.add_argument("--hard", action="store_true", help="questions sharing few words with the answer")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)

    if not (args.dataset / "corpus.jsonl").exists():
        print(f"error: {args.dataset} not found (needs ../shared/fixtures)", file=sys.stderr)
        return 2

    from sourcebook.config import SearchSettings, get_settings
    from sourcebook.ingest.folder import ingest_folder
    from sourcebook.store import dense

    corpus, queries, qrels = load_beir(args.dataset)
    qids = sorted(q for q in qrels if q in queries)
    if args.hard:
        qids = hard_questions(qids, queries, qrels, {row["_id"]: row["text"] for row in corpus})
    if args.limit and args.limit < len(qids):
        qids = sorted(random.Random(SEED).sample(qids, args.limit))
    selected = [(q, queries[q]) for q in qids]
    doc_ids = [row["_id"] for row in corpus]


    with tempfile.TemporaryDirectory(prefix="sb-retrieval-") as tmp:
        cache = Path(tmp) / "cache" if args.fresh else args.cache
        folder = cache / "cmrc2018-task"
        folder.mkdir(parents=True, exist_ok=True)
        articles = [{"title": row.get("title") or "", "page_body": row["text"]} for row in corpus]
        payload = json.dumps(articles, ensure_ascii=False)
        target = folder / "long_context.json"
        if not target.exists() or target.read_text(encoding="utf-8") != payload:
            target.write_text(payload, encoding="utf-8")
        settings = get_settings(cache_dir=cache)
        settings.search.background_index = False  # this benchmark embeds in the foreground
        t0 = time.perf_counter()
        report = ingest_folder(folder, settings)
        ingest_s = time.perf_counter() - t0
        store = report.store
        base = settings.search
        rows = []

        def run(label: str, mode: str, search_settings: SearchSettings) -> None:
            store.settings = settings.model_copy(update={"search": search_settings})
            metrics = evaluate(store, doc_ids, selected, qrels, mode, args.depth)
            rows.append((label, metrics))
            print(f"  {label:<48} MAP {metrics['MAP']:.3f}  nDCG@10 {metrics['nDCG@10']:.3f}  "
                  f"R@10 {metrics['R@10']:.3f}  {metrics['ms']:.0f} ms/query", flush=True)

        before = store.dense_progress(store.searcher.embedder.model_id)[0]
        if args.hard:
            run("bm25", "bm25", base)
            run(f"hybrid, lazy ({before} vectors before the first query)", "hybrid", base)
        t0 = time.perf_counter()
        embedded = dense.prewarm(store)
        embed_s = time.perf_counter() - t0
        print(f"collection: {len(corpus)} documents -> {report.passages} passages "
              f"(ingest {ingest_s:.1f} s, embedding {embedded} passages {embed_s:.1f} s); "
              f"{len(selected)} questions, depth {args.depth}")

        configs: list[tuple[str, str, SearchSettings]] = [
            ("dense over every passage (e5-small)", "dense", base),
            (f"hybrid, dense index complete ({base.fusion}, w={base.dense_weight})", "hybrid", base),
        ]
        if not args.hard:
            configs.insert(0, ("bm25", "bm25", base))
        if not args.no_fusion_grid:
            for k in (10, 30, 60):
                for w in (0.2, 0.3, 0.5):
                    if (base.fusion, base.rrf_k, base.dense_weight) == ("rrf", k, w):
                        continue
                    configs.append((f"hybrid rrf k={k} w={w}", "hybrid",
                                    base.model_copy(update={"fusion": "rrf", "rrf_k": k, "dense_weight": w})))
            for w in (0.1, 0.2, 0.25, 0.3, 0.4, 0.5):
                configs.append((f"hybrid weighted w={w}", "hybrid",
                                base.model_copy(update={"fusion": "weighted", "dense_weight": w})))
            for n in (20, 100):
                configs.append((f"hybrid default, {n} dense candidates", "hybrid",
                                base.model_copy(update={"dense_candidates": n})))

        store.search("预热", k=1, mode="dense")  # load the embedding model outside the timings
        for label, mode, search_settings in configs:
            run(label, mode, search_settings)
        store.settings = settings

    width = max(len(r[0]) for r in rows)
    print(f"\n{'setting':<{width}}  {'MAP':>6}  {'nDCG@10':>7}  {'R@10':>6}  {'ms/q':>6}")
    print("-" * (width + 36))
    for label, m in rows:
        print(f"{label:<{width}}  {m['MAP']:6.3f}  {m['nDCG@10']:7.3f}  {m['R@10']:6.3f}  {m['ms']:6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
