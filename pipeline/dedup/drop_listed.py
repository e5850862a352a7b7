"""``DropListed``: the apply step of both dedup stages, which drops the documents the global phases listed.

The global phases write, for every collect rank ``r``, ``removals/<part>/rank-r.parquet`` with the position
(``index``) of each removed document in that rank's stream, its id, and ``duplicate_of`` (the id of the cluster's
survivor). The runtime guarantees that rank ``r`` of the apply phase sees exactly the documents rank ``r``
collected, in the same order, so the position identifies the document; the id is checked as well, and a mismatch
stops the task rather than remove the wrong document. A removed document carries ``duplicate_of`` in its metadata,
which the drop ledger writes as a column.
"""

from __future__ import annotations

import polars as pl
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.filters.base_filter import BaseFilter

from pipeline.dedup import workfiles as wf


class DropListed(BaseFilter):
    name = "🫂 drop duplicates"

    def __init__(self, work_dir: str, reason: str, summary_counters: tuple[str, ...] = ()):
        super().__init__()
        self.work_dir = work_dir
        self.reason = reason
        self.summary_counters = summary_counters
        self._removed: dict[int, tuple[str, str]] = {}
        self._position = 0

    def _load(self, rank: int) -> None:
        f = wf.folder(self.work_dir)
        parts = sorted(f.glob(f"removals/*/{wf.rank_name(rank)}.parquet"))
        tables = [wf.load_table(f, p) for p in parts]
        self._removed = {}
        for table in tables:
            for index, doc_id, dup in table.select("index", "id", "duplicate_of").iter_rows():
                self._removed[int(index)] = (doc_id, dup)
        self._position = 0
        if rank == 0 and self.summary_counters and f.exists("dedup_stats.json"):
            # the corpus-wide figures, counted once (by rank 0) so they add up in stats.json
            stats = wf.load_json(f, "dedup_stats.json")
            for key in self.summary_counters:
                if isinstance(stats.get(key), int | float):
                    self.stat_update(key, value=stats[key])

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        self._load(rank)
        yield from super().run(data, rank, world_size)

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        position = self._position
        self._position += 1
        hit = self._removed.get(position)
        if hit is None:
            return True
        doc_id, duplicate_of = hit
        if doc.id != doc_id:
            raise RuntimeError(
                f"dedup apply: document {position} of this rank is {doc.id!r}, the clustering listed {doc_id!r}; "
                "the documents reaching the apply step differ from those collected"
            )
        doc.metadata["duplicate_of"] = duplicate_of
        return False, self.reason


def removals_table(rows: pl.DataFrame) -> pl.DataFrame:
    """The columns a removals file holds, in order, sorted by position."""
    return rows.select(pl.col("index").cast(pl.Int64), pl.col("id"), pl.col("duplicate_of")).sort("index")
