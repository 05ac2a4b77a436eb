"""Agent loop overhead per turn, excluding the model: 50 turns against the scripted LLM server.

Each turn the scripted model calls ``rag_search`` with a new query (so nothing is answered from the repeat
cache); the last turn answers. From the trace we take the time spent inside ``client.chat`` (HTTP + SDK +
server) and inside tools, and report what is left per turn: prompt assembly, compaction, trace writing,
bookkeeping. Target: ≤ 50 ms per turn excluding the LLM.

    python benchmarks/bench_agent_loop.py [--turns 50] [--provider openai|anthropic] [--dialect native|xml]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

WORDS = ["储能", "光伏", "电网", "电价", "负荷", "电池", "社区", "逆变器", "调度", "补贴", "peak", "tariff",
         "battery", "inverter", "grid", "solar", "storage", "demand", "policy", "cost"]


def make_folder(root: Path, files: int = 40) -> Path:
    folder = root / "task"
    folder.mkdir()
    for i in range(files):
        a, b, c = WORDS[i % len(WORDS)], WORDS[(i * 7 + 3) % len(WORDS)], WORDS[(i * 11 + 5) % len(WORDS)]
        body = "\n\n".join(
            f"第{j}段：{a}与{b}的关系在第{i}号试点中被测量，{c}指标提高了{(i * j) % 37}个百分点。"
            f" The {a}/{b} study {i}.{j} reports {c} changes of {(i + j) % 19} percent." for j in range(12))
        (folder / f"doc_{i:02d}.md").write_text(f"# 文档 {i}\n\n{body}\n", encoding="utf-8")
    return folder


def run(turns: int, provider: str, dialect: str, keep_last: int) -> dict[str, float]:
    from sourcebook.agent.loop import AgentLoop
    from sourcebook.config import get_settings
    from sourcebook.ingest.folder import ingest_folder
    from sourcebook.llm import RetryPolicy, make_client
    from sourcebook.llm.dialects import format_xml_tool_call
    from sourcebook.llm.scripted import ScriptedServer
    from sourcebook.llm.types import ToolCall
    from sourcebook.records import RunDir
    from sourcebook.tools.builtin import build_registry

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = make_folder(root)
        settings = get_settings(cache_dir=root / "cache", search={"dense": False})
        store = ingest_folder(folder, settings).store
        reg = build_registry(store, folder, settings, mount_external=False)
        script = []
        for i in range(turns - 1):
            args = {"query": f"{WORDS[i % len(WORDS)]} {WORDS[(i * 3 + 1) % len(WORDS)]} {i}", "k": 8}
            if dialect == "native":
                script.append({"tool_calls": [{"server": "tool-rag", "name": "rag_search", "arguments": args}]})
            else:
                script.append({"text": format_xml_tool_call(ToolCall("x", "tool-rag", "rag_search", args))})
        script.append({"text": "final answer [doc_01.md]"})
        reg.call("tool-rag", "rag_search", {"query": "warm up"})  # load the tokenizer/index once
        with ScriptedServer(script) as srv:
            llm = settings.llm.model_copy(update={
                "provider": provider, "dialect": dialect, "model": "scripted", "api_key": SecretStr("bench"),
                "base_url": srv.openai_base_url if provider == "openai" else srv.anthropic_base_url})
            client = make_client(llm, retry=RetryPolicy(max_retries=0))
            rd = RunDir.create(root / "runs", folder, "bench", settings)
            t0 = time.perf_counter()
            result = AgentLoop(client, reg, store, "写一份储能报告", rd, max_turns=turns + 5,
                               max_tokens=None, keep_last=keep_last).run()
            wall = time.perf_counter() - t0
        events = rd.events()
        reg.close()
        llm_s = sum(e["llm_s"] for e in events if e["type"] == "turn")
        tools_s = sum(e["elapsed_s"] for e in events if e["type"] == "tool")
        n = result.turns
        return {
            "turns": n, "wall_s": wall, "llm_s": llm_s, "tools_s": tools_s,
            "overhead_ms_per_turn_excl_llm": (wall - llm_s) / n * 1000,
            "overhead_ms_per_turn_excl_llm_tools": (wall - llm_s - tools_s) / n * 1000,
            "llm_ms_per_turn": llm_s / n * 1000,
            "tool_ms_per_call": tools_s / max(1, result.tool_calls) * 1000,
            "trace_kb": os.path.getsize(rd.trace_path) / 1024,
        }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=50)
    ap.add_argument("--provider", choices=["openai", "anthropic", "both"], default="both")
    ap.add_argument("--dialect", choices=["native", "xml"], default="native")
    ap.add_argument("--keep-last", type=int, default=4)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    providers = ["openai", "anthropic"] if args.provider == "both" else [args.provider]
    rows = [(p, run(args.turns, p, args.dialect, args.keep_last)) for p in providers]
    if args.json:
        print(json.dumps({p: r for p, r in rows}, indent=2))
        return 0
    cols = ["turns", "wall_s", "llm_s", "tools_s", "llm_ms_per_turn", "tool_ms_per_call",
            "overhead_ms_per_turn_excl_llm", "overhead_ms_per_turn_excl_llm_tools", "trace_kb"]
    print(f"agent loop, {args.turns} turns, dialect {args.dialect}, keep_last {args.keep_last} (target: ≤ 50 ms/turn "
          "excluding the LLM)")
    print(f"{'metric':<38}" + "".join(f"{p:>12}" for p, _ in rows))
    for c in cols:
        print(f"{c:<38}" + "".join(f"{r[c]:>12.2f}" if isinstance(r[c], float) else f"{r[c]:>12}" for _, r in rows))
    worst = max(r["overhead_ms_per_turn_excl_llm"] for _, r in rows)
    print(f"\nworst overhead per turn excluding the LLM: {worst:.1f} ms -> {'OK' if worst <= 50 else 'OVER TARGET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
