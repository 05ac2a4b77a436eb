"""``sourcebook bench QUERIES.jsonl --datasets DIR --results DIR``, ``bench compare A B``, ``bench score DIR``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup

from sourcebook.bench import BenchError


class _RunByDefault(TyperGroup):
    """``bench ARGS…`` means ``bench run ARGS…`` unless the first word names a subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


bench_app = typer.Typer(cls=_RunByDefault, no_args_is_help=True, add_completion=False,
                        help="Benchmark suites: run many folder tasks, score them with the report checks, compare.")


def _fail(message: str) -> None:
    from sourcebook.cli import fail

    fail(message)


def _progress_run(tasks: list[Any], run: Any) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from sourcebook.cli import err

    with Progress(TextColumn("[bold]bench"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[item]}"),
                  TimeElapsedColumn(), console=err, transient=False) as prog:
        bar = prog.add_task("bench", total=len(tasks), item="")

        def on_event(kind: str, task: str, record: dict[str, Any] | None) -> None:
            if kind == "skip":
                prog.advance(bar)
                prog.update(bar, item=f"{task} finished earlier (kept)")
            elif kind == "ingest":
                prog.update(bar, item=f"building the store of {task}")
            elif kind == "start":
                prog.update(bar, item=f"{task} started")
            elif kind == "done":
                prog.advance(bar)
                status = (record or {}).get("status", "?")
                style = "green" if status == "ok" else "red"
                prog.update(bar, item=f"{task} [{style}]{status}[/{style}] {(record or {}).get('wall_s', '')}s")

        return run(on_event)


@bench_app.command("run")
def run_cmd(
    queries: Annotated[Path, typer.Argument(help="JSONL of {task, query[, answer]} rows.")],
    results: Annotated[Path, typer.Option("--results", help="Results directory (one per model + settings).")],
    datasets: Annotated[Path | None, typer.Option("--datasets", help="Folder holding one folder per task "
                                                  "(default: next to QUERIES).")] = None,
    tasks: Annotated[str | None, typer.Option("--tasks", help="Only these task ids, e.g. 001,005.")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Tasks run at once.")] = 1,
    executor: Annotated[str, typer.Option("--executor", help="local (process pool) or ray.")] = "local",
    ray_address: Annotated[str | None, typer.Option("--ray-address", help="ray://host:10001 or host:6379 "
                                                    "(default: start a local cluster).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Finish an interrupted suite; finished tasks are kept.")] = False,
    timeout: Annotated[float | None, typer.Option("--timeout", min=1, help="Seconds per task before it is stopped.")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model (else SOURCEBOOK_LLM__MODEL).")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible or Anthropic endpoint.")] = None,
    provider: Annotated[str | None, typer.Option("--provider", help="openai or anthropic.")] = None,
    dialect: Annotated[str | None, typer.Option("--dialect", help="native or xml tool calls.")] = None,
    extractive: Annotated[bool, typer.Option("--extractive", help="No LLM, even if one is configured.")] = False,
    rounds: Annotated[int, typer.Option("--rounds", min=0, max=10, help="Revision rounds.")] = 3,
    max_turns: Annotated[int, typer.Option("--max-turns", help="Most agent turns per task.")] = 20,
    max_tokens: Annotated[int, typer.Option("--max-tokens", help="Agent token budget per task.")] = 500_000,
    cpus: Annotated[float, typer.Option("--cpus-per-task", help="Ray: CPUs per task.")] = 1.0,
    memory_mb: Annotated[int | None, typer.Option("--memory-mb", help="Ray: memory per task (MB).")] = None,
    gpus: Annotated[float, typer.Option("--gpus-per-task", help="Ray: GPUs per task (a local LLM).")] = 0.0,
) -> None:
    """Run a suite of folder tasks and write run directories plus scorecard.json / scorecard.md."""
    from sourcebook.api import make_settings as settings_with
    from sourcebook.bench.manifest import identity_for
    from sourcebook.bench.runner import run_suite
    from sourcebook.bench.suite import load_suite, parse_task_list
    from sourcebook.cli import console

    if executor not in ("local", "ray"):
        _fail(f"unknown executor {executor!r} (use local or ray)")
    if model and extractive:
        _fail("--model and --extractive exclude each other")
    datasets = datasets or queries.parent
    try:
        suite = load_suite(queries, datasets, parse_task_list(tasks))
    except BenchError as e:
        _fail(str(e))
    settings = settings_with(model, base_url, provider, dialect)
    if not extractive and settings.llm.model:
        from sourcebook.llm import make_client

        try:
            make_client(settings.llm)
        except ValueError as e:
            _fail(str(e))
    identity = identity_for(settings.llm, extractive, rounds, max_turns, max_tokens)
    if executor == "ray":
        from sourcebook.bench.ray_executor import RayExecutor

        ex: Any = RayExecutor(workers, timeout, ray_address, num_cpus=cpus, memory_mb=memory_mb, num_gpus=gpus)
    else:
        from sourcebook.bench.local import LocalExecutor

        ex = LocalExecutor(workers, timeout)
    info = {"queries": str(queries.resolve()), "datasets": str(datasets.resolve())}
    try:
        res = _progress_run(suite, lambda on_event: run_suite(
            suite, results, identity, ex, settings, resume=resume, suite=info,
            base_url=settings.llm.base_url, on_event=on_event))
    except BenchError as e:
        _fail(str(e))
    t = res.scorecard["totals"]
    console.print(f"{t['ok']}/{t['tasks']} tasks ok · {len(res.skipped)} kept from before · "
                  f"length in range {t['length_in_range']['passed']} · mean S_l {t['length_score_mean']} · "
                  f"tokens {t['tokens']['total']:,} · suite {res.wall_s:.1f} s", highlight=False)
    console.print(f"scorecard: {results / 'scorecard.md'}", highlight=False)
    if t["errors"]:
        raise typer.Exit(1)


