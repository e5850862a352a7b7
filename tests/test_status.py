"""``curate status``: a failed task is reported with its log, a task killed without a trace (SIGKILL) is shown as
stopped, not running; the same command then resumes and finishes."""

from __future__ import annotations

import json
import time

import pyarrow.parquet as pq
from conftest import SAMPLES, kill_run_when, load_json, run_curate, write_recipe
from datatrove.pipeline.filters.base_filter import BaseFilter

from pipeline.liveness import process_start
from pipeline.registry import StageContext, StageParams, register_stage
from pipeline.status_cli import output_status


class ExplodeParams(StageParams):
    marker: str


class ExplodeOnce(BaseFilter):
    """Fails the task that meets a document whose text holds ``marker``, unless the marker file is gone."""

    name = "explode"

    def __init__(self, marker: str):
        super().__init__()
        self.marker = marker

    def filter(self, doc):
        from pathlib import Path

        if Path(self.marker).exists() and "arxiv_sample" in doc.id:
            raise RuntimeError("simulated crash in a stage")
        return True


@register_stage("test_explode", ExplodeParams)
def build(params: ExplodeParams, ctx: StageContext) -> ExplodeOnce:
    """Crash the task on the first arXiv document while the marker file exists (a test of failure handling)."""
    return ExplodeOnce(params.marker)


def test_failed_task_is_reported_then_resumed(tmp_path, capsys):
    marker = tmp_path / "crash"
    marker.write_text("1")
    out = tmp_path / "out"
    recipe = write_recipe(
        tmp_path / "r.yaml",
        {
            "name": "crashy",
            "sources": [{"name": "rp1", "format": "redpajama-v1", "path": str(SAMPLES / "redpajama-v1")}],
            "stages": [{"test_explode": {"marker": str(marker)}}],
            "output": {"path": str(out)},
            "executor": {"tasks": 3, "workers": 1},
        },
    )
    assert run_curate("run", recipe) == 1
    assert "Run the same command again to resume" in capsys.readouterr().err
    (phase,) = output_status(str(out))
    assert phase.tasks == 3 and len(phase.failed) == 1
    (log,) = phase.failed.values()
    assert "simulated crash in a stage" in open(log).read()
    assert run_curate("status", out) == 0
    assert f"failed: 00_documents task {next(iter(phase.failed))}: {log}" in capsys.readouterr().out
    assert not list(out.rglob("part-*.parquet.tmp"))  # the failed task left no partial shard

    marker.unlink()
    assert run_curate("run", recipe) == 0
    (phase,) = output_status(str(out))
    assert len(phase.done) == 3 and not phase.failed
    assert load_json(out / "stats.json")["documents_read"] == 31


def test_task_killed_without_a_trace_is_stopped_not_running(tmp_path, capsys):
    root = tmp_path / "in"
    root.mkdir()
    texts = [
        r["text"]
        for f in sorted((SAMPLES / "fineweb-edu").glob("*.parquet"))
        for r in pq.read_table(f, columns=["text"]).to_pylist()
    ]
    for f in range(4):
        with open(root / f"part{f}.jsonl", "w") as out:
            for i in range(1000):
                out.write(json.dumps({"id": f"f{f}-{i}", "text": f"{texts[i % len(texts)]} #{i}"}) + "\n")
    out = tmp_path / "out"
    recipe = write_recipe(
        tmp_path / "r.yaml",
        {
            "name": "killable",
            "sources": [{"name": "big", "format": "jsonl", "path": str(root)}],
            "stages": [{"gopher_repetition": {}}],
            "output": {"path": str(out)},
            "executor": {"tasks": 4, "workers": 2},
        },
    )
    phase_dir = out / "logs" / "00_documents"
    killed: set[int] = set()
    alive: set[int] = set()

    def a_task_is_running() -> bool:
        beating = {int(p.stem) for p in phase_dir.glob("running/*.json")}
        completed = {int(p.name) for p in phase_dir.glob("completions/*")}
        if not beating - completed:
            return False
        (phase,) = output_status(str(out))
        alive.clear()
        alive.update(set(phase.running) & (beating - completed))  # running, by its heartbeat's process
        return bool(alive)

    for _attempt in range(3):
        if kill_run_when(recipe, a_task_is_running):
            killed = alive - {int(p.name) for p in phase_dir.glob("completions/*")}
        if killed:
            break
    assert killed, "no task could be caught running"
    pids = [json.loads(p.read_text())["pid"] for p in phase_dir.glob("running/*.json")]
    deadline = time.time() + 30
    while time.time() < deadline and any(process_start(pid) for pid in pids):
        time.sleep(0.05)  # SIGKILL is delivered asynchronously: wait until the workers are really gone

    (phase,) = output_status(str(out))
    assert killed <= set(phase.stopped) and not killed & set(phase.running)  # gone without a trace
    assert run_curate("status", out) == 0
    printed = capsys.readouterr().out
    assert f"stopped: 00_documents task {min(killed)}:" in printed and "not finished" in printed
    assert run_curate("run", recipe) == 0
    (phase,) = output_status(str(out))
    assert len(phase.done) == 4 and not phase.stopped and not phase.running
