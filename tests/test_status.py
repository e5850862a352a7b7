"""``curate status``: a failed task is reported with its log; the same command then resumes and finishes."""

from __future__ import annotations

from conftest import SAMPLES, load_json, run_curate, write_recipe
from datatrove.pipeline.filters.base_filter import BaseFilter

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
