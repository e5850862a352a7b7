"""One big JSON-lines file, several tasks: Curate's byte-range split against datatrove's whole-file reading.

The input is one uncompressed JSON-lines file of real web text (../shared/data/web, recombined paragraphs, as in
tests/test_split.py). Both pipelines read it and write zstd Parquet with ``LocalPipelineExecutor(tasks, workers)``:
datatrove ``JsonlReader -> ParquetWriter`` (a file is the smallest unit: one task reads it all, the others idle;
datatrove issue #74), Curate ``CorpusReader -> ShardedParquetWriter`` (the file is cut into byte ranges, one per
task). Printed: documents per task for both, wall time, and the documents/s ratio.

    python bench/bench_split.py --docs 400000 --tasks 4 --workers 2
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import time
from pathlib import Path

from common import BENCH_OUT, real_texts, report


def make_input(path: Path, docs: int) -> None:
    paras = [p.strip() for t in real_texts() for p in t.split("\n") if len(p.split()) >= 3]
    rng = random.Random(13)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        for n in range(docs):
            text = " ".join(rng.choice(paras) for _ in range(rng.randint(1, 3)))
            f.write(json.dumps({"id": f"doc-{n}", "text": text}) + "\n")


def per_task_documents(logs: Path, step: str) -> list[int]:
    counts = []
    for stats in sorted((logs / "stats").glob("*.json")):
        steps = json.loads(stats.read_text())
        reader = next(s for s in steps if step in s["name"])
        value = reader["stats"].get("documents", 0)
        counts.append(value["total"] if isinstance(value, dict) else value)
    return counts


def run(pipeline: list, tasks: int, workers: int, logs: Path) -> float:
    from datatrove.executor import LocalPipelineExecutor

    start = time.perf_counter()
    LocalPipelineExecutor(pipeline, tasks=tasks, workers=workers, logging_dir=str(logs)).run()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=400_000)
    parser.add_argument("--tasks", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import ParquetWriter

    from pipeline.readers.corpus_reader import CorpusReader
    from pipeline.recipe import SourceConfig
    from pipeline.writers.parquet_shards import ShardedParquetWriter

    root = BENCH_OUT / "split"
    shutil.rmtree(root, ignore_errors=True)
    make_input(root / "input" / "big.jsonl", args.docs)
    size = (root / "input" / "big.jsonl").stat().st_size

    dt_time = run(
        [JsonlReader(str(root / "input")), ParquetWriter(str(root / "datatrove"), compression="zstd")],
        args.tasks,
        args.workers,
        root / "logs_datatrove",
    )
    source = SourceConfig(name="big", format="jsonl", path=str(root / "input"))
    reader = CorpusReader([source])
    reader.stats.name = "reader"
    cu_time = run(
        [reader, ShardedParquetWriter(str(root / "curate"), "data", {}, compression="zstd")],
        args.tasks,
        args.workers,
        root / "logs_curate",
    )
    print(f"one {size / 1e6:,.0f} MB JSON-lines file, {args.tasks} tasks on {args.workers} workers")
    print(f"  documents per task, datatrove: {per_task_documents(root / 'logs_datatrove', 'Jsonl')}")
    print(f"  documents per task, curate:    {per_task_documents(root / 'logs_curate', 'reader')}")
    report(
        "read -> write Parquet, wall time of the job", "docs", "datatrove", (dt_time, args.docs), (cu_time, args.docs)
    )


if __name__ == "__main__":
    main()
