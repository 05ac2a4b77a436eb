"""A cited passage in context: the aligned span, the claim's verdict, and each kind's own view."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sourcebook import api
from sourcebook.web.passages import align_span, claim_verdict, highlighted, passage_view
from tests.docgen import make_image_with_text, make_pdf, make_pptx, make_xlsx


def test_align_span_finds_the_matching_sentence() -> None:
    text = ("The study ran for twelve months. Community batteries cut the evening peak by 18 percent. "
            "Residents reported fewer outages.")
    s, e = align_span("Batteries reduced the evening peak by 18 percent [3].", text)
    assert text[s:e] == "Community batteries cut the evening peak by 18 percent."
    zh = "试点为期一年。社区储能电站可以平滑屋顶光伏的出力波动。居民反映停电减少。"
    s, e = align_span("储能电站能平滑光伏出力波动", zh)
    assert zh[s:e] == "社区储能电站可以平滑屋顶光伏的出力波动。"
    assert align_span("completely unrelated words here", text) is None
    assert str(highlighted("<b>x</b> y", (9, 10))) == '&lt;b&gt;x&lt;/b&gt; <mark class="aligned">y</mark>'


def test_claim_verdicts_prefer_recorded_claims(tmp_path: Path) -> None:
    (tmp_path / "evidence.json").write_text(json.dumps({"support": [
        {"sentence": "Batteries cut the peak by 18 percent.", "passage_id": "p1", "score": 0.82, "supported": True},
        {"sentence": "Costs doubled.", "passage_id": "p1", "score": 0.1, "supported": False}]}), encoding="utf-8")
    v = claim_verdict(tmp_path, "p1", "Costs doubled")
    assert v["verdict"] == "not supported" and v["score"] == 0.1 and v["source"] == "support"
    assert claim_verdict(tmp_path, "p2", "Costs doubled") is None
    (tmp_path / "compliance.json").write_text(json.dumps({"checks": [], "claims": [
        {"claim": "Batteries cut the peak by 18 percent.", "passage_ids": ["p1"], "verdict": "entailed",
         "score": 0.91, "span": [4, 20]}]}), encoding="utf-8")
    v = claim_verdict(tmp_path, "p1", "Batteries cut the peak by 18 percent")
    assert v["verdict"] == "entailed" and v["span"] == [4, 20] and v["source"] == "claims"


@pytest.mark.slow
def test_views_per_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCEBOOK_SEARCH__DENSE", "false")
    folder = tmp_path / "task"
    folder.mkdir()
    make_pdf(folder / "study.pdf", ["Introduction to the pilot.", "Battery storage cut the evening peak by 18 "
                                    "percent. The pilot ran twelve months."])
    make_pptx(folder / "deck.pptx", [{"title": "Plan", "body": ["Phase one"]},
                                     {"title": "Costs", "body": ["Storage costs fell 40 percent"]}])
    make_xlsx(folder / "data.xlsx", {"Output": [["year", "MWh"], [2022, 120], [2023, 180], [2024, 260]]})
    make_image_with_text(folder / "sign.png", "GRID READY 2025")
    store = api.ingest(folder).store

    def find(source: str, needle: str) -> str:
        return next(p.id for p in store.passages(source) if needle in p.text)

    pdf = passage_view(store, find("study.pdf", "evening peak"), "storage reduced the evening peak by 18 percent")
    assert pdf.heading == "page 2" and "<mark" in str(pdf.text) and pdf.image_url is None
    assert any("Introduction" in n["text"] for n in pdf.neighbours)
    slide = passage_view(store, find("deck.pptx", "Storage costs"), "")
    assert slide.heading == "slide 2"
    sheet = passage_view(store, find("data.xlsx", "| 2024 | 260"), "")
    assert sheet.heading.startswith("sheet Output") and sheet.table and ["2024", "260"] in sheet.table
    image = passage_view(store, next(p.id for p in store.passages("sign.png")), "", media_url="/m/x")
    assert image.image_url == "/m/x" and "GRID" in str(image.text).upper()
    assert passage_view(store, "no-such-id") is None
