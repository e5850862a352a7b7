"""``CorpusReader``: the first step of a run, reading every source of a recipe into datatrove Documents.

Work is split across tasks deterministically: all sources' files are listed in recipe order, each sorted, and
file ``i`` goes to task ``i % N`` (datatrove's own rule); when that would leave tasks idle or very unequal, big
splittable files are cut into parts (byte ranges of uncompressed JSON lines and of per-record-gzip WARC/WET files,
runs of Parquet row groups) and the work is balanced by bytes (``pipeline/readers/work_plan.py``). A part reports
positions in the whole file, so ids do not depend on the task count. A streamed Hugging Face source is split with ``split_dataset_by_node``. A
source's ``limit`` is divided so the tasks' shares add up to it exactly.

Damaged input (corrupt line, invalid UTF-8, truncated compressed file, unreadable Parquet, record without text, a
document over ``max_doc_bytes``, empty file) is logged as one line naming the file and position, counted as
``bad_input`` (overall and per source), and written to ``OUTPUT/bad_input/part-<rank>.jsonl`` (where, what, how
many documents were lost where that is knowable, never the text), and reading goes on. A read that fails (a
network blip, a disk error: ``SourceIOError``) is not damage: it fails the task, and the next run reads the whole
file again. The reader also publishes its progress for the CLI's progress display.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from datatrove.data import DocumentsPipeline
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep
from loguru import logger

from pipeline import logs
from pipeline.document import READ_ORDER, read_order_key
from pipeline.readers import dclm, fineweb, generic, hf_stream, redpajama_v1, redpajama_v2, warc
from pipeline.readers.files import (
    BadInput,
    Record,
    SourceIOError,
    iter_jsonl,
    iter_parquet,
    list_files_sized,
    relative_path,
)
from pipeline.readers.formats import BadRecord, CorpusFormat, RecordContext
from pipeline.readers.work_plan import CONTAINER_SPLITS, Candidate, WorkUnit, assign
from pipeline.recipe import SourceConfig, split_limit

FORMATS: dict[str, CorpusFormat] = {
    f.name: f
    for f in (
        fineweb.FINEWEB,
        fineweb.FINEWEB_EDU,
        dclm.DCLM,
        redpajama_v1.REDPAJAMA_V1,
        redpajama_v2.REDPAJAMA_V2,
        generic.JSONL,
        generic.PARQUET,
        warc.WARC,
        warc.WET,
    )
}
# what a record's index means, per container, in bad-input messages
POSITION = {"jsonl": "line", "parquet": "row", "warc": "record at byte", "wet": "record at byte"}

BAD_INPUT_DIR = "bad_input"
PROGRESS_EVERY_S = 1.0


@dataclass
class ReadPlan:
    tasks: list[list[WorkUnit]]  # each task's file units (whole files or parts), in read order
    streams: list[WorkUnit]  # streamed sources: every task reads its split of each
    roots: dict[int, tuple[Any, str]]  # each file source's ``(fs, root)``


def _splitter(fmt: CorpusFormat, fs: Any, file: str, size: int, src: SourceConfig):
    split = fmt.split_units or CONTAINER_SPLITS.get(fmt.container)
    if split is None:
        return None
    return lambda target: split(fs, file, size, target, src)


def plan_units(sources: list[SourceConfig], world_size: int = 1) -> ReadPlan:
    """Every file of every source in a deterministic order, placed on tasks (parts of big files where needed)."""
    candidates: list[Candidate] = []
    streams: list[WorkUnit] = []
    roots: dict[int, tuple[Any, str]] = {}
    for i, src in enumerate(sources):
        if src.hf_dataset:
            streams.append(WorkUnit(i, None))
            continue
        fmt = FORMATS[src.format]
        fs, root, files = list_files_sized(src.path, fmt.patterns, src.glob)
        if fmt.skip_file:
            files = [(f, n) for f, n in files if not fmt.skip_file(f)]
        if not files:
            logger.warning(f"source {src.name!r}: no input files found at {src.path}")
        roots[i] = (fs, root)
        candidates.extend(Candidate(i, f, n, _splitter(fmt, fs, f, n, src)) for f, n in files)
    return ReadPlan(assign(candidates, world_size), streams, roots)


def input_digest(sources: list[SourceConfig]) -> str:
    """A digest of every source file's path and size: the plan of which task reads which part depends on them."""
    import hashlib

    h = hashlib.sha256()
    for i, src in enumerate(sources):
        if src.path and not src.hf_dataset:
            fmt = FORMATS[src.format]
            for f, n in list_files_sized(src.path, fmt.patterns, src.glob)[2]:
                h.update(f"{i}\t{f}\t{n}\n".encode())
    return h.hexdigest()[:16]


