"""What the model is told: its role, the tools, a bounded summary of the folder, and the request."""

from __future__ import annotations

import re

from sourcebook.llm.types import ToolSpec

ROLE = """You are a meticulous research assistant. Everything you write must come from the files of the task \
folder described below; you reach them only through the tools. Work in steps: look at what the folder holds, \
search for each point the request needs (several short, specific queries are better than one long one), read \
around the most useful passages, and open documents, videos, audio or images with their tools when the request \
depends on them. Note the passage ids and labels of what you use. Do not invent facts, numbers or sources; if \
the folder does not cover something, say so plainly.

When you have gathered enough evidence, reply WITHOUT a tool call with your final answer: the content the \
request asks for, in the request's language, with each claim followed by its source label \
(e.g. [report.pdf, p. 3]) or passage id in the form [@<passage_id>]."""

DATA_RULE = ("For data files (CSV, Excel) compute the figures you state with run_python_code instead of copying "
             "rows, and save a chart when it helps; cite the figure passage id it returns like any passage.")

BOXED_RULE = "The request expects a single final answer: end your reply with it inside \\boxed{...}."

EMPTY_NUDGE = ("Your last reply was empty. Continue: call a tool to gather more evidence, or give your final "
               "answer now without a tool call.")

FINAL_NUDGE = ("Stop using tools now. Using only the evidence gathered above, write your final answer to the "
               "request, citing the passage labels or ids you used.")

BOXED_NUDGE = "State only your final answer, inside \\boxed{...}."

_BOXED_REQ = re.compile(r"\\boxed|boxed\{|\bboxed\b", re.I)
_BOXED = re.compile(r"\\boxed\{((?:[^{}]|\{[^{}]*\})*)\}")


def wants_boxed(request: str) -> bool:
    """Does the request ask for a ``\\boxed{}`` answer?"""
    return bool(_BOXED_REQ.search(request or ""))


def boxed_answer(text: str) -> str | None:
    """The content of the last ``\\boxed{...}`` in ``text``."""
    found = _BOXED.findall(text or "")
    return found[-1].strip() if found else None


def tool_overview(tools: list[ToolSpec]) -> str:
    """One line per server listing its tools (the full schemas travel with the request)."""
    servers: dict[str, list[str]] = {}
    for t in tools:
        servers.setdefault(t.server, []).append(t.name)
    return "\n".join(f"- {s}: {', '.join(names)}" for s, names in servers.items())


def system_prompt(tools: list[ToolSpec], folder_summary: str, request: str) -> str:
    """The system message of a run."""
    parts = [ROLE, "## Tools\n" + (tool_overview(tools) or "(none)")]
    if any(t.name == "run_python_code" for t in tools):
        parts.append(DATA_RULE)
    if folder_summary.strip():
        parts.append("## The task folder\n" + folder_summary.strip())
    parts.append("## The request\n" + request.strip())
    if wants_boxed(request):
        parts.append(BOXED_RULE)
    return "\n\n".join(parts)

