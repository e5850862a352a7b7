"""``curate status OUTPUT``: per phase, how many tasks are done, running, failed and stopped, and where each log is.

It reads what the run leaves under ``OUTPUT/logs/<phase>/``, through fsspec (a local folder or any URL):
``executor.json`` (the task count), ``completions/<rank>`` (done), ``logs/task_<rank>.log`` (started) and
Curate's heartbeats ``running/<rank>.json`` (``pipeline/liveness.py``). A started task without a completion
marker is *failed* when its log holds an error, *running* while its process is alive, and *stopped* when it is
gone without a trace (killed with SIGKILL, a lost node): run the same ``curate run`` again to finish it. It works
the same for local, Slurm and Ray runs, while they run or after.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from datatrove.io import get_datafolder
from rich.console import Console
from rich.table import Table

from pipeline.liveness import HEARTBEAT_DIR, STALE_S, is_alive

ERROR_LINE = re.compile(r"\|\s*(ERROR|CRITICAL)\s*\||Traceback \(most recent call last\)")
NOT_PHASES = ("progress", "slurm")


@dataclass
class PhaseStatus:
    name: str
    tasks: int
    done: list[int] = field(default_factory=list)
    running: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)  # rank -> log path
    stopped: dict[int, str] = field(default_factory=dict)  # rank -> log path: started, gone, no error, not done
    pending: list[int] = field(default_factory=list)


def _ranks(names: list[str], prefix: str = "", suffix: str = "") -> set[int]:
    ranks = set()
    for name in names:
        stem = name.rsplit("/", 1)[-1].removeprefix(prefix).removesuffix(suffix)
        if stem.isdigit():
            ranks.add(int(stem))
    return ranks


def _task_count(folder: Any, logs: set[int], completed: set[int]) -> int:
    if folder.isfile("executor.json"):
        try:
            with folder.open("executor.json", "rt") as f:
                data = json.load(f)
            return int(data.get("world_size") or data.get("tasks") or 0)
        except (ValueError, TypeError):
            pass
    ranks = logs | completed
    return max(ranks) + 1 if ranks else 0


def _recent(folder: Any, path: str) -> bool:
    """Whether ``path`` was written within the heartbeat's staleness window."""
    try:
        modified = folder.modified(path)
    except (OSError, NotImplementedError, ValueError):
        return True  # cannot tell: do not call a task dead on no evidence
    return time.time() - modified.timestamp() < STALE_S


def phase_status(phase_dir: str) -> PhaseStatus:
    """The status of one phase's tasks; ``phase_dir`` is ``OUTPUT/logs/<phase>`` (a path or URL)."""
    folder = get_datafolder(phase_dir)
    completed = _ranks(folder.glob("completions/*"))
    logs = _ranks(folder.glob("logs/task_*.log"), "task_", ".log")
    beats = {}
    for path in folder.glob(f"{HEARTBEAT_DIR}/*.json"):
        try:
            with folder.open(path, "rb") as f:
                beats[int(path.rsplit("/", 1)[-1].removesuffix(".json"))] = json.loads(f.read())
        except (ValueError, OSError):
            continue  # being rewritten right now: the task is alive
    status = PhaseStatus(phase_dir.rstrip("/").rsplit("/", 1)[-1], _task_count(folder, logs, completed))
    for rank in range(status.tasks):
        log = f"logs/task_{rank:05d}.log"
        where = f"{phase_dir.rstrip('/')}/{log}"
        if rank in completed:
            status.done.append(rank)
        elif rank in logs:
            with folder.open(log, "rt", errors="replace") as f:
                text = f.read()
            if ERROR_LINE.search(text):
                status.failed[rank] = where
            elif is_alive(beats[rank]) if rank in beats else _recent(folder, log):
                status.running.append(rank)  # without a heartbeat yet: starting, if its log is fresh
            else:
                status.stopped[rank] = where
        else:
            status.pending.append(rank)
    return status


def output_status(output_dir: str) -> list[PhaseStatus]:
    folder = get_datafolder(output_dir)
    if not folder.isdir("logs"):
        raise FileNotFoundError(f"{output_dir} has no logs/ folder: not a Curate output, or the run has not started")
    phases = sorted(p.rsplit("/", 1)[-1] for p in folder.ls("logs", detail=False) if folder.isdir(p))
    root = output_dir.rstrip("/")
    return [phase_status(f"{root}/logs/{name}") for name in phases if name not in NOT_PHASES]


def cmd_status(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    try:
        phases = output_status(args.output)
    except FileNotFoundError as e:
        console.print(f"error: {e}")
        return 2
    table = Table(title=f"Curate run status: {args.output}")
    for col in ("phase", "tasks", "done", "running", "failed", "stopped", "not started"):
        table.add_column(col, justify="left" if col == "phase" else "right")
    for p in phases:
        counts = (p.tasks, len(p.done), len(p.running), len(p.failed), len(p.stopped), len(p.pending))
        table.add_row(p.name, *(str(n) for n in counts))
    console.print(table)
    for p in phases:
        for rank, log in p.failed.items():
            print(f"failed: {p.name} task {rank}: {log}")  # unwrapped: a path to copy
        for rank, log in p.stopped.items():
            print(f"stopped: {p.name} task {rank}: its process is gone without an error (killed?): {log}")
    done = all(len(p.done) == p.tasks for p in phases)
    finished = done and get_datafolder(args.output).isfile("manifest.json")
    console.print(
        "finished: manifest.json and stats.json are written"
        if finished
        else "not finished: run the same `curate run` again to resume"
    )
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("status", help="tasks done, running and failed per phase of a run")
    parser.add_argument("output", help="the run's output folder or fsspec URL")
    parser.set_defaults(func=cmd_status)
