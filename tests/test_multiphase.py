"""Multi-phase stages: a global decision over every task's documents, chained through datatrove executors."""

from __future__ import annotations

import json
import statistics

from conftest import SAMPLES, load_json, output_ids, read_rows, run_curate, write_recipe
from datatrove.data import DocumentsPipeline
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.filters.base_filter import BaseFilter

from pipeline.registry import MultiPhaseStage, Phase, StageContext, StageParams, register_stage


class Params(StageParams):
    pass


class CollectLengths(PipelineStep):
    name = "collect lengths"

    def __init__(self, work_dir: str):
        super().__init__()
        self.work_dir = work_dir

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        rows = []
        for doc in data:
            rows.append([doc.id, len(doc.text)])
            yield doc
        with get_datafolder(self.work_dir).open(f"lengths/{rank:05d}.json", "w") as f:
            json.dump(rows, f)


class Median(PipelineStep):
    name = "global median"

    def __init__(self, work_dir: str):
        super().__init__()
        self.work_dir = work_dir

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        folder = get_datafolder(self.work_dir)
        lengths = [n for path in folder.glob("lengths/*.json") for _, n in json.load(folder.open(path))]
        with folder.open("median.json", "w") as f:
            json.dump(statistics.median(lengths), f)
        yield from ()


class KeepAboveMedian(BaseFilter):
    name = "keep above median"

    def __init__(self, work_dir: str):
        super().__init__()
        self.work_dir = work_dir
        self.median = None

    def filter(self, doc):
        if self.median is None:
            self.median = json.load(get_datafolder(self.work_dir).open("median.json"))
        return len(doc.text) > self.median or (False, "below_median")


@register_stage("test_above_median", Params)
def build(params: Params, ctx: StageContext) -> MultiPhaseStage:
    """Keep documents longer than the corpus-wide median (a test of the multi-phase runtime)."""
    return MultiPhaseStage(
        collect=[CollectLengths(ctx.work_dir)],
        global_phases=[Phase("median", [Median(ctx.work_dir)], tasks=1)],
        apply=[KeepAboveMedian(ctx.work_dir)],
    )


def run_with_tasks(tmp_path, tasks: int):
    out = tmp_path / f"out{tasks}"
    recipe = write_recipe(
        tmp_path / f"r{tasks}.yaml",
        {
            "name": "median",
            "sources": [{"name": "rp1", "format": "redpajama-v1", "path": str(SAMPLES / "redpajama-v1")}],
            "stages": [
                {"length_filter": {"min_words": 20}},
                {"test_above_median": {}},
                {"length_filter": {"max_words": 8000}},
            ],
            "output": {"path": str(out)},
            "executor": {"tasks": tasks, "workers": 1},
        },
    )
    assert run_curate("run", recipe) == 0
    return out


def test_global_cut_is_the_same_with_1_and_3_tasks(tmp_path):
    one, three = run_with_tasks(tmp_path, 1), run_with_tasks(tmp_path, 3)
    kept1, removed1 = output_ids(one)
    kept3, removed3 = output_ids(three)
    assert sorted(kept1) == sorted(kept3) and sorted(removed1) == sorted(removed3)
    # the cut really is global: recompute it from the ledger and the output
    survivors = read_rows(three / "data", ["id", "text"]) + read_rows(
        three / "removed" / "length_filter_2", ["id", "text"]
    )
    below = read_rows(three / "removed" / "test_above_median", ["id", "text", "reason"])
    median = statistics.median([len(r["text"]) for r in survivors + below])
    assert all(len(r["text"]) > median for r in survivors)
    assert below and all(len(r["text"]) <= median and r["reason"] == "below_median" for r in below)
    stats = load_json(three / "stats.json")
    assert [s["stage"] for s in stats["stages"]] == ["length_filter", "test_above_median", "length_filter_2"]
    assert stats["stages"][1]["in"] == stats["stages"][0]["kept"]
    assert stats["documents_read"] == len(kept3) + len(removed3) and stats["reconciled"]


def test_real_multi_phase_stages_count_once_and_reconcile(tmp_path):
    """Filter, global top-fraction cut and MinHash dedup: stats chain stage to stage and the report agrees."""
    out = tmp_path / "out"
    recipe = write_recipe(
        tmp_path / "r.yaml",
        {
            "name": "chain",
            "sources": [
                {"name": "fw", "format": "fineweb-edu", "path": str(SAMPLES / "fineweb-edu")},
                {"name": "dclm", "format": "dclm", "path": str(SAMPLES / "dclm")},
            ],
            "stages": [
                {"token_count": {}},
                {"length_filter": {"min_words": 50}},
                {"quality_classifier": {"keep_top_fraction": 0.3}},
                {"minhash_dedup": {}},
            ],
            "output": {"path": str(out)},
            "executor": {"tasks": 2, "workers": 2},
        },
    )
    assert run_curate("run", recipe) == 0
    stats = load_json(out / "stats.json")
    stages = {s["stage"]: s for s in stats["stages"]}
    chain = [stages[name] for name in ("token_count", "length_filter", "quality_classifier", "minhash_dedup")]
    for before, after in zip(chain, chain[1:], strict=False):
        assert after["in"] == before["kept"], after["stage"]
    qc = stages["quality_classifier"]
    assert qc["in"] == qc["kept"] + qc["dropped"] and qc["dropped_by_reason"] == {"below_top_fraction": qc["dropped"]}
    assert qc["kept"] == len(read_rows(out / "data", ["id"])) + stages["minhash_dedup"]["dropped"]
    report = load_json(out / "report" / "report.json")
    assert report["reconciliation"]["ok"] is True, [c for c in report["reconciliation"]["checks"] if not c["ok"]]
