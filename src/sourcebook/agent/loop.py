"""The agent loop: the model calls tools over the task folder until it answers; every step goes to the trace.

One turn = one model call. A turn with tool calls runs them (identical repeats are answered from a cache) and
appends their results; a turn without tool calls and with text is the final answer. Older tool results are
compacted before each call. When turns or tokens run out, or the model keeps replying empty, the model is
asked once more without tools; if that yields nothing, the answer is an extractive summary of the evidence
gathered, so the final text is never empty.

Trace events (``run_dir/trace.jsonl``): ``start`` (system prompt, request, tools, limits), ``turn`` (messages
added since the previous call, the response, usage, timings), ``tool`` (one per call: arguments, result,
passage ids, elapsed time, cached flag), ``llm_error``, ``resume``, ``final``. :func:`resume` rebuilds the run
from those events: recorded responses and tool results are replayed, not repeated, then the loop continues.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sourcebook.agent import prompt as P
from sourcebook.agent.budget import Budget
from sourcebook.agent.compaction import compact
from sourcebook.llm.types import ChatClient, ChatResponse, ToolCall, Usage, tool_result_message
from sourcebook.records.run_dir import RunDir
from sourcebook.report.types import CITE_MARKER
from sourcebook.summary import folder_summary
from sourcebook.tools.registry import ToolRegistry, passage_ids_in

MAX_EMPTY_REPLIES = 2
MAX_LLM_FAILURES = 2
EXTRACTIVE_PASSAGES = 8


@dataclass
class AgentResult:
    """What the loop hands to the report stage."""

    final_text: str
    passage_ids: list[str]
    turns: int
    usage: Usage
    run_dir: Path
    stopped: str = "answer"      # answer | max_turns | token_budget | empty | llm_error
    tool_calls: int = 0
    extractive: bool = False     # True when the final text was assembled from evidence, not written by the model
    boxed: str | None = None
    resumed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "final_text": self.final_text, "passage_ids": self.passage_ids, "turns": self.turns,
            "usage": {"prompt_tokens": self.usage.prompt_tokens,
                      "completion_tokens": self.usage.completion_tokens},
            "run_dir": str(self.run_dir), "stopped": self.stopped, "tool_calls": self.tool_calls,
            "extractive": self.extractive, "boxed": self.boxed, "resumed": self.resumed,
        }


# ---------------------------------------------------------------------------------------------------------
# (de)serializing responses for the trace
# ---------------------------------------------------------------------------------------------------------
def response_to_dict(r: ChatResponse) -> dict[str, Any]:
    return {
        "text": r.text,
        "tool_calls": [{"id": c.id, "server": c.server, "name": c.name, "arguments": c.arguments,
                        "error": c.error} for c in r.tool_calls],
        "usage": {"prompt_tokens": r.usage.prompt_tokens, "completion_tokens": r.usage.completion_tokens},
        "model": r.model,
        "finish_reason": r.finish_reason,
    }


def response_from_dict(d: dict[str, Any]) -> ChatResponse:
    u = d.get("usage") or {}
    return ChatResponse(
        text=d.get("text") or "",
        tool_calls=[ToolCall(c["id"], c.get("server", ""), c.get("name", ""), c.get("arguments") or {},
                             c.get("error")) for c in d.get("tool_calls") or []],
        usage=Usage(int(u.get("prompt_tokens", 0)), int(u.get("completion_tokens", 0))),
        model=d.get("model", ""),
        finish_reason=d.get("finish_reason", ""),
    )


def call_key(c: ToolCall) -> str:
    """Identity of a call for repeat detection: tool + canonical arguments."""
    return f"{c.server}/{c.name}:" + json.dumps(c.arguments, sort_keys=True, ensure_ascii=False)


# ---------------------------------------------------------------------------------------------------------
# replay of a previous (killed) run
# ---------------------------------------------------------------------------------------------------------
@dataclass
class Replay:
    """Recorded model responses (by call sequence number) and tool results (by call id) of a trace."""

    responses: dict[int, ChatResponse] = field(default_factory=dict)
    failed: set[int] = field(default_factory=set)
    tool_results: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_events(cls, events: list[dict[str, Any]]) -> Replay:
        rp = cls()
        for e in events:
            if e.get("type") == "turn" and "seq" in e:
                rp.responses[int(e["seq"])] = response_from_dict(e["response"])
            elif e.get("type") == "llm_error" and "seq" in e:
                rp.failed.add(int(e["seq"]))
            elif e.get("type") == "tool" and e.get("call_id"):
                rp.tool_results[e["call_id"]] = e
        return rp


# ---------------------------------------------------------------------------------------------------------
# the loop
# ---------------------------------------------------------------------------------------------------------
class AgentLoop:
    """One run of the agent over a store with a registry of tools."""

    def __init__(
        self,
        client: ChatClient | None,
        registry: ToolRegistry,
        store: Any,
        request: str,
        run_dir: RunDir,
        *,
        max_turns: int = 20,
        max_tokens: int | None = 500_000,
        keep_last: int = 4,
        summary_chars: int = 16_000,
        on_event: Callable[[dict[str, Any]], None] | None = None,
        system: str | None = None,
        replay: Replay | None = None,
    ) -> None:
        self.client = client
        self.registry = registry
        self.store = store
        self.request = request
        self.run_dir = run_dir
        self.budget = Budget(max_turns=max_turns, max_tokens=max_tokens)
        self.keep_last = keep_last
        self.summary_chars = summary_chars
        self.on_event = on_event
        self.replay = replay or Replay()
        self.resumed = replay is not None
        self.tools = registry.specs()
        self.system = system
        self.messages: list[dict[str, Any]] = []
        self.sent = 0                       # messages already sent (for the trace's delta)
        self.seq = 0                        # model calls so far (incl. the final one without tools)
        self.cache: dict[str, tuple[int, str]] = {}
        self.gathered: list[str] = []
        self.n_tool_calls = 0
        self.llm_s = 0.0
        self.tools_s = 0.0
        self._trace = run_dir.trace()

    # -- trace --------------------------------------------------------------------------------------------
    def _event(self, type_: str, **fields: Any) -> None:
        event = self._trace.write(type_, **fields)
        if self.on_event is not None:
            self.on_event(event)

    # -- one model call -----------------------------------------------------------------------------------
    def _ask(self, use_tools: bool, phase: str) -> ChatResponse | None:
        """Call the model (or replay its recorded answer); None when the call failed for good."""
        self.seq += 1
        payload, compacted = compact(self.messages, self.keep_last)
        # tool results are already in their own ``tool`` events; the delta refers to them by call id
        delta = [{"role": "tool", "tool_call_id": m.get("tool_call_id"), "chars": len(m.get("content") or ""),
                  "content": "(see the tool event)"} if m.get("role") == "tool" else m
                 for m in self.messages[self.sent:]]
        self.sent = len(self.messages)
        recorded = self.replay.responses.get(self.seq)
        if recorded is not None:
            resp = recorded
        elif self.seq in self.replay.failed and self.seq < max(self.replay.responses, default=0):
            return None  # this call failed in the recorded run, and the run went on after it
        else:
            if self.client is None:
                return None
            t0 = time.perf_counter()
            try:
                resp = self.client.chat(payload, self.tools if use_tools else None)
            except Exception as e:  # retries are the client's job; here a failure only ends this attempt
                self._event("llm_error", seq=self.seq, turn=self.budget.turns, phase=phase,
                            error=f"{type(e).__name__}: {e}")
                return None
            llm_s = time.perf_counter() - t0
            self.llm_s += llm_s
            recorded_resp = response_to_dict(resp)
            self._event("turn", seq=self.seq, turn=self.budget.turns, phase=phase, messages_delta=delta,
                        compacted=compacted, response=recorded_resp, llm_s=round(llm_s, 4),
                        usage=recorded_resp["usage"])
        self.budget.charge(resp.usage)
        return resp

    # -- one tool call ------------------------------------------------------------------------------------
    def _run_call(self, call: ToolCall) -> str:
        """Run (or replay, or answer from the repeat cache) one call and return the text for the model."""
        self.n_tool_calls += 1
        done = self.replay.tool_results.get(call.id)
        if done is not None:
            text = done.get("result", "")
            self._note_ids(done.get("passage_ids") or passage_ids_in(text))
            self.cache.setdefault(call_key(call), (int(done.get("turn", 0)), text))
            return text
        t0 = time.perf_counter()
        key = call_key(call)
        cached = False
        ids: list[str] = []
        error: str | None = None
        if call.error:
            error = call.error
            text = f"ERROR: {call.error}. Fix the call and try again."
        elif key in self.cache:
            turn0, prev = self.cache[key]
            cached = True
            text = (f"{prev}\n\n[note: this exact call was already made in turn {turn0}; the same result is "
                    "shown again. Try a different query or another tool.]")
        else:
            res = self.registry.call(call.server, call.name, call.arguments)
            text, ids, error = res.text, res.passage_ids, res.error
            self.cache[key] = (self.budget.turns, text)
        elapsed = time.perf_counter() - t0
        self.tools_s += elapsed
        self._note_ids(ids)
        self._event("tool", turn=self.budget.turns, call_id=call.id, server=call.server, name=call.name,
                    arguments=call.arguments, result=text, error=error, passage_ids=ids, cached=cached,
                    elapsed_s=round(elapsed, 4))
        return text

    def _note_ids(self, ids: list[str]) -> None:
        for pid in ids:
            if pid not in self.gathered:
                self.gathered.append(pid)

    # -- endings ------------------------------------------------------------------------------------------
    def _final_without_tools(self, nudge: str) -> str:
        self.messages.append({"role": "user", "content": nudge})
        resp = self._ask(use_tools=False, phase="final")
        text = (resp.text if resp else "").strip()
        if text:
            self.messages.append({"role": "assistant", "content": text})
        return text

    def _extractive(self) -> str:
        """An honest answer built from the gathered passages when the model gave none."""
        passages = [p for p in (self.store.get_passage(pid) for pid in self.gathered) if p is not None]
        if not passages:
            try:
                hits = self.store.search(self.request, k=EXTRACTIVE_PASSAGES, diverse=True)
            except Exception:
                hits = []
            passages = [p for p in (self.store.get_passage(h.passage_id) for h in hits) if p is not None]
            self._note_ids([p.id for p in passages])
        lines = ["No answer was produced by the model; the most relevant evidence found in the folder:"]
        for p in passages[:EXTRACTIVE_PASSAGES]:
            text = " ".join(p.text.split())
            lines.append(f"- {text[:400]}{'…' if len(text) > 400 else ''} {p.label} [@{p.id}]")
        if len(lines) == 1:
            lines.append("- (no passages found)")
        return "\n".join(lines)

    # -- the run ------------------------------------------------------------------------------------------
    def _start(self) -> None:
        if self.system is None:
            summary = folder_summary(self.store, max_chars=self.summary_chars)
            self.system = P.system_prompt(self.tools, summary, self.request)
        self.messages = [{"role": "system", "content": self.system}, {"role": "user", "content": self.request}]
        if self.resumed:
            self._event("resume", recorded_calls=len(self.replay.responses),
                        recorded_tools=len(self.replay.tool_results))
        else:
            self._event("start", request=self.request, system=self.system, max_turns=self.budget.max_turns,
                        max_tokens=self.budget.max_tokens, keep_last=self.keep_last,
                        tools=[f"{t.server}/{t.name}" for t in self.tools],
                        model=getattr(self.client, "model", ""))

    def run(self) -> AgentResult:
        """Run until the model answers or a limit is reached; always returns a non-empty final text."""
        t_start = time.perf_counter()
        self._start()
        final, stopped = "", "answer"
        empties = failures = 0
        while not self.budget.exhausted:
            self.budget.turns += 1
            resp = self._ask(use_tools=True, phase="tools")
            if resp is None:
                failures += 1
                if failures >= MAX_LLM_FAILURES or self.client is None:
                    stopped = "llm_error"
                    break
                continue
            failures = 0
            self.messages.append(resp.to_message())
            if resp.tool_calls:
                for call in resp.tool_calls:
                    text = self._run_call(call)
                    self.messages.append(tool_result_message(call, text))
                continue
            if resp.text.strip():
                final = resp.text.strip()
                break
            empties += 1
            if empties >= MAX_EMPTY_REPLIES:
                stopped = "empty"
                break
            self.messages.append({"role": "user", "content": P.EMPTY_NUDGE})
        else:
            stopped = self.budget.stop_reason()

        extractive = False
        if not final and stopped != "llm_error":
            final = self._final_without_tools(P.FINAL_NUDGE)
        if not final:
            final, extractive = self._extractive(), True
        boxed = P.boxed_answer(final)
        if boxed is None and P.wants_boxed(self.request) and not extractive:
            again = self._final_without_tools(P.BOXED_NUDGE)
            boxed = P.boxed_answer(again)
            if boxed is not None:
                final = f"{final}\n\n\\boxed{{{boxed}}}"
        self._note_ids([pid for pid in passage_ids_in_answer(final) if self.store.get_passage(pid)])
        result = AgentResult(
            final_text=final, passage_ids=list(self.gathered), turns=self.budget.turns,
            usage=self.budget.used, run_dir=self.run_dir.path, stopped=stopped, tool_calls=self.n_tool_calls,
            extractive=extractive, boxed=boxed, resumed=self.resumed,
        )
        self._event("final", **result.to_dict(), llm_s=round(self.llm_s, 4), tools_s=round(self.tools_s, 4),
                    wall_s=round(time.perf_counter() - t_start, 4))
        self.run_dir.write_json("agent_result.json", result.to_dict())
        return result


def passage_ids_in_answer(text: str) -> list[str]:
    """Ids cited in the ``[@id]`` form."""
    return list(dict.fromkeys(CITE_MARKER.findall(text or "")))


# ---------------------------------------------------------------------------------------------------------
# entry points
# ---------------------------------------------------------------------------------------------------------
@contextmanager
def _registry(store: Any, settings: Any, registry: ToolRegistry | None,
              out_dir: Path | None = None) -> Iterator[ToolRegistry]:
    """``registry`` as given, or the built-in one of ``store``'s folder (closed afterwards); files the
    tools write (charts) go to ``out_dir``."""
    if registry is not None:
        yield registry
        return
    from sourcebook.tools.builtin import build_registry

    own = build_registry(store, Path(store.folder), settings, out_dir=out_dir)
    try:
        yield own
    finally:
        own.close()


def run_agent(
    client: ChatClient | None,
    store: Any,
    request: str,
    run_dir: RunDir,
    registry: ToolRegistry | None = None,
    settings: Any = None,
    **kwargs: Any,
) -> AgentResult:
    """Run the agent over ``store`` for ``request``, recording into ``run_dir``."""
    with _registry(store, settings, registry, Path(run_dir.path) / "evidence") as reg:
        return AgentLoop(client, reg, store, request, run_dir, **kwargs).run()


def resume(
    run_dir: Path | RunDir,
    client: ChatClient | None,
    store: Any,
    registry: ToolRegistry | None = None,
    settings: Any = None,
    **kwargs: Any,
) -> AgentResult:
    """Continue a killed run: replay its trace (no finished tool call runs again), then carry on.

    A run that already finished returns its recorded result without calling anything.
    """
    rd = run_dir if isinstance(run_dir, RunDir) else RunDir.open(Path(run_dir))
    events = rd.events()
    start = next((e for e in events if e.get("type") == "start"), None)
    if start is None:
        raise ValueError(f"{rd.path}: trace has no start event; nothing to resume")
    finals = [e for e in events if e.get("type") == "final"]
    if finals:
        f = finals[-1]
        u = f.get("usage") or {}
        return AgentResult(
            final_text=f["final_text"], passage_ids=f.get("passage_ids", []), turns=f.get("turns", 0),
            usage=Usage(u.get("prompt_tokens", 0), u.get("completion_tokens", 0)), run_dir=rd.path,
            stopped=f.get("stopped", "answer"), tool_calls=f.get("tool_calls", 0),
            extractive=f.get("extractive", False), boxed=f.get("boxed"), resumed=True,
        )
    kwargs.setdefault("max_turns", start.get("max_turns", 20))
    kwargs.setdefault("max_tokens", start.get("max_tokens"))
    kwargs.setdefault("keep_last", start.get("keep_last", 4))
    with _registry(store, settings, registry, Path(rd.path) / "evidence") as reg:
        loop = AgentLoop(client, reg, store, start["request"], rd, system=start["system"],
                         replay=Replay.from_events(events), **kwargs)
        return loop.run()