class CorpusReader(PipelineStep):
    type = "📖 - READER"
    name = "📚 Curate corpora"

    def __init__(self, sources: list[SourceConfig], output_dir: str | None = None, progress_dir: str | None = None):
        super().__init__()
        self.sources = sources
        self.output_dir = output_dir
        self.progress_dir = progress_dir
        self._bad_file = None
        self._rank = 0
        self._progress = {"documents": 0, "bad_input": 0, "files_done": 0, "files_total": 0, "done": False}
        self._last_progress = 0.0

    # -- bad input --------------------------------------------------------------------------------------------
    def _report_bad(self, bad: BadInput, source: SourceConfig) -> None:
        logger.warning(f"bad input in source {source.name!r}: {bad.message()}")
        self.stat_update("bad_input", f"bad_input/{source.name}")
        self._progress["bad_input"] += 1
        if not self.output_dir:
            return
        if self._bad_file is None:  # streamed to a temporary file, renamed when the task's reading is done
            self._bad_file = get_datafolder(self.output_dir).open(self._bad_name(self._rank, tmp=True), "wb")
        row = {
            "source": source.name,
            "file": bad.file,
            "position": bad.position,
            "problem": bad.problem,
            "id": bad.doc_id,
            "documents": bad.documents,  # documents lost with it; null where unknowable (a truncated stream)
        }
        self._bad_file.write(orjson.dumps(row) + b"\n")

    @staticmethod
    def _bad_name(rank: int, tmp: bool = False) -> str:
        return f"{BAD_INPUT_DIR}/.part-{rank:05d}.jsonl.tmp" if tmp else f"{BAD_INPUT_DIR}/part-{rank:05d}.jsonl"

    def _finish_bad_ledger(self, rank: int) -> None:
        if self._bad_file is not None:
            self._bad_file.close()
            self._bad_file = None
            get_datafolder(self.output_dir).mv(self._bad_name(rank, tmp=True), self._bad_name(rank))

    # -- progress ---------------------------------------------------------------------------------------------
    def _publish_progress(self, rank: int, force: bool = False) -> None:
        if not self.progress_dir:
            return
        now = time.monotonic()
        if not force and now - self._last_progress < PROGRESS_EVERY_S:
            return
        self._last_progress = now
        os.makedirs(self.progress_dir, exist_ok=True)
        path = os.path.join(self.progress_dir, f"{rank:05d}.json")
        with open(path + ".tmp", "wb") as f:
            f.write(orjson.dumps(self._progress))
        os.replace(path + ".tmp", path)

    # -- reading ----------------------------------------------------------------------------------------------
    def _records(self, unit: WorkUnit, roots: dict, rank: int, world_size: int) -> tuple[Iterator, RecordContext]:
        src = self.sources[unit.source]
        fmt = FORMATS[src.format]
        text_key = src.text_key or fmt.default_text_key
        id_key = src.id_key or fmt.default_id_key
        if unit.file is None:
            ctx = RecordContext(src.name, src.split, 0, text_key, id_key, id_from_text=True)
            return hf_stream.iter_stream(src, rank, world_size), ctx
        fs, root = roots[unit.source]
        ctx = RecordContext(src.name, relative_path(unit.file, root), 0, text_key, id_key)
        if fmt.open_file:
            ctx.extras = fmt.open_file(fs, unit.file, root, src)
        span = unit.span
        if fmt.read:
            return fmt.read(fs, unit.file, span, src), ctx
        if fmt.container == "parquet":
            return iter_parquet(fs, unit.file, row_groups=(span.start, span.end) if span else None), ctx
        return iter_jsonl(fs, unit.file, src.compression, byte_range=(span.start, span.end) if span else None), ctx

    def read_unit(
        self, unit: WorkUnit, roots: dict, rank: int, world_size: int, budget: dict[int, int | None]
    ) -> DocumentsPipeline:
        src = self.sources[unit.source]
        fmt = FORMATS[src.format]
        records, ctx = self._records(unit, roots, rank, world_size)
        where = unit.file or f"hf:{src.hf_dataset}[{src.split}]"
        max_bytes = int(src.max_doc_bytes)
        label = POSITION[fmt.container] if unit.file else "row"
        for item in records:
            if budget[unit.source] is not None and budget[unit.source] <= 0:
                break
            if isinstance(item, BadInput):
                self._report_bad(item, src)
                continue
            assert isinstance(item, Record)
            ctx.index = item.index
            position = f"{label} {item.index}"
            try:
                doc = fmt.adapt(item.data, ctx)
            except BadRecord as e:
                self._report_bad(BadInput(where, position, str(e)), src)
                continue
            if len(doc.text) * 4 > max_bytes and (size := len(doc.text.encode("utf-8", "surrogatepass"))) > max_bytes:
                self._report_bad(
                    BadInput(
                        where, position, f"document of {size:,} bytes exceeds max_doc_bytes={max_bytes:,}", doc.id
                    ),
                    src,
                )
                continue
            doc.metadata[READ_ORDER] = read_order_key(unit.source, ctx.relpath, item.index)
            if budget[unit.source] is not None:
                budget[unit.source] -= 1
            self.stat_update("documents", f"documents/{src.name}")
            self._progress["documents"] += 1
            self._publish_progress(rank)
            yield doc

    def _share(self, source: int, tasks: list[list[WorkUnit]], rank: int) -> int | None:
        """This task's part of a source's ``limit``, split among the tasks that hold the source's files."""
        src = self.sources[source]
        if src.limit is None or src.hf_dataset:
            return src.limit  # a stream applies its limit once, before splitting
        owners = [t for t, units in enumerate(tasks) if any(u.source == source for u in units)]
        if rank not in owners:
            return 0
        return split_limit(src.limit, owners.index(rank), len(owners))

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        logs.quiet_task_console()
        self._rank = rank
        plan = plan_units(self.sources, world_size)
        roots = plan.roots
        mine = plan.tasks[rank] + plan.streams  # every task reads its split of each stream
        budget = {i: self._share(i, plan.tasks, rank) for i in range(len(self.sources))}
        self._progress["files_total"] = len(mine)
        self._publish_progress(rank, force=True)
        for unit in mine:
            if unit.file is not None:
                part = f" ({unit.span.unit} {unit.span.start:,}-{unit.span.end:,})" if unit.span else ""
                logger.info(f"reading {unit.file}{part}")
                if unit.first_part:  # a file cut into parts is counted once, by the task that reads its start
                    self.stat_update("input_files")
                if unit.span is not None:
                    self.stat_update("input_file_parts")
            try:
                yield from self.read_unit(unit, roots, rank, world_size, budget)
            except SourceIOError as e:
                logger.error(f"task {rank}: {e}")
                raise
            self._progress["files_done"] += 1
            self._publish_progress(rank, force=True)
        self._finish_bad_ledger(rank)
        self._progress["done"] = True
        self._publish_progress(rank, force=True)


def read_source(source: dict | SourceConfig, rank: int = 0, world_size: int = 1) -> Iterator:
    """Documents of one recipe source mapping, e.g. ``{"name": "x", "format": "jsonl", "path": "a/*.jsonl"}``.

    For tools that read corpora outside a run (classifier training, benchmarks); bad input is logged and skipped.
    """
    cfg = source if isinstance(source, SourceConfig) else SourceConfig.model_validate(source)
    yield from CorpusReader([cfg]).run(None, rank, world_size)