@bench_app.command("compare")
def compare_cmd(
    a: Annotated[Path, typer.Argument(help="Results directory or scorecard.json (before).")],
    b: Annotated[Path, typer.Argument(help="Results directory or scorecard.json (after).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the differences as JSON.")] = False,
) -> None:
    """Print what differs between two scorecards: identity, totals, and per task."""
    from sourcebook.bench.scorecard import compare, load_scorecard
    from sourcebook.cli import console

    try:
        diff = compare(load_scorecard(a), load_scorecard(b))
    except ValueError as e:
        _fail(str(e))
    if as_json:
        typer.echo(json.dumps(diff, ensure_ascii=False, indent=2, default=str))
        return
    if not any(diff.values()):
        console.print("no differences")
        return
    from rich.table import Table

    table = Table(title=f"{a} → {b}")
    for col in ("where", "what", "A", "B"):
        table.add_column(col)
    for k, (x, y) in diff["identity"].items():
        table.add_row("identity", k, str(x), str(y))
    for k, (x, y) in diff["totals"].items():
        table.add_row("total", k, str(x), str(y))
    for task, fields in diff["tasks"].items():
        for k, (x, y) in fields.items():
            table.add_row(task, k, str(x), str(y))
    console.print(table)


@bench_app.command("score")
def score_cmd(
    root: Annotated[Path, typer.Argument(help="Results directory, or a tree of report files.")],
    queries: Annotated[Path | None, typer.Option("--queries", help="query.jsonl (needed outside a results dir).")] = None,
    folder_root: Annotated[Path | None, typer.Option("--folder-root", help="Folder holding one task folder per "
                                                     "task, to resolve citations against.")] = None,
    name: Annotated[list[str] | None, typer.Option("--name", help="Report file names to look for "
                                                   "(default: final_report.md, report.md/html/docx).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Where rescored.json/md go (default: ROOT).")] = None,
) -> None:
    """Re-score stored reports with the same checks (also other systems' reports, e.g. final_report.md)."""
    from sourcebook.bench.rescore import REPORT_NAMES, rescore
    from sourcebook.bench.scorecard import write_scorecard
    from sourcebook.cli import console

    try:
        card = rescore(root, queries, folder_root, names=tuple(name) if name else REPORT_NAMES)
    except BenchError as e:
        _fail(str(e))
    dest = out or root
    dest.mkdir(parents=True, exist_ok=True)
    pj, pm = write_scorecard(dest, card, stem="rescored")
    t = card["totals"]
    console.print(f"{t['tasks']} reports · {t['errors']} unreadable · length in range "
                  f"{t['length_in_range']['passed']} · near-empty {t['near_empty']} · citations resolvable "
                  f"{t['citations_resolvable']} · mean S_l {t['length_score_mean']}", highlight=False)
    console.print(f"wrote {pj} and {pm}", highlight=False)


def register_cli(app: typer.Typer) -> None:
    """Add the ``bench`` command group."""
    app.add_typer(bench_app, name="bench")
