"""A run's output location, local or any fsspec URL, guarded the same way.

``curate run`` writes ``OUTPUT/run.json`` (recipe, task count, limit and a fingerprint of what the output depends
on) before any task starts, and refuses to resume into an output whose ``run.json`` says another job wrote it, so
two runs are never mixed in one folder (duplicate ids, counts that no longer add up). ``--overwrite`` deletes the
earlier run's entries first. All of it goes through fsspec, so a ``s3://``, ``gs://`` or ``memory://`` output is
guarded exactly like a local folder; a ``file://`` URL *is* a local folder and is handled as one.
"""

from __future__ import annotations

import json
import os

from datatrove.io import get_datafolder

RUN_FILE = "run.json"
OUTPUT_ENTRIES = ("data", "removed", "bad_input", "work", "logs", "report", "manifest.json", "stats.json", RUN_FILE)


def normalize_output(path: str) -> str:
    """A local output as an absolute path (``file://`` URLs included); any other URL unchanged."""
    path = str(path)
    if path.startswith("file://"):
        path = path.removeprefix("file://")
    if "://" in path:
        return path.rstrip("/")
    return os.path.abspath(os.path.expanduser(path))


def is_local(output_dir: str) -> bool:
    return "://" not in output_dir


def clear_output(output_dir: str) -> None:
    """Delete what a Curate run writes in ``output_dir`` (nothing else: the folder may hold the user's files)."""
    folder = get_datafolder(output_dir)
    for entry in OUTPUT_ENTRIES:
        if folder.isdir(entry):
            folder.rm(entry, recursive=True)
        elif folder.isfile(entry):
            folder.rm(entry)


def read_output_json(output_dir: str, name: str) -> dict | None:
    """A JSON file of an output (``run.json``, the token summary, ...), or None when it is not there."""
    folder = get_datafolder(output_dir)
    if not folder.isfile(name):
        return None
    with folder.open(name, "rt") as f:
        return json.load(f)


def read_run_info(output_dir: str) -> dict | None:
    return read_output_json(output_dir, RUN_FILE)


def check_resume(output_dir: str, run_info: dict, overwrite: bool) -> str | None:
    """Refuse to mix two different jobs in one output; returns an error message or None (then it may run)."""
    if overwrite:
        clear_output(output_dir)
        return None
    previous = read_run_info(output_dir)
    if previous is None:
        folder = get_datafolder(output_dir)
        found = [e for e in OUTPUT_ENTRIES if folder.exists(e)]
        if found:
            return (
                f"{output_dir} already holds a run's output ({', '.join(found)}) but no {RUN_FILE} saying which job "
                "wrote it. Choose another --output, or pass --overwrite to start over."
            )
        return None
    if previous.get("fingerprint") != run_info["fingerprint"]:
        return (
            f"{output_dir} holds a run of a different job (recipe, sources, stages, --tasks or --limit changed: "
            f"it was started with tasks={previous.get('tasks')}, limit={previous.get('limit')}). Resume with the "
            "same settings, choose another --output, or pass --overwrite to start over."
        )
    if previous.get("inputs", run_info.get("inputs")) != run_info.get("inputs"):
        return (
            f"the input files changed since the run in {output_dir} started (files added, removed or resized): "
            "tasks read parts of files planned from their sizes, so resuming would read some records twice or "
            "skip some. Restore the inputs, choose another --output, or pass --overwrite to start over."
        )
    return None


def write_run_info(output_dir: str, run_info: dict) -> None:
    folder = get_datafolder(output_dir)
    with folder.open(f".{RUN_FILE}.tmp", "wt") as f:
        f.write(json.dumps(run_info, indent=2))
    folder.mv(f".{RUN_FILE}.tmp", RUN_FILE)
