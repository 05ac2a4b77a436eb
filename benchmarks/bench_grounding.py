"""Grounding verdicts on the labelled claim/passage set (tests/data/grounding_pairs.jsonl).

The set holds claims written for sourcebook against 24 passages (12 zh, 12 en): verbatim quotes and
paraphrases (true), and hard negatives — altered numbers, swapped numbers, reversed direction, negation,
entity swap, absent facts, word salad (false). Passages alternate between a tuning half and a held-out half;
the verifier's thresholds were chosen on the tuning half only.

Prints, per half and per kind, the share of true claims accepted (quoted/supported) and the share of false
claims detected (contradicted/unsupported). Run: ``python benchmarks/bench_grounding.py [--split heldout]``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

from sourcebook.grounding.verify import verify_text

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "grounding_pairs.jsonl"


def load(split: str | None = None) -> list[dict]:
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if split in (None, "all", r["split"])]


def evaluate(rows: list[dict]) -> dict:
    """Verdict per row plus the two rates: true accepted, false detected (overall, per kind, per language)."""
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_lang: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    misses = []
    for r in rows:
        v = verify_text(r["claim"], r["passage"])
        ok = v.accepted if r["label"] == "true" else not v.accepted
        by_kind[r["kind"]][0] += ok
        by_kind[r["kind"]][1] += 1
        slot = 0 if r["label"] == "true" else 2
        by_lang[r["lang"]][slot] += ok
        by_lang[r["lang"]][slot + 1] += 1
        if not ok:
            misses.append({"id": r["id"], "kind": r["kind"], "verdict": v.verdict, "reason": v.reason,
                           "claim": r["claim"]})
    true = [r for r in rows if r["label"] == "true"]
    t_ok = sum(by_kind[k][0] for k in ("quote", "paraphrase"))
    f_ok = sum(v[0] for k, v in by_kind.items() if k not in ("quote", "paraphrase"))
    return {"pairs": len(rows), "true_accepted": t_ok / max(1, len(true)),
            "false_detected": f_ok / max(1, len(rows) - len(true)),
            "by_kind": {k: v[0] / v[1] for k, v in sorted(by_kind.items())},
            "by_lang": {k: {"true_accepted": v[0] / max(1, v[1]), "false_detected": v[2] / max(1, v[3])}
                        for k, v in sorted(by_lang.items())},
            "misses": misses}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="all", choices=["all", "tune", "heldout"])
    ap.add_argument("--misses", action="store_true", help="list the pairs judged wrongly")
    args = ap.parse_args()
    splits = ["tune", "heldout"] if args.split == "all" else [args.split]
    for split in splits:
        t0 = time.perf_counter()
        res = evaluate(load(split))
        dt = time.perf_counter() - t0
        print(f"{split:8s} pairs {res['pairs']:3d}  true accepted {res['true_accepted']:.1%}  "
              f"contradicted/unsupported detected {res['false_detected']:.1%}  ({dt:.1f} s)")
        for lang, d in res["by_lang"].items():
            print(f"  {lang}: true accepted {d['true_accepted']:.1%}, false detected {d['false_detected']:.1%}")
        print("  per kind: " + ", ".join(f"{k} {v:.0%}" for k, v in res["by_kind"].items()))
        if args.misses:
            for m in res["misses"]:
                print(f"    {m['id']} {m['kind']:10s} → {m['verdict']:12s} {m['reason'][:70]} | {m['claim'][:60]}")


if __name__ == "__main__":
    main()
