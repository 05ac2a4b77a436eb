"""One task of a suite, run in a worker (a pool process or a Ray task): agent (with a model) + report, into a
staging directory laid out as a run directory, ending with ``bench.json`` (status, wall time, tokens, cost).

The evidence store is opened as built before dispatch; it is only ingested here when absent (a Ray node that
does not share the driver's cache directory)."""

from __future__ import annotations

import datetime as _dt
import json
import time
import traceback
from pathlib import Path
from typing import Any

from sourcebook.bench.suite import BenchTask

RESULT = "bench.json"


def make_spec(task: BenchTask, staging: Path, identity: dict[str, Any], cache_dir: Path | None,
              base_url: str | None = None) -> dict[str, Any]:
    """Plain-JSON description of one task for a worker (picklable, sendable to a Ray node)."""
    return {"task": task.to_dict(), "staging": str(staging), "identity": identity,
            "cache_dir": str(cache_dir) if cache_dir else None, "base_url": base_url}


def _settings(spec: dict[str, Any]) -> Any:
    from sourcebook.api import make_settings as settings_with

    ident = spec["identity"]
    settings = settings_with(ident.get("model") or None, spec.get("base_url") or ident.get("base_url") or None,
                             ident.get("provider") or None, ident.get("dialect") or None)
    update: dict[str, Any] = {}
    if ident.get("temperature") is not None:
        update["temperature"] = ident["temperature"]
    if ident.get("max_tokens"):
        update["max_tokens"] = ident["max_tokens"]
    if not ident.get("model"):
        update["model"] = ""
    if update:
        settings.llm = settings.llm.model_copy(update=update)
    if spec.get("cache_dir"):
        settings.cache_dir = Path(spec["cache_dir"])
    return settings


def _store(folder: Path, settings: Any) -> Any:
    from sourcebook.store import open_store

    store = open_store(folder, settings)
    if not store.sources():  # not built here (another machine's cache): build it now
        from sourcebook.ingest.folder import ingest_folder

        store = ingest_folder(folder, settings).store
    return store


def run_task(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one task into ``spec["staging"]`` and return (and write) its ``bench.json`` record.

    Never raises for a failing task: the error goes into the record (status ``error``) and ``log.txt``."""
    from sourcebook.records.run_dir import RunDir, settings_snapshot

    t0 = time.perf_counter()
    task = BenchTask.from_dict(spec["task"])
    ident = spec["identity"]
    staging = Path(spec["staging"])
    staging.mkdir(parents=True, exist_ok=True)
    rd = RunDir(staging)
    record: dict[str, Any] = {"task": task.task, "status": "error", "error": None, "model": ident.get("model", ""),
                              "started": _dt.datetime.now().isoformat(timespec="seconds")}
    client = None
    try:
        settings = _settings(spec)
        rd.write_json("request.json", {"request": task.query, "folder": str(task.folder), "task": task.to_dict(),
                                       "created": record["started"]})
        rd.write_json("config.json", settings_snapshot(settings))
        rd.trace_path.touch()
        rd.log(f"bench task {task.task}: {'model ' + ident['model'] if ident.get('model') else 'extractive'}")
        if ident.get("model"):
            from sourcebook.llm import make_client

            client = make_client(settings.llm)
        store = _store(task.folder, settings)
        agent = None
        if client is not None:
            from sourcebook.agent.loop import run_agent

            agent = run_agent(client, store, task.query, rd, settings=settings,
                              max_turns=int(ident.get("max_turns", 20)),
                              max_tokens=int(ident.get("token_budget", 500_000)))
            (staging / "answer.md").write_text(agent.final_text.rstrip() + "\n", encoding="utf-8")
            record.update(turns=agent.turns, tool_calls=agent.tool_calls, stopped=agent.stopped)
        from sourcebook.report.pipeline import build_report

        rep = build_report(store, task.query, settings, staging, client=client, agent_result=agent,
                           max_rounds=int(ident.get("rounds", 3)))
        record.update(status="ok", verdict=rep.verdict,
                      report=rep.report_path.name if rep.report_path else None)
    except Exception as e:  # one task's failure is that task's result, never the suite's end
        record["error"] = f"{type(e).__name__}: {e}"
        try:
            rd.log("task failed: " + "".join(traceback.format_exception(e)).rstrip())
        except OSError:
            pass
    finally:
        rd.close()
    if client is not None:
        record["usage"] = {"prompt_tokens": client.usage.prompt_tokens,
                           "completion_tokens": client.usage.completion_tokens,
                           "total_tokens": client.usage.total_tokens}
        record["cost_usd"] = client.cost_usd
        record["llm_calls"] = client.calls
    else:
        record["usage"] = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        record["cost_usd"] = 0.0 if not ident.get("model") else None
        record["llm_calls"] = 0
    record["wall_s"] = round(time.perf_counter() - t0, 3)
    write_record(staging, record)
    return record


def write_record(run_dir: Path, record: dict[str, Any]) -> None:
    """Write ``bench.json`` (written last: its presence marks the run directory as complete)."""
    tmp = Path(run_dir) / (RESULT + ".tmp")
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(Path(run_dir) / RESULT)


def read_record(run_dir: Path) -> dict[str, Any] | None:
    """The ``bench.json`` of a run directory, or None when absent or unreadable."""
    try:
        return json.loads((Path(run_dir) / RESULT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - exercised through subprocesses
    """``python -m sourcebook.bench.worker SPEC.json``: run one task from a spec file."""
    import sys

    args = argv if argv is not None else sys.argv[1:]
    run_task(json.loads(Path(args[0]).read_text(encoding="utf-8")))


if __name__ == "__main__":  # pragma: no cover
    main()
