"""Section relevance on the labelled sentence set (tests/data/relevance_set.json).

The set holds sentences written for sourcebook for 10 section intents (6 zh, 4 en): on-topic sentences
(many without the request's own words) and off-topic ones — beverage marketing surveys, thesis formatting
rules, page furniture ("内容提供方：… 大小：53 KB"), unrelated provincial projects, and sentences sharing one
topic word but about something else. Whole intents are either in the tuning half or in the held-out half;
``report.topicality.MARGIN`` was chosen on the tuning half only.

Prints, per half, the share of on-topic sentences accepted and of off-topic sentences rejected (overall,
per kind, per language) by the contrastive e5 measure, the two margins the tuning half chooses (a grid in
steps of 0.002: the best worse-of-two rate, then the best sum, then the margins nearest zero) and, for
comparison, the writer's lexical rule on the same sentences.
Run: ``python benchmarks/bench_relevance.py [--misses]``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

from sourcebook.report.plan import request_keywords
from sourcebook.report.relevance import background_on_topic, on_topic, section_intent
from sourcebook.report.requirements import parse_request
from sourcebook.report.topicality import (
    REFERENCE_MARGIN,
    TOPIC_MARGIN,
    SectionTopic,
    TopicJudge,
    section_topic,
)

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "relevance_set.json"


def load() -> dict:
    """The labelled set: ``intents`` (id → request, section, lang, split) and ``sentences``."""
    return json.loads(DATA.read_text(encoding="utf-8"))


def topics(data: dict) -> dict[str, SectionTopic]:
    """The section topic of every intent, parsed from its request as the pipeline parses it."""
    out = {}
    for key, it in data["intents"].items():
        req = parse_request(it["request"])
        title = next(s for s in req.sections if s.startswith(it["section"]))
        out[key] = section_topic(req, title)
    return out


def score_all(data: dict, judge: TopicJudge | None = None) -> list[tuple[float, float]]:
    """The (topic margin, reference margin) of every sentence, in the set's order."""
    judge = judge or TopicJudge()
    tops = topics(data)
    by_intent: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(data["sentences"]):
        by_intent[r["intent"]].append(i)
    scores = [(0.0, 0.0)] * len(data["sentences"])
    for key, idx in by_intent.items():
        for i, m in zip(idx, judge.margins(tops[key], [data["sentences"][j]["text"] for j in idx]), strict=True):
            scores[i] = m
    return scores


def judged(scores: list[tuple[float, float]], topic_margin: float = TOPIC_MARGIN,
           reference_margin: float = REFERENCE_MARGIN) -> list[bool]:
    """On topic when both margins are reached."""
    return [t >= topic_margin and r >= reference_margin for t, r in scores]


def rates(data: dict, ok: list[bool], split: str) -> dict:
    """On-topic accepted and off-topic rejected shares of one half (``ok``: judged on topic)."""
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r, got in zip(data["sentences"], ok, strict=True):
        it = data["intents"][r["intent"]]
        if split != "all" and it["split"] != split:
            continue
        right = got if r["label"] == "on" else not got
        for key in (r["label"], f"kind:{r['kind']}", f"{it['lang']}:{r['label']}"):
            acc[key][0] += right
            acc[key][1] += 1
    return {k: (round(v[0] / v[1], 3), v[1]) for k, v in sorted(acc.items())}


def tune(data: dict, scores: list[tuple[float, float]]) -> tuple[float, float, tuple[float, float]]:
    """The margins the tuning half chooses on a grid of steps of 0.002 in [-0.03, 0.03]: the best worse
    rate (on-topic accepted, off-topic rejected), then the best sum of both, then the margins nearest zero;
    returns (topic margin, reference margin, their two tuning rates)."""
    grid = [round(-0.03 + 0.002 * i, 3) for i in range(31)]
    best: tuple = ()
    for tm in grid:
        for rm in grid:
            r = rates(data, judged(scores, tm, rm), "tune")
            on, off = r["on"][0], r["off"][0]
            key = (min(on, off), on + off, -(abs(tm) + abs(rm)))
            if not best or key > best[0]:
                best = (key, tm, rm, (on, off))
    return best[1], best[2], best[3]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--misses", action="store_true", help="list the held-out sentences judged wrongly")
    args = ap.parse_args()
    data = load()
    t0 = time.perf_counter()
    scores = score_all(data)
    secs = time.perf_counter() - t0
    n = len(data["sentences"])
    print(f"{n} sentences, {len(data['intents'])} intents; scored in {secs:.1f} s ({1000 * secs / n:.0f} ms each)")
    tm, rm, tune_rates = tune(data, scores)
    print(f"margins chosen on the tuning half: topic {tm:+.3f}, reference {rm:+.3f} (on accepted "
          f"{tune_rates[0]:.1%}, off rejected {tune_rates[1]:.1%}); in use: topic {TOPIC_MARGIN:+.3f}, "
          f"reference {REFERENCE_MARGIN:+.3f}")
    ok = judged(scores)
    lexical, background = [], []
    for r in data["sentences"]:
        it = data["intents"][r["intent"]]
        req = parse_request(it["request"])
        title = next(s for s in req.sections if s.startswith(it["section"]))
        intent = section_intent(title, request_keywords(req, top_k=10))
        lexical.append(on_topic(r["text"], intent))
        background.append(background_on_topic(r["text"], intent))
    print("\n| half | measure | on-topic accepted | off-topic rejected |")
    print("|---|---|---|---|")
    for split in ("tune", "heldout"):
        for name, verdicts in (("e5 contrastive", ok), ("writer's lexical rule", lexical),
                               ("writer's rule for corpus sentences", background)):
            r = rates(data, verdicts, split)
            print(f"| {split} | {name} | {r['on'][0]:.1%} ({r['on'][1]}) | {r['off'][0]:.1%} ({r['off'][1]}) |")
    print("\nheld-out, e5 contrastive, per kind / language:")
    for k, (v, cnt) in rates(data, ok, "heldout").items():
        if k not in ("on", "off"):
            print(f"  {k:22s} {v:.1%} of {cnt}")
    print("\nheld-out accuracy around the topic margin (sensitivity):")
    for d in (-0.006, -0.004, -0.002, 0.0, 0.002, 0.004, 0.006):
        r = rates(data, judged(scores, TOPIC_MARGIN + d), "heldout")
        print(f"  topic margin {TOPIC_MARGIN + d:+.3f}: on accepted {r['on'][0]:.1%}, off rejected {r['off'][0]:.1%}")
    for name, single in (("topic margin alone", judged(scores, TOPIC_MARGIN, -1.0)),
                         ("reference margin alone", judged(scores, -1.0, REFERENCE_MARGIN))):
        r = rates(data, single, "heldout")
        print(f"  {name}: on accepted {r['on'][0]:.1%}, off rejected {r['off'][0]:.1%}")
    if args.misses:
        print("\nheld-out sentences judged wrongly:")
        for r, (t, ref), got in zip(data["sentences"], scores, ok, strict=True):
            if data["intents"][r["intent"]]["split"] == "heldout" and got != (r["label"] == "on"):
                print(f"  {r['id']:13s} {r['kind']:11s} topic {t:+.3f} reference {ref:+.3f} {r['text'][:50]}")


if __name__ == "__main__":
    main()
