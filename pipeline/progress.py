"""Live progress of a local run, read from the small files each task's reader publishes.

Tasks run in other processes (datatrove's process pool), so the CLI polls ``OUTPUT/logs/progress/<phase>/*.json``
from a background thread and shows documents read, documents/s, files done and bad input. On a terminal it is a
single refreshing line; elsewhere (CI, log files) a plain line every ``interval`` seconds.
"""

from __future__ import annotations

import glob
import os
import sys
import threading
import time

import orjson


def read_progress(progress_dir: str) -> dict[str, int]:
    totals = {"documents": 0, "bad_input": 0, "files_done": 0, "files_total": 0, "tasks_done": 0, "tasks_seen": 0}
    for path in glob.glob(os.path.join(progress_dir, "*.json")):
        try:
            with open(path, "rb") as f:
                p = orjson.loads(f.read())
        except (OSError, orjson.JSONDecodeError):
            continue  # being replaced right now; read it next time
        totals["tasks_seen"] += 1
        totals["tasks_done"] += bool(p.get("done"))
        for key in ("documents", "bad_input", "files_done", "files_total"):
            totals[key] += int(p.get(key, 0))
    return totals


class ProgressDisplay:
    def __init__(self, progress_dir: str, tasks: int, interval: float | None = None):
        self.progress_dir = progress_dir
        self.tasks = tasks
        self.tty = sys.stderr.isatty()
        self.interval = interval or (0.5 if self.tty else 10.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._start = time.monotonic()
        self._baseline = read_progress(progress_dir)["documents"]  # a resumed run's finished tasks

    def line(self) -> str:
        p = read_progress(self.progress_dir)
        elapsed = max(time.monotonic() - self._start, 1e-6)
        rate = max(p["documents"] - self._baseline, 0) / elapsed
        return (
            f"{p['documents']:,} documents ({rate:,.0f} docs/s) | files {p['files_done']}/{p['files_total']} | "
            f"tasks {p['tasks_done']}/{self.tasks} | bad input {p['bad_input']:,} | {elapsed:,.0f}s"
        )

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._emit()

    def _emit(self, final: bool = False) -> None:
        text = self.line()
        if self.tty:
            sys.stderr.write("\r\033[K" + text + ("\n" if final else ""))
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def __enter__(self) -> ProgressDisplay:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._emit(final=True)
