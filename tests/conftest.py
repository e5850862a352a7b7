"""Shared test helpers: the repository's paths, the real shared data, and running ``curate`` in-process."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "data" / "samples"
SHARED = REPO.parent / "shared" / "data"

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def load_web_corpus() -> list[tuple[str, str]]:
    """(id, text) of every web document of ../shared/data/web and every DCLM annotation page, in a fixed order."""
    import gzip

    paths = sorted((SHARED / "web").rglob("*.jsonl*")) + [SHARED / "quality" / "dclm-annotations-dev.jsonl"]
    docs = []
    for path in paths:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as f:
            for i, line in enumerate(f):
                record = json.loads(line)
                if isinstance(record.get("text"), str):
                    docs.append((f"{path.name}:{record.get('id', i)}", record["text"]))
    return docs


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    """``rows`` as a JSON-lines file at ``path`` (folders created): the input most tests feed a recipe."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_recipe(path: Path, recipe: dict) -> Path:
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path


def run_curate(*args: str) -> int:
    from pipeline.cli import main

    return main([str(a) for a in args])


def read_rows(folder: Path, columns: list[str] | None = None) -> list[dict]:
    rows: list[dict] = []
    for f in sorted(folder.glob("part-*.parquet")):
        rows += pq.read_table(f, columns=columns).to_pylist()
    return rows


def output_ids(out: Path) -> tuple[list[str], list[str]]:
    kept = [r["id"] for r in read_rows(out / "data", ["id"])]
    removed = []
    for sub in sorted((out / "removed").glob("*")):
        removed += [r["id"] for r in read_rows(sub, ["id"])]
    return kept, removed


def load_json(path: Path) -> dict:
    return json.loads(path.read_text())


@pytest.fixture
def shared() -> Path:
    assert SHARED.exists(), f"the real test data must sit beside the repository, at {SHARED}"
    return SHARED


def unfinished_tasks_with_shards(out: Path) -> set[int]:
    """Ranks that have kept-document shards on disk but no completion marker: the state a resume must clean up."""
    completed = {int(p.name) for p in out.rglob("completions/*")}
    written = {int(p.name.split("-")[1]) for p in (out / "data").glob("*part-*")}
    return written - completed


def kill_run_when(
    recipe: Path, ready: Callable[[], bool], max_delay: float = 0.0, rng: random.Random | None = None
) -> bool:
    """Run ``curate run RECIPE`` in a process group of its own and SIGKILL the whole group (the CLI and its
    workers, no chance to clean up) as soon as ``ready()`` holds, after a random delay of up to ``max_delay``
    seconds. Returns whether the kill landed before the run finished by itself (two minutes at most)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "run", str(recipe)],
        cwd=REPO,
        start_new_session=True,
        stderr=subprocess.DEVNULL,
    )
    killed = False
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if ready():
            if max_delay:
                time.sleep((rng or random).uniform(0, max_delay))
            os.killpg(proc.pid, signal.SIGKILL)
            killed = True
            break
        time.sleep(0.01)
    proc.wait()
    return killed
