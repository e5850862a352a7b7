"""``curate status OUTPUT``: per phase, how many tasks are done, running and failed, and where each failure's log is.

It reads what datatrove's executors leave under ``OUTPUT/logs/<phase>/`` on every executor: ``executor.json``
(the task count), ``completions/<rank>`` (done), ``logs/task_<rank>.log`` (started). A started task without a
completion marker is *failed* when its log holds an error, else *running* (or killed before it could log one; on
Slurm, ``squeue`` tells which). So it works the same for local, Slurm and Ray runs, while they run or after.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

ERROR_LINE = re.compile(r"\|\s*(ERROR|CRITICAL)\s*\||Traceback \(most recent call last\)")


@dataclass
class PhaseStatus:
    name: str
    tasks: int
    done: list[int] = field(default_factory=list)
    running: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)  # rank -> log path
    pending: list[int] = field(default_factory=list)


def _task_count(phase_dir: Path) -> int:
    executor = phase_dir / "executor.json"
    if executor.exists():
        try:
            data = json.loads(executor.read_text())
            return int(data.get("world_size") or data.get("tasks") or 0)
        except (ValueError, json.JSONDecodeError):
            pass
    ranks = {int(p.stem.split("_")[-1]) for p in (phase_dir / "logs").glob("task_*.log")}
    ranks |= {int(p.name) for p in (phase_dir / "completions").glob("*") if p.name.isdigit()}
    return max(ranks) + 1 if ranks else 0


def phase_status(phase_dir: Path) -> PhaseStatus:
    tasks = _task_count(phase_dir)
    status = PhaseStatus(phase_dir.name, tasks)
    completed = {int(p.name) for p in (phase_dir / "completions").glob("*") if p.name.isdigit()}
    for rank in range(tasks):
        log = phase_dir / "logs" / f"task_{rank:05d}.log"
        if rank in completed:
            status.done.append(rank)
        elif log.exists():
            text = log.read_text(errors="replace")
            if ERROR_LINE.search(text):
                status.failed[rank] = str(log)
            else:
                status.running.append(rank)
        else:
            status.pending.append(rank)
    return status


def output_status(output_dir: str) -> list[PhaseStatus]:
    logs = Path(output_dir) / "logs"
    if not logs.is_dir():
        raise FileNotFoundError(f"{output_dir} has no logs/ folder: not a Curate output, or the run has not started")
    phases = [p for p in sorted(logs.iterdir()) if p.is_dir() and p.name not in ("progress", "slurm")]
    return [phase_status(p) for p in phases]


def cmd_status(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    try:
        phases = output_status(args.output)
    except FileNotFoundError as e:
        console.print(f"error: {e}")
        return 2
    table = Table(title=f"Curate run status: {args.output}")
    for col in ("phase", "tasks", "done", "running", "failed", "not started"):
        table.add_column(col, justify="left" if col == "phase" else "right")
    for p in phases:
        table.add_row(
            p.name, str(p.tasks), str(len(p.done)), str(len(p.running)), str(len(p.failed)), str(len(p.pending))
        )
    console.print(table)
    for p in phases:
        for rank, log in p.failed.items():
            print(f"failed: {p.name} task {rank}: {log}")  # unwrapped: a path to copy
    finished = all(len(p.done) == p.tasks for p in phases) and (Path(args.output) / "manifest.json").exists()
    console.print(
        "finished: manifest.json and stats.json are written"
        if finished
        else "not finished: run the same `curate run` again to resume"
    )
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("status", help="tasks done, running and failed per phase of a run")
    parser.add_argument("output", help="the run's output folder")
    parser.set_defaults(func=cmd_status)
