"""Whether a started task is still alive, for ``curate status`` on any executor and any output location.

datatrove leaves a task log when a task starts and a completion marker when it ends; a task killed with SIGKILL
(the OOM killer, a preempted node, ``scancel``) leaves neither an error nor a marker, so its log alone looks like a
task still running. Every phase therefore starts with ``TaskHeartbeat``: as soon as its task starts it writes
``logs/<phase>/running/<rank>.json`` (host, pid, the process's start time) and a background thread rewrites it
every ``HEARTBEAT_S`` seconds until the task's completion marker exists. A task is alive if its process still exists on this host (same pid, same start
time, so a reused pid does not count), or, seen from another host, if its heartbeat is fresher than ``STALE_S``.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Any

import orjson
from datatrove.data import DocumentsPipeline
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep

HEARTBEAT_DIR = "running"
HEARTBEAT_S = 30.0
STALE_S = 4 * HEARTBEAT_S


def process_start(pid: int) -> str | None:
    """The start time of live process ``pid`` (Linux ``/proc``); None if it is gone, a zombie, or unreadable."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()  # after the command name: state is field 3
    except OSError:
        return None
    if len(fields) < 20 or fields[0] in (b"Z", b"X"):  # a zombie (killed, not yet reaped) is not running
        return None
    return fields[19].decode()  # field 22: start time in clock ticks since boot


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_alive(record: dict[str, Any], now: float | None = None) -> bool:
    """Whether the task that wrote heartbeat ``record`` is still running."""
    if record.get("host") == socket.gethostname() and isinstance(record.get("pid"), int):
        pid = record["pid"]
        if record.get("pid_start") and os.path.isdir("/proc"):
            return process_start(pid) == record["pid_start"]
        return _pid_exists(pid)
    return (now or time.time()) - float(record.get("updated", 0)) < STALE_S


class _Beat:
    """One per process: the task this process runs now, its heartbeat file rewritten by a daemon thread."""

    lock = threading.Lock()
    current: tuple[Any, str, dict] | None = None
    thread: threading.Thread | None = None
    owner_pid: int | None = None

    @classmethod
    def start(cls, logging_dir: str, rank: int) -> None:
        folder = get_datafolder(logging_dir)
        pid = os.getpid()
        record = {"rank": rank, "host": socket.gethostname(), "pid": pid, "pid_start": process_start(pid)}
        with cls.lock:
            cls.current = (folder, f"{HEARTBEAT_DIR}/{rank:05d}.json", record)
            cls._write()
            if cls.thread is None or cls.owner_pid != pid or not cls.thread.is_alive():
                cls.owner_pid = pid
                cls.thread = threading.Thread(target=cls._loop, name="curate-heartbeat", daemon=True)
                cls.thread.start()

    @classmethod
    def _write(cls) -> None:
        if cls.current is None:
            return
        folder, path, record = cls.current
        record["updated"] = time.time()
        try:
            with folder.open(path, "wb") as f:
                f.write(orjson.dumps(record))
        except Exception:  # noqa: BLE001 - a missed beat must never fail the task; the next one retries
            pass

    @classmethod
    def _refresh(cls) -> None:
        """Beat again, unless the task completed or its heartbeat was deleted (the output removed): then stop."""
        if cls.current is None:
            return
        folder, path, record = cls.current
        try:
            over = folder.isfile(f"completions/{record['rank']:05d}") or not folder.isfile(path)
        except Exception:  # noqa: BLE001
            return
        if over:
            cls.current = None
        else:
            cls._write()

    @classmethod
    def _loop(cls) -> None:
        while True:
            time.sleep(HEARTBEAT_S)
            with cls.lock:
                cls._refresh()


class TaskHeartbeat(PipelineStep):
    """First step of every phase: marks its task as alive (see the module's docstring); passes data through."""

    type = "💓 - HEARTBEAT"
    name = "💓 Task heartbeat"

    def __init__(self, logging_dir: str):
        super().__init__()
        self.logging_dir = logging_dir
        self.stats.name = "heartbeat"

    def __call__(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        _Beat.start(self.logging_dir, rank)  # now, when the task builds its pipeline, not when data first flows
        return self.run(data, rank, world_size)

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
