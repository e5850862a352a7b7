"""Read -> write Parquet: Curate's reader and shard writer against datatrove's ParquetReader -> ParquetWriter.

Both read the same FineWeb-Edu-schema Parquet input (real web documents from ../shared/data, repeated under
unique ids up to --docs) and write zstd Parquet, in this one process, on one core, one after the other.

    python bench/bench_io.py --docs 100000
"""

from __future__ import annotations

import argparse
import shutil
import uuid

import pyarrow as pa
import pyarrow.parquet as pq
from common import BENCH_OUT, real_texts, report, timed


def make_input(folder, docs: int, files: int = 4) -> None:
    texts = real_texts()
    folder.mkdir(parents=True, exist_ok=True)
    per_file = docs // files
    for f in range(files):
        rows = []
        for i in range(per_file):
            k = f * per_file + i
            rows.append(
                {
                    "text": texts[k % len(texts)],
                    "id": f"<urn:uuid:{uuid.UUID(int=k)}>",
                    "dump": "CC-MAIN-2024-10",
                    "url": f"https://example.org/{k}",
                    "date": "2024-02-20T10:00:00Z",
                    "file_path": "s3://commoncrawl/crawl-data/CC-MAIN-2024-10/x.warc.gz",
                    "language": "en",
                    "language_score": 0.9,
                    "token_count": len(texts[k % len(texts)]) // 4,
                    "score": 2.5,
                    "int_score": 3,
                }
            )
        pq.write_table(pa.Table.from_pylist(rows), folder / f"{f:03d}.parquet", compression="zstd")


def run_datatrove(src, dst) -> int:
    from datatrove.pipeline.readers import ParquetReader
    from datatrove.pipeline.writers import ParquetWriter

    reader = ParquetReader(str(src))
    writer = ParquetWriter(str(dst), compression="zstd")
    return sum(1 for _ in writer.run(reader.run(None, 0, 1), 0, 1))


def run_curate(src, dst) -> int:
    from pipeline.readers.corpus_reader import CorpusReader
    from pipeline.recipe import SourceConfig
    from pipeline.writers.parquet_shards import ShardedParquetWriter

    reader = CorpusReader([SourceConfig(name="fw", format="fineweb-edu", path=str(src))])
    writer = ShardedParquetWriter(str(dst), "data", {}, compression="zstd")
    return sum(1 for _ in writer.run(reader.run(None, 0, 1), 0, 1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    import logging

    from loguru import logger

    logger.remove()
    logging.disable(logging.WARNING)
    root = BENCH_OUT / "io"
    shutil.rmtree(root, ignore_errors=True)
    make_input(root / "input", args.docs)

    def fresh(name):
        shutil.rmtree(root / name, ignore_errors=True)
        return root / name

    dt = timed(lambda: run_datatrove(root / "input", fresh("datatrove")), args.repeat)
    cu = timed(lambda: run_curate(root / "input", fresh("curate")), args.repeat)
    report(f"read -> write Parquet, {args.docs:,} documents, 1 core", "docs", "datatrove", dt, cu)


if __name__ == "__main__":
    main()
