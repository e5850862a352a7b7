"""Keep the top fraction of a whole corpus by a score (DCLM's rule: the best 10% of the pool), in three steps.

A per-task cut would keep the top 10% of each task's share, which changes with the number of tasks and with how
files fall to tasks. The cut must be global, so it is a ``MultiPhaseStage``:

1. :class:`ScoreCollector` (per task, in the scoring phase) passes documents on and writes each one's
   ``(id, score)`` to ``WORK/scores/<rank>.parquet``.
2. :class:`TopFractionCut` (one task, after all of them) reads every rank's scores, orders them by score
   (descending) then id (ascending), and writes the last kept key to ``WORK/cut.json``. Ties on the score are
   broken by id, so the kept set depends only on the documents, never on the task count or file order.
3. :class:`TopFractionApply` (per task, next phase) keeps a document iff its ``(score, id)`` ranks at or above
   the cut; the rest are dropped with reason ``below_top_fraction``. Scores are read back from the rank's own
   score file (the exact values the cut was computed from), so nothing depends on how metadata travelled.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict, deque

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from datatrove.data import Document, DocumentsPipeline
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.filters.base_filter import BaseFilter

SCORES_DIR = "scores"
CUT_FILE = "cut.json"
DROP_REASON = "below_top_fraction"


def _score_file(rank: int) -> str:
    return f"{SCORES_DIR}/{rank:05d}.parquet"


class ScoreCollector(PipelineStep):
    """Pass every document on, recording ``(id, metadata[score_key])`` for the global cut."""

    type = "📊 - STATS"
    name = "🏅 Collect scores"

    def __init__(self, work_dir: str, score_key: str = "quality_score"):
        super().__init__()
        self.work_dir = work_dir
        self.score_key = score_key

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        ids: list[str] = []
        scores: list[float] = []
        for doc in data or ():
            score = doc.metadata.get(self.score_key)
            if score is None:
                raise KeyError(f"document {doc.id!r} has no {self.score_key!r}: the scoring step must run first")
            ids.append(str(doc.id))
            scores.append(float(score))
            self.stat_update("collected")
            yield doc
        table = pa.table({"id": pa.array(ids, pa.string()), "score": pa.array(scores, pa.float64())})
        folder = get_datafolder(self.work_dir)
        with folder.open(_score_file(rank), "wb") as fh:
            pq.write_table(table, fh)


def read_all_scores(work_dir: str) -> pa.Table:
    folder = get_datafolder(work_dir)
    files = sorted(folder.list_files(SCORES_DIR, glob_pattern="*.parquet")) if folder.isdir(SCORES_DIR) else []
    tables = []
    for f in files:
        with folder.open(f, "rb") as fh:
            tables.append(pq.read_table(fh))
    if not tables:
        return pa.table({"id": pa.array([], pa.string()), "score": pa.array([], pa.float64())})
    return pa.concat_tables(tables)


def compute_cut(table: pa.Table, fraction: float) -> dict:
    """The ``keep`` = ceil(fraction * n) best ``(score desc, id asc)`` rows' last key; NaN ranks last."""
    n = table.num_rows
    n_keep = min(n, math.ceil(fraction * n - 1e-9))
    cut = {"fraction": fraction, "n_total": n, "n_keep": n_keep, "score": None, "id": None}
    if n_keep == 0:
        return cut
    score = pc.if_else(pc.is_nan(table["score"]), -math.inf, table["score"])
    table = table.set_column(1, "score", score)
    order = pc.sort_indices(table, sort_keys=[("score", "descending"), ("id", "ascending")])
    last = order[n_keep - 1].as_py()
    cut["score"] = table["score"][last].as_py()
    cut["id"] = table["id"][last].as_py()
    return cut


class TopFractionCut(PipelineStep):
    """Global phase (1 task): compute the cut over every rank's scores and write ``WORK/cut.json``."""

    type = "📊 - STATS"
    name = "✂️ Global top-fraction cut"

    def __init__(self, work_dir: str, fraction: float):
        super().__init__()
        self.work_dir = work_dir
        self.fraction = fraction

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if rank != 0:
            return
        cut = compute_cut(read_all_scores(self.work_dir), self.fraction)
        self.stat_update("documents", value=cut["n_total"])
        self.stat_update("kept", value=cut["n_keep"])
        with get_datafolder(self.work_dir).open(CUT_FILE, "w") as fh:
            fh.write(json.dumps(cut))
        yield from ()


def in_top(score: float, doc_id: str, cut: dict) -> bool:
    if cut["score"] is None:
        return False
    if math.isnan(score):
        score = -math.inf
    return score > cut["score"] or (score == cut["score"] and doc_id <= cut["id"])


class TopFractionApply(BaseFilter):
    """Keep documents at or above the global cut; drop the rest as ``below_top_fraction``."""

    name = "🏅 Top fraction"

    def __init__(self, work_dir: str, score_key: str = "quality_score", exclusion_writer=None):
        super().__init__(exclusion_writer)
        self.work_dir = work_dir
        self.score_key = score_key
        self._cut: dict | None = None
        self._scores: dict[str, deque] = {}

    def _load(self, rank: int) -> None:
        folder = get_datafolder(self.work_dir)
        with folder.open(CUT_FILE, "r") as fh:
            self._cut = json.loads(fh.read())
        self._scores = defaultdict(deque)
        if folder.exists(_score_file(rank)):
            with folder.open(_score_file(rank), "rb") as fh:
                table = pq.read_table(fh)
            for doc_id, score in zip(table["id"].to_pylist(), table["score"].to_pylist(), strict=True):
                self._scores[doc_id].append(score)

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        self._load(rank)
        yield from super().run(data, rank, world_size)

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        queue = self._scores.get(str(doc.id))
        if queue:
            score = queue.popleft()  # same order as the collect phase: duplicate ids get their own scores
        elif self.score_key in doc.metadata:
            score = float(doc.metadata[self.score_key])
        else:
            raise KeyError(f"document {doc.id!r} was not scored in the collect phase")
        if in_top(score, str(doc.id), self._cut):
            return True
        return False, DROP_REASON
