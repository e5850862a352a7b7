"""``ShardedParquetWriter``: documents out as size-capped, zstd-compressed Parquet shards with an explicit schema.

Used for the kept documents (``OUTPUT/data/``) and, as a filter's ``exclusion_writer``, for the drop ledger
(``OUTPUT/removed/<stage>/``, with ``reason`` and ``duplicate_of`` columns).

* Explicit schema: ``id, text, source, url, metadata`` (the record's original fields as JSON), the typed columns
  that the recipe's stages declare, and ``attributes`` (JSON of undeclared computed values). Every shard of a run
  has the same schema, so ``datasets``, Polars and DuckDB read the folder as one table.
* ``scrub`` (a ``pii`` stage's scrubber, for the ledgers of the stages before it): every string of the row
  (text, url, original fields, computed values) is scrubbed as the ``pii`` stage would have.
* Deterministic names ``part-<rank>-<n>.parquet``. A shard is written as ``.part-<rank>-<n>.parquet.tmp`` and
  renamed only once complete, so a crash never leaves a partial file under a final name. If the task fails, the
  temporary file is deleted; if it is killed, the next attempt's ``RankOutputReset`` deletes it.
* Size cap: a shard is closed before a row would take it past ``shard_max_bytes``, counting rows not yet
  compressed at their raw size, so a shard never exceeds the cap by more than its footer (a single document larger
  than the cap gets a shard of its own). ``shard_max_rows`` caps rows instead or as well.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from datatrove.data import Document, DocumentsPipeline
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep

from pipeline.document import (
    ATTRIBUTES_COLUMN,
    BASE_COLUMNS,
    FILTER_REASON,
    LEDGER_COLUMNS,
    ORIGINAL,
    RESERVED_KEYS,
    SOURCE,
    URL,
)
from pipeline.readers.files import is_local
from pipeline.writers import arrow_columns

ROW_GROUP_BYTES = 32 * 2**20
ROW_GROUP_ROWS = 10_000
FOOTER_RESERVE = 64 * 2**10
JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _json(value: Any) -> str:
    return orjson.dumps(value, option=JSON_OPTIONS, default=str).decode()


def output_schema(declared: dict[str, pa.DataType], ledger: bool = False) -> pa.Schema:
    fields = [pa.field(k, t) for k, t in BASE_COLUMNS.items()]
    fields += [pa.field(k, t) for k, t in declared.items() if k not in BASE_COLUMNS]
    fields.append(pa.field(ATTRIBUTES_COLUMN, pa.string()))
    if ledger:
        fields += [pa.field(k, t) for k, t in LEDGER_COLUMNS.items()]
    return pa.schema(fields)


def shard_name(subdir: str, rank: int, index: int) -> str:
    return f"{subdir}/part-{rank:05d}-{index:05d}.parquet"


class ShardedParquetWriter(PipelineStep):
    type = "💽 - WRITER"
    name = "📦 Parquet shards"

    def __init__(
        self,
        output_dir: str,
        subdir: str,
        declared: dict[str, pa.DataType],
        shard_max_bytes: int | None = 256 * 10**6,
        shard_max_rows: int | None = None,
        compression: str = "zstd",
        ledger_label: str | None = None,
        scrub: Callable[[str], str] | None = None,
        keep_text: bool = True,
    ):
        super().__init__()
        self.output_dir = output_dir
        self.subdir = subdir
        self.declared = dict(declared)
        self.schema = output_schema(self.declared, ledger=ledger_label is not None)
        self.shard_max_bytes = shard_max_bytes
        self.shard_max_rows = shard_max_rows
        self.compression = None if compression == "none" else compression
        self.ledger_label = ledger_label
        self.scrub = scrub
        self.keep_text = keep_text
        params = getattr(scrub, "params", None)
        # a pii stage's scrubber (pipeline.pii.scrubber.Scrubber) also rewrites url, original fields, attributes
        self._scrub_fields = hasattr(scrub, "scrub_document_metadata") and getattr(params, "scrub_metadata", True)
        self._reset_state()

    def _reset_state(self) -> None:
        self._folder = None
        self._rank = 0
        self._index = 0
        self._file = None
        self._writer: pq.ParquetWriter | None = None
        self._shard_rows = 0
        self._pending: dict[str, list] = {name: [] for name in self.schema.names}
        self._pending_rows = 0
        self._pending_bytes = 0
        self.shards_written: list[str] = []

    # -- rows -------------------------------------------------------------------------------------------------
    def _append(self, doc: Document) -> int:
        md = doc.metadata
        text = (self.scrub(doc.text) if self.scrub else doc.text) if self.keep_text else None
        if self.scrub is not None and self._scrub_fields:
            md = self.scrub.scrub_document_metadata(md)[0]  # what the pii stage scrubs: url, fields, values
        original = _json(md.get(ORIGINAL) or {})
        p = self._pending
        p["id"].append(doc.id)
        p["text"].append(text)
        p["source"].append(md.get(SOURCE))
        p["url"].append(md.get(URL))
        p["metadata"].append(original)
        for column in self.declared:
            if column not in BASE_COLUMNS:
                p[column].append(md.get(column))
        extras = {k: v for k, v in md.items() if k not in RESERVED_KEYS and k not in self.declared}
        if self.ledger_label is not None:
            extras.pop("duplicate_of", None)
            p["reason"].append(md.get(FILTER_REASON) or self.ledger_label)
            p["duplicate_of"].append(md.get("duplicate_of"))
        p[ATTRIBUTES_COLUMN].append(_json(extras) if extras else None)
        size = (
            (0 if text is None else len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass")))
            + len(original)
            + 64
        )
        self._pending_rows += 1
        self._pending_bytes += size
        return size

    def _flush(self) -> None:
        if not self._pending_rows:
            return
        if self._writer is None:
            tmp = self._tmp_name()
            if is_local(self._folder.fs):  # pyarrow's native file: no Python-level write calls
                self._folder.makedirs(self.subdir, exist_ok=True)
                self._file = pa.OSFile(self._folder.resolve_paths(tmp), "wb")
            else:
                self._file = self._folder.open(tmp, "wb")
            self._writer = pq.ParquetWriter(self._file, self.schema, compression=self.compression)
        table = pa.Table.from_arrays(
            [arrow_columns.column(self._pending[f.name], f.type) for f in self.schema], schema=self.schema
        )
        self._writer.write_table(table, row_group_size=max(self._pending_rows, 1))
        self._shard_rows += self._pending_rows
        for values in self._pending.values():
            values.clear()
        self._pending_rows = 0
        self._pending_bytes = 0

    def _tmp_name(self) -> str:
        return f"{self.subdir}/.part-{self._rank:05d}-{self._index:05d}.parquet.tmp"

    def _written_bytes(self) -> int:
        return self._file.tell() if self._file is not None else 0

    def _close_shard(self) -> None:
        self._flush()
        if self._writer is None:
            return
        self._writer.close()
        self._file.close()
        final = shard_name(self.subdir, self._rank, self._index)
        self._folder.mv(self._tmp_name(), final)
        self.shards_written.append(final)
        self.stat_update("shards")
        self._writer = None
        self._file = None
        self._shard_rows = 0
        self._index += 1

    def _would_overflow(self, size: int) -> bool:
        rows = self._shard_rows + self._pending_rows
        if rows == 0:
            return False
        if self.shard_max_rows and rows + 1 > self.shard_max_rows:
            return True
        if self.shard_max_bytes:
            cap = self.shard_max_bytes - (FOOTER_RESERVE if self.shard_max_bytes > 16 * FOOTER_RESERVE else 0)
            return self._written_bytes() + self._pending_bytes + size > cap
        return False

    # -- datatrove writer interface (also used as a BaseFilter's exclusion_writer) ---------------------------
    def write(self, document: Document, rank: int = 0, **kwargs: Any) -> None:
        if self._folder is None:
            self._folder = get_datafolder(self.output_dir)
            self._rank = rank
        text = document.text
        estimate = (len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))) + 256
        if self._would_overflow(estimate):
            self._close_shard()
        self._append(document)
        self.stat_update("total")
        if self._pending_rows >= ROW_GROUP_ROWS or self._pending_bytes >= ROW_GROUP_BYTES:
            self._flush()

    def __enter__(self) -> ShardedParquetWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def close(self) -> None:
        self._close_shard()
        self._folder = None

    def abort(self) -> None:
        """Drop the shard in progress: a failed task leaves no partial file, not even a temporary one."""
        if self._writer is not None:
            try:
                self._writer.close()
                self._file.close()
                self._folder.rm(self._tmp_name())
            except Exception:  # noqa: BLE001 - best effort while an error is already propagating
                pass
        self._writer = None
        self._file = None
        self._folder = None

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        with self:
            for document in data:
                self.write(document, rank)
                yield document
