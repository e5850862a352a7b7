"""``quality_classifier`` stage: threshold filtering, and a global top-fraction cut that ignores the task count."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import pytest
from conftest import write_jsonl
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter
from pydantic import ValidationError

from classifiers.fasttext_model import FastTextQualityModel
from classifiers.quality_classifier import DEFAULT_MODEL, QualityClassifierParams, QualityScoreFilter
from classifiers.top_fraction import CUT_FILE, compute_cut
from pipeline.registry import MultiPhaseStage, StageContext, get_stage

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def web_records() -> list[dict]:
    """Real web pages of the dev data, with unique ids (the RedPajama files have none: line numbers then)."""
    records = []
    for path in sorted((SHARED / "web").rglob("*.jsonl*")):
        if "neardup" in path.name:
            continue
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt") as fh:
            for i, line in enumerate(fh):
                if line.strip():
                    r = json.loads(line)
                    records.append({"id": str(r.get("id") or f"{path.stem}-{i}"), "text": r["text"]})
    return records


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, list[dict]]:
    """The pages spread over 8 files (so 4 tasks each read 2), plus duplicated texts to make exact score ties."""
    folder = tmp_path_factory.mktemp("corpus")
    records = web_records()
    # identical texts under different ids score identically: the cut must break these ties by id
    records += [{"id": f"tie-{k:02d}", "text": records[0]["text"]} for k in range(12)]
    for f in range(8):
        with open(folder / f"part-{f}.jsonl", "w") as fh:
            for r in records[f::8]:
                fh.write(json.dumps(r) + "\n")
    return folder, records


def ctx(tmp_path: Path, tasks: int = 1) -> StageContext:
    return StageContext(
        name="quality_classifier",
        label="quality_classifier",
        output_dir=str(tmp_path / "out"),
        work_dir=str(tmp_path / "work"),
        tasks=tasks,
    )


def read_ids(folder: Path) -> list[str]:
    ids = []
    for f in sorted(folder.glob("*.jsonl.gz")):
        with gzip.open(f, "rt") as fh:
            ids += [json.loads(line)["id"] for line in fh]
    return ids


def test_default_model_ships_and_loads():
    model = FastTextQualityModel.load(DEFAULT_MODEL)
    assert model.scheme == "curate" and model.card["labels"]["positive"] == "__label__hq"
    assert model.head is not None  # fastText weighed with the document signals
    assert DEFAULT_MODEL.stat().st_size < 5_000_000
    cv = model.card["metrics"]["cross_validated"]
    # the figures train_default measured (nested cross-validation on the human labels) and wrote in the card
    assert cv["default_model_cv"]["roc_auc_mean"] >= 0.85
    assert cv["default_model_cv"]["roc_auc_mean"] > cv["length_baseline_roc_auc"] + 0.05
    assert cv["default_model_cv"]["roc_auc_mean"] > cv["plain_fasttext_cv"]["roc_auc_mean"]


def test_params_are_validated():
    spec = get_stage("quality_classifier")
    with pytest.raises(ValidationError, match="not both"):
        spec.params.model_validate({"threshold": 0.5, "keep_top_fraction": 0.1})
    with pytest.raises(ValidationError):
        spec.params.model_validate({"keep_top_fraction": 1.5})
    with pytest.raises(ValidationError):
        spec.params.model_validate({"treshold": 0.5})
    with pytest.raises(ValidationError, match="no such file: /nonexistent/model.bin"):  # found before any task
        spec.params.model_validate({"model": "/nonexistent/model.bin"})


def test_threshold_keeps_exactly_the_documents_at_or_above_it(corpus, tmp_path):
    folder, records = corpus
    spec = get_stage("quality_classifier")
    step = spec.factory(spec.params.model_validate({"threshold": 0.5}), ctx(tmp_path))
    assert isinstance(step, QualityScoreFilter) and step.output_columns() == {
        "quality_score": step.output_columns()["quality_score"]
    }
    dropped = tmp_path / "dropped"
    step.exclusion_writer = JsonlWriter(str(dropped))
    LocalPipelineExecutor(
        pipeline=[JsonlReader(str(folder)), step, JsonlWriter(str(tmp_path / "kept"))],
        tasks=2,
        workers=1,
        logging_dir=str(tmp_path / "logs"),
    ).run()
    kept, gone = read_ids(tmp_path / "kept"), read_ids(dropped)
    assert sorted(kept + gone) == sorted(r["id"] for r in records)
    assert kept and gone
    # the scores written are the model's own, and the cut is exactly score >= 0.5
    model = FastTextQualityModel.load(DEFAULT_MODEL)
    by_id = {r["id"]: r["text"] for r in records}
    for sub, keep in (("kept", True), ("dropped", False)):
        for f in sorted((tmp_path / sub).glob("*.jsonl.gz")):
            with gzip.open(f, "rt") as fh:
                for line in fh:
                    row = json.loads(line)
                    score = row["metadata"]["quality_score"]
                    assert (score >= 0.5) == keep
                    if not keep:
                        assert row["metadata"]["filter_reason"] == "below_quality_threshold"
    sample = sorted(by_id)[:50]
    direct = model.score([by_id[i] for i in sample])
    assert all((s >= 0.5) == (i in set(kept)) for i, s in zip(sample, direct, strict=True))


def run_top_fraction(folder: Path, tmp_path: Path, tasks: int, workers: int, fraction: float) -> list[str]:
    """The three phases as the runtime chains them: read + score + collect, global cut, read + apply."""
    spec = get_stage("quality_classifier")
    stage = spec.factory(spec.params.model_validate({"keep_top_fraction": fraction}), ctx(tmp_path, tasks))
    assert isinstance(stage, MultiPhaseStage) and len(stage.global_phases) == 1
    logs = tmp_path / "logs"
    LocalPipelineExecutor(
        pipeline=[JsonlReader(str(folder)), *stage.collect], tasks=tasks, workers=workers, logging_dir=str(logs / "a")
    ).run()
    phase = stage.global_phases[0]
    assert phase.tasks == 1
    LocalPipelineExecutor(pipeline=phase.steps, tasks=1, logging_dir=str(logs / "b")).run()
    LocalPipelineExecutor(
        pipeline=[JsonlReader(str(folder)), *stage.apply, JsonlWriter(str(tmp_path / "kept"))],
        tasks=tasks,
        workers=workers,
        logging_dir=str(logs / "c"),
    ).run()
    return read_ids(tmp_path / "kept")


def test_keep_top_fraction_is_global_and_independent_of_tasks(corpus, tmp_path):
    folder, records = corpus
    fraction = 0.1
    one = run_top_fraction(folder, tmp_path / "t1", tasks=1, workers=1, fraction=fraction)
    four = run_top_fraction(folder, tmp_path / "t4", tasks=4, workers=2, fraction=fraction)
    assert sorted(one) == sorted(four)
    assert len(one) == math.ceil(fraction * len(records))
    # the kept set is the top of the whole pool by (score desc, id asc), computed here independently
    model = FastTextQualityModel.load(DEFAULT_MODEL)
    scores = model.score([r["text"] for r in records])
    ranked = sorted(zip(scores.tolist(), (r["id"] for r in records), strict=True), key=lambda x: (-x[0], x[1]))
    assert sorted(one) == sorted(i for _, i in ranked[: len(one)])
    cut = json.loads((tmp_path / "t4" / "work" / CUT_FILE).read_text())
    assert cut["n_total"] == len(records) and cut["n_keep"] == len(one)
    # a per-task cut would not have kept the same documents: the tasks' shares differ in quality
    per_task = set()
    for f in range(4):
        share = [(s, i) for s, i in ranked if any(r["id"] == i for r in records[f::4])]
        per_task |= {i for _, i in sorted(share, key=lambda x: (-x[0], x[1]))[: math.ceil(fraction * len(share))]}
    assert per_task != set(one)


def test_ties_at_the_cut_are_broken_by_id(corpus, tmp_path):
    """12 copies of one text score the same; put the cut among them and the lowest ids must win."""
    folder, records = corpus
    model = FastTextQualityModel.load(DEFAULT_MODEL)
    scores = model.score([r["text"] for r in records]).tolist()
    tie_score = scores[-1]
    above = sum(s > tie_score for s in scores)
    tied = sorted(r["id"] for r, s in zip(records, scores, strict=True) if s == tie_score)
    assert len(tied) >= 13  # the original and its 12 copies
    fraction = (above + 5) / len(records)  # keeps exactly 5 of the tied documents
    kept = run_top_fraction(folder, tmp_path, tasks=3, workers=1, fraction=fraction)
    assert sorted(i for i in kept if i in set(tied)) == tied[:5]


def test_compute_cut_edge_cases():
    import pyarrow as pa

    empty = pa.table({"id": pa.array([], pa.string()), "score": pa.array([], pa.float64())})
    assert compute_cut(empty, 0.1)["n_keep"] == 0
    t = pa.table({"id": ["b", "a", "c"], "score": [0.5, 0.5, float("nan")]})
    cut = compute_cut(t, 0.34)  # ceil(1.02) = 2
    assert (cut["n_keep"], cut["score"], cut["id"]) == (2, 0.5, "b")
    assert compute_cut(t, 1.0)["score"] == -math.inf  # NaN ranks last


def test_params_defaults_point_at_shipped_model():
    assert QualityClassifierParams().model_path() == str(DEFAULT_MODEL)


def test_one_worker_run_with_a_later_phase(tmp_path):
    """``curate run --workers 1`` (every phase in the CLI's own process) with the classifier before a multi-phase
    stage: datatrove's executor.json of the next phase encodes the finished phase's steps with dataclasses.asdict,
    which deep-copied the loaded fastText model and failed ("cannot pickle 'fasttext_pybind.fasttext' object")."""
    import yaml

    from pipeline.cli import main

    records = web_records()[:40]
    source = write_jsonl(tmp_path / "in.jsonl", records)
    recipe = {
        "name": "one_worker",
        "sources": [{"name": "web", "format": "jsonl", "path": str(source)}],
        "stages": [{"quality_classifier": {"threshold": 0.3}}, {"minhash_dedup": {}}],
        "output": {"path": str(tmp_path / "out")},
        "executor": {"kind": "local", "tasks": 1, "workers": 1},
    }
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(recipe))
    assert main(["run", str(tmp_path / "r.yaml")]) == 0
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert stats["reconciled"] and stats["documents_read"] == 40
