"""``TokenCollect``: in the last per-task phase, every kept document's token ids, beside the Parquet writer.

Per task it writes, under ``OUTPUT/work/tokens/``:

* ``ids/part-<rank>.bin``: the ids of its documents one after another (each ending with the end-of-document id),
  as ``uint16`` or ``int32`` (``pipeline/tokens/encode.py``);
* ``docs/part-<rank>.parquet``: one row per document in that order: ``id``, ``source``, ``tokens`` (count, end
  token included), ``offset`` (in tokens, into the ``.bin``), ``score`` (the mixture's score column, if any),
  ``input_file`` and ``input_row`` (where the reader found it: 1-based line of a JSON-lines file, 0-based row of a
  Parquet file, position in a stream).

Both are written under a temporary name and renamed at the end, so a killed task leaves nothing half-written.
Documents pass through unchanged; the mixture and the shards are made after every task finished.
"""

from __future__ import annotations

import polars as pl
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from pipeline.dedup import workfiles as wf
from pipeline.document import ORIGINAL, READ_ORDER, SOURCE
from pipeline.readers.files import GLOB_CHARS
from pipeline.recipe import SourceConfig
from pipeline.tokens.encode import TokenEncoder

DOCS_SCHEMA = {
    "id": pl.String,
    "source": pl.String,
    "tokens": pl.Int64,
    "offset": pl.Int64,
    "score": pl.Float64,
    "input_file": pl.String,
    "input_row": pl.Int64,
}
NOT_A_COLUMN = ("none", "cluster_size")


def input_location(read_order: str | None, sources: list[SourceConfig]) -> tuple[str | None, int | None]:
    """``(file, row)`` from the reader's read-order key ``SSSS/<file relative to the source path>/<index>``."""
    if not read_order or len(read_order) < 19:
        return None, None
    source, rel, index = int(read_order[:4]), read_order[5:-13], int(read_order[-12:])
    src = sources[source]
    if src.hf_dataset:
        return f"hf:{src.hf_dataset}[{rel}]", index
    path = src.path or ""
    if any(c in path for c in GLOB_CHARS):
        root = path[: min(path.find(c) for c in GLOB_CHARS if c in path)].rsplit("/", 1)[0]
        return f"{root}/{rel}", index
    if path.rstrip("/").endswith("/" + rel) or path == rel:
        return path, index  # the source is a single file
    return f"{path.rstrip('/')}/{rel}", index


class TokenCollect(PipelineStep):
    type = "🔢 - TOKENIZER"
    name = "🔢 Training tokens"

    def __init__(self, encoder: TokenEncoder, work_dir: str, sources: list[SourceConfig], score: str, batch: int):
        super().__init__()
        self.encoder = encoder
        self.work_dir = work_dir
        self.sources = sources
        self.score = score
        self.batch = batch
        self.rank_subdirs = ["work/tokens/ids", "work/tokens/docs"]

    def _flush(self, batch: list[Document], out: wf.RawAppender, rows: list[tuple]) -> None:
        with self.track_time(unit="batch"):
            encoded = self.encoder.encode([d.text or "" for d in batch])
        for doc, ids in zip(batch, encoded, strict=True):
            score = None
            if self.score not in NOT_A_COLUMN:  # a column a stage wrote, else a field of the original record
                score = doc.metadata.get(self.score, (doc.metadata.get(ORIGINAL) or {}).get(self.score))
                score = score if isinstance(score, int | float) and not isinstance(score, bool) else None
            file, row = input_location(doc.metadata.get(READ_ORDER), self.sources)
            source = doc.metadata.get(SOURCE)
            rows.append((doc.id, source, len(ids), out.rows, None if score is None else float(score), file, row))
            out.append(ids)
            self.stat_update("tokens", value=len(ids))
            self.stat_update(f"tokens/{source}", value=len(ids))

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        f = wf.folder(self.work_dir)
        out: wf.RawAppender | None = None
        rows: list[tuple] = []
        batch: list[Document] = []
        for doc in data:
            if out is None:  # opened once upstream started: the task's RankOutputReset has run by then
                f.makedirs("ids", exist_ok=True)
                out = wf.RawAppender(f, f"ids/part-{rank:05d}.bin")
            batch.append(doc)
            if len(batch) >= self.batch:
                self._flush(batch, out, rows)
                yield from batch
                batch = []
        if out is None:
            f.makedirs("ids", exist_ok=True)
            out = wf.RawAppender(f, f"ids/part-{rank:05d}.bin")
        if batch:
            self._flush(batch, out, rows)
            yield from batch
        out.close()
        wf.save_table(f, f"docs/part-{rank:05d}.parquet", pl.DataFrame(rows, schema=DOCS_SCHEMA, orient="row"))
