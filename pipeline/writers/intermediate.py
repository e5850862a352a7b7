"""Handing documents from one per-task phase to the next, exactly and in order.

A multi-phase job (a global top-fraction cut, dedup clustering) stops its per-task phase at the barrier. Each task
writes the documents it still holds to ``OUTPUT/work/<phase>/part-<rank>-<n>.parquet`` (id, text, and the whole
metadata pickled, so every value, type included, survives), and task ``r`` of the next phase reads back exactly
task ``r``'s files, in order. That order guarantee is what lets a stage's ``apply`` step match documents to what
its ``collect`` step computed for them.
"""

from __future__ import annotations

import pickle

import pyarrow as pa
import pyarrow.parquet as pq
from datatrove.data import Document, DocumentsPipeline
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep

from pipeline.writers.parquet_shards import ShardedParquetWriter

HANDOFF_SCHEMA = pa.schema([("id", pa.string()), ("text", pa.string()), ("metadata", pa.binary())])


class HandoffWriter(ShardedParquetWriter):
    name = "🤝 Hand-off to next phase"

    def __init__(self, output_dir: str, subdir: str):
        super().__init__(output_dir, subdir, declared={}, shard_max_bytes=1 * 2**30)
        self.schema = HANDOFF_SCHEMA
        self._reset_state()

    def _append(self, doc: Document) -> int:
        blob = pickle.dumps(doc.metadata, protocol=5)
        self._pending["id"].append(doc.id)
        self._pending["text"].append(doc.text)
        self._pending["metadata"].append(blob)
        size = len(doc.text) + len(blob)
        self._pending_rows += 1
        self._pending_bytes += size
        return size


class HandoffReader(PipelineStep):
    type = "📖 - READER"
    name = "🤝 Hand-off from previous phase"

    def __init__(self, output_dir: str, subdir: str):
        super().__init__()
        self.output_dir = output_dir
        self.subdir = subdir

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        folder = get_datafolder(self.output_dir)
        files = sorted(folder.glob(f"{self.subdir}/part-{rank:05d}-*.parquet"))
        for path in files:
            with folder.open(path, "rb") as f:
                for batch in pq.ParquetFile(f).iter_batches(batch_size=1000):
                    ids, texts, metas = (batch.column(i).to_pylist() for i in range(3))
                    for doc_id, text, meta in zip(ids, texts, metas, strict=True):
                        self.stat_update("documents")
                        yield Document(text=text, id=doc_id, metadata=pickle.loads(meta))
