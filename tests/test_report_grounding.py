"""The report pipeline keeps to its subject and to its sources: an off-topic article corpus is never cited
by a no-LLM report, and a model that writes contradicted and uncited claims ends with those claims fixed or
removed (a real scripted HTTP model server on 127.0.0.1)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sourcebook.config import LLMSettings, get_settings
from sourcebook.ingest.folder import ingest_folder
from sourcebook.llm import make_client
from sourcebook.llm.scripted import ScriptedServer
from sourcebook.report.pipeline import build_report
from tests.report_corpus import EV_REQUEST, ZH_FILES, build_ev_report, make_folder


def test_off_topic_corpus_is_never_cited(tmp_path: Path):
    folder, store, settings, res = build_ev_report(tmp_path)
    md = res.paths["md"].read_text(encoding="utf-8")
    body, _, refs = md.partition("## 参考资料")
    assert "long_context" not in refs, refs
    for word in ("奶茶", "论文", "机器翻译", "足球", "前锋"):
        assert word not in body, word
    # the headings are the request's section names, without the bracketed instruction
    assert "## 发展现状\n" in md and "说明新能源汽车销量" not in md
    comp = json.loads((res.run_dir / "compliance.json").read_text(encoding="utf-8"))
    assert comp["not_used"] == [{"file": "long_context.json", "reason": "nothing relevant"}]
    inputs = next(c for c in comp["checks"] if c["name"] == "inputs_cited")
    assert inputs["passed"] is True and "long_context.json" in inputs["detail"]
    assert comp["claims"]["contradicted"] == comp["claims"]["unsupported"] == 0
    assert comp["section_relevance"] and set(comp["section_relevance"]) <= {"引言", "发展现状", "主要问题"}
    # short, not padded: the report says why
    length = next(c for c in comp["checks"] if c["name"] == "length")
    if length["passed"] is False:
        assert "少于要求" in md


_PASSAGE = re.compile(r"^\[@([A-Za-z0-9_\-:.]+)\] [^\n]*\n([^\n]+)", re.M)


class LyingModel:
    """Writes each section from its passages but alters a number in one sentence and adds an uncited
    invented sentence; asked to fix a claim, restates the passage sentence it was given."""

    def __init__(self) -> None:
        self.fix_requests = 0

    def __call__(self, req: dict) -> dict:
        prompt = next(m["content"] for m in req["messages"] if m["role"] == "user")
        if "改写这句话" in prompt:
            self.fix_requests += 1
            pid = re.search(r"\[@([^\]]+)\]：", prompt).group(1)
            passage = prompt.split(f"资料 [@{pid}]：\n", 1)[1]
            first = next(s for s in passage.split("。") if len(s.strip()) > 10).strip()
            return {"text": f"{first}[@{pid}]。"}
        if "judge whether" in prompt:
            n = len(re.findall(r"^\d+\. CLAIM:", prompt, re.M))
            return {"text": json.dumps([{"n": i + 1, "verdict": "supported", "reason": "ok"} for i in range(n)])}
        passages = _PASSAGE.findall(prompt)
        out = []
        for pid, text in passages[:4]:
            for s in [x.strip() for x in text.split("。") if len(x.strip()) > 10][:2]:
                out.append(f"{s}[@{pid}]。")
        if out:
            # a changed number in the first claim (12.4万辆 → 21.4万辆, 38% → 83% …)
            out[0] = re.sub(r"\d+(?:\.\d+)?", lambda m: m.group(0)[::-1] if len(m.group(0)) > 1 else "9", out[0], count=1)
        out.append("该市已建成全球规模最大的氢燃料公交网络，并计划明年全部替换柴油车。")
        return {"text": "".join(out)}


@pytest.fixture()
def store(tmp_path: Path):
    settings = get_settings(cache_dir=tmp_path / "cache")
    folder = make_folder(tmp_path / "folder", ZH_FILES)
    return settings, ingest_folder(folder, settings).store


def test_contradicted_and_uncited_claims_are_fixed_or_removed(store, tmp_path: Path):
    settings, st = store
    model = LyingModel()
    with ScriptedServer(default={"respond": model}) as srv:
        llm = LLMSettings(provider="openai", base_url=srv.openai_base_url, api_key="test", model="scripted",
                          max_retries=0, timeout_s=20)
        res = build_report(st, EV_REQUEST, settings, tmp_path / "run", client=make_client(llm))
    md = res.paths["md"].read_text(encoding="utf-8")
    assert "氢燃料公交" not in md                      # the uncited invented claim was removed
    assert "21.4万辆" not in md                        # the altered number did not survive
    rev = json.loads((res.run_dir / "revisions.json").read_text(encoding="utf-8"))
    actions = {a["action"] for a in rev["actions"]}
    assert actions & {"rewrite_claim", "recite", "drop_contradicted"}, actions
    assert "drop_unsupported" in actions
    comp = json.loads((res.run_dir / "compliance.json").read_text(encoding="utf-8"))
    assert comp["claims"]["contradicted"] == 0 and comp["claims"]["unsupported"] == 0, comp["claims_detail"]
    # the model's verdicts are recorded beside the offline ones
    assert any(c["llm"] == "supported" for c in comp["claims_detail"])
    grounded = next(c for c in comp["checks"] if c["name"] == "claims_grounded")
    assert grounded["passed"] is True


def test_model_verdict_is_kept_when_stricter(store, tmp_path: Path):
    """The model calls every claim contradicted: offline verdicts are recorded, the stricter one wins, and
    the report says so instead of passing."""
    settings, st = store

    def strict(req: dict) -> dict:
        prompt = next(m["content"] for m in req["messages"] if m["role"] == "user")
        if "judge whether" in prompt:
            n = len(re.findall(r"^\d+\. CLAIM:", prompt, re.M))
            return {"text": json.dumps([{"n": i + 1, "verdict": "contradicted", "reason": "numbers differ"}
                                        for i in range(n)])}
        return LyingModel()(req)

    with ScriptedServer(default={"respond": strict}) as srv:
        llm = LLMSettings(provider="openai", base_url=srv.openai_base_url, api_key="test", model="scripted",
                          max_retries=0, timeout_s=20)
        res = build_report(st, EV_REQUEST, settings, tmp_path / "run", client=make_client(llm))
    comp = json.loads((res.run_dir / "compliance.json").read_text(encoding="utf-8"))
    cited = [c for c in comp["claims_detail"] if c["passage_id"]]
    assert cited and all(c["verdict"] == "contradicted" and c["offline"] in ("quoted", "supported") for c in cited)
    assert next(c for c in comp["checks"] if c["name"] == "claims_grounded")["passed"] is False


def test_duplicates_check_flags_repeats_not_same_template_facts(tmp_path: Path) -> None:
    """A sentence repeated in another section is a duplicate; the same wording stating other numbers (one
    template, two tables) is another fact."""
    from sourcebook.report.measure import measure
    from sourcebook.report.requirements import parse_request
    from sourcebook.report.types import Draft, DraftSection

    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.md").write_text("确诊数据表按日期分列，覆盖2020-01-22至2023-03-09共1143个日期、289行，全部行的合计从557变为676570149。\n\n"
                                 "死亡数据表按日期分列，覆盖2020-01-22至2023-03-09共1143个日期、289行，全部行的合计从17变为6881802。\n",
                                 encoding="utf-8")
    store = ingest_folder(folder, get_settings()).store
    pid = store.search("确诊表", k=1, mode="bm25")[0].passage_id
    req = parse_request("写一篇关于疫情数据的短报告")
    s1 = f"数据表按日期分列，覆盖2020-01-22至2023-03-09共1143个日期、289行，全部行的合计从557变为676570149。[@{pid}]"
    s2 = f"数据表按日期分列，覆盖2020-01-22至2023-03-09共1143个日期、289行，全部行的合计从17变为6881802。[@{pid}]"
    fine = Draft("疫情数据", [DraftSection("概况", body=s1), DraftSection("细节", body=s2)])
    dup = Draft("疫情数据", [DraftSection("概况", body=s1), DraftSection("细节", body=s1)])
    assert measure(fine, req, store).duplicates == []
    assert len(measure(dup, req, store).duplicates) == 1
