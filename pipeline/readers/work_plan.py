"""Which task reads what: whole files, or parts of big files, balanced by bytes.

The plan depends only on the list of files, their sizes and the task count, so every task computes the same plan
on its own (no coordinator), and a re-run after a crash computes it again identically.

* Many similar files: file ``i`` goes to task ``i % N`` (datatrove's own rule), nothing is split.
* Fewer files than tasks, or very unequal files (the round-robin share of some task would be more than 10% above
  what the files allow): files read whole (a single gzip/zstd stream cannot be cut; files under a piece's size
  are not worth it) are placed first, largest onto the least-loaded task; the bigger splittable files are cut
  into pieces (uncompressed JSON lines by byte range, Parquet by row groups, or whatever a format's
  ``split_units`` returns) and poured in file order onto the tasks, filling each up to a common level, so every
  task gets a fair share. Neighbouring pieces of one file that land on one task are read as one span.

A byte span ``[start, end)`` owns the records that *start* inside it (lines of a JSON-lines file; a format that
splits, e.g. a multi-member ``.warc.gz``, applies the same rule to its records), so adjacent spans read every
record exactly once. Readers of a span report positions (line numbers, row indices) in the whole file, so ids,
read-order keys, the drop ledger and bad-input messages do not depend on the task count.

A format makes its files splittable with two ``CorpusFormat`` fields: ``split_units(fs, file, size, target,
source) -> [Span] | None`` (its pieces, about ``target`` bytes each, covering the file in order; ``None``: read
it whole) and ``read(fs, file, span, source)`` (its records, or only those of ``span``, each ``Record.index`` the
same whatever the span: a byte offset works when counting records would need the whole file before the span).
``warc`` and ``wet`` sources do so (``pipeline/readers/warc.py``): a range is entered at its first record boundary
and a record's index is its byte offset.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

PIECES_PER_TASK = 32  # a task's fair share is cut into about this many pieces: balance within ~1/32 of a share
MIN_PIECE_BYTES = 256 << 10  # no piece smaller than this: smaller files are never cut
BALANCED_ENOUGH = 1.10  # round robin is kept when no task gets more than this times the best possible share


@dataclass(frozen=True)
class Span:
    """Part of a file: bytes ``[start, end)`` or row groups ``[start, end)``; ``size`` is its weight in bytes."""

    start: int
    end: int
    unit: Literal["bytes", "row_groups"] = "bytes"
    size: int = 0


@dataclass(frozen=True)
class WorkUnit:
    source: int  # index into the recipe's sources
    file: str | None  # None: a streamed dataset
    size: int = 0  # bytes (the balancing weight)
    span: Span | None = None  # None: the whole file
    order: int = 0  # the file's place in the recipe's read order

    @property
    def first_part(self) -> bool:
        """The unit that starts its file (counted once as an input file)."""
        return self.span is None or self.span.start == 0


# (fs, file, size, target piece bytes, source config) -> the file's pieces in order, or None: read it whole
SplitUnits = Callable[[Any, str, int, int, Any], "list[Span] | None"]


@dataclass(frozen=True)
class Candidate:
    """A file to place, and how to cut it if it must be cut."""

    source: int
    file: str
    size: int
    split: Callable[[int], list[Span] | None] | None  # target piece bytes -> pieces; None: cannot be split


def assign(candidates: list[Candidate], world_size: int) -> list[list[WorkUnit]]:
    """Each task's units, in read order (see the module docstring for the rule)."""
    whole = [WorkUnit(c.source, c.file, c.size, None, i) for i, c in enumerate(candidates)]
    if world_size <= 1:
        return [whole]
    round_robin: list[list[WorkUnit]] = [[] for _ in range(world_size)]
    for i, u in enumerate(whole):
        round_robin[i % world_size].append(u)
    total = sum(c.size for c in candidates)
    if total == 0:
        return round_robin
    atomic_max = max((c.size for c in candidates if c.split is None), default=0)
    best = max(total / world_size, atomic_max)
    if max(sum(u.size for u in units) for units in round_robin) <= BALANCED_ENOUGH * best:
        return round_robin
    return _balanced(candidates, world_size, total)


def _balanced(candidates: list[Candidate], world_size: int, total: int) -> list[list[WorkUnit]]:
    share = math.ceil(total / world_size)
    piece_bytes = max(math.ceil(share / PIECES_PER_TASK), MIN_PIECE_BYTES)
    tasks: list[list[WorkUnit]] = [[] for _ in range(world_size)]
    loads = [0] * world_size
    stream: list[WorkUnit] = []  # pieces of the files that are cut, in read order
    atomic: list[WorkUnit] = []  # files read whole
    ends: dict[int, int] = {}  # a split file's end, by read order
    for order, c in enumerate(candidates):
        pieces = c.split(piece_bytes) if c.split is not None and c.size > piece_bytes else None
        if not pieces or len(pieces) == 1:  # read whole: cannot be cut, or not worth it
            atomic.append(WorkUnit(c.source, c.file, c.size, None, order))
        else:
            stream.extend(WorkUnit(c.source, c.file, p.size, p, order) for p in pieces)
            ends[order] = pieces[-1].end
    for u in sorted(atomic, key=lambda u: (-u.size, u.order)):  # largest first onto the least-loaded task
        t = min(range(world_size), key=lambda t: (loads[t], t))
        tasks[t].append(u)
        loads[t] += u.size
    # pour the pieces in order, filling every task up to the level at which they are all placed
    level = _water_level(loads, sum(u.size for u in stream))
    bounds, acc = [], 0.0
    for t in range(world_size):
        acc += max(0.0, level - loads[t])
        bounds.append(acc)
    position, t = 0, 0
    for u in stream:
        middle = position + u.size / 2
        while t < world_size - 1 and middle >= bounds[t]:
            t += 1
        tasks[t].append(u)
        position += u.size
    return [_merge(sorted(units, key=lambda u: (u.order, u.span.start if u.span else 0)), ends) for units in tasks]


def _water_level(loads: list[int], amount: int) -> float:
    """The level ``L`` with ``sum(max(0, L - load)) == amount``."""
    ordered = sorted(loads)
    level = float(ordered[0])
    for i, load in enumerate(ordered):
        below = i  # tasks already under the level
        if i and amount <= below * (load - level):
            return level + amount / below
        amount -= below * (load - level)
        level = float(load)
    return level + amount / len(ordered)


def _merge(units: list[WorkUnit], ends: dict[int, int]) -> list[WorkUnit]:
    """Adjacent pieces of one file become one span; a file whose every piece is here is read whole."""
    merged: list[WorkUnit] = []
    for u in units:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and prev.span is not None
            and u.span is not None
            and prev.file == u.file
            and prev.source == u.source
            and prev.span.unit == u.span.unit
            and prev.span.end == u.span.start
        ):
            span = Span(prev.span.start, u.span.end, u.span.unit, prev.span.size + u.span.size)
            merged[-1] = WorkUnit(u.source, u.file, prev.size + u.size, span, u.order)
        else:
            merged.append(u)
    return [
        WorkUnit(u.source, u.file, u.size, None, u.order)
        if u.span is not None and u.span.start == 0 and u.span.end == ends.get(u.order)
        else u
        for u in merged
    ]


# -- the containers' own ways of cutting a file -----------------------------------------------------------------
def byte_spans(size: int, target: int) -> list[Span]:
    """``[0, size)`` cut into equal byte ranges of at most about ``target`` bytes."""
    n = max(1, math.ceil(size / max(1, target)))
    cuts = [size * i // n for i in range(n + 1)]
    return [Span(a, b, "bytes", b - a) for a, b in zip(cuts, cuts[1:], strict=False)]


def split_jsonl(fs: Any, file: str, size: int, target: int, source: Any) -> list[Span] | None:
    """Byte ranges of an uncompressed JSON-lines file (a gzip or zstd stream cannot be entered in the middle)."""
    from pipeline.readers.files import compression_of

    if compression_of(file, getattr(source, "compression", "infer")) is not None or size <= target:
        return None
    return byte_spans(size, target)


def split_parquet(fs: Any, file: str, size: int, target: int, source: Any) -> list[Span] | None:
    """Runs of whole row groups of about ``target`` bytes; ``None`` for one row group or an unreadable footer."""
    import pyarrow.parquet as pq

    from pipeline.readers.files import is_local

    try:
        with open(file, "rb") if is_local(fs) else fs.open(file, "rb") as f:  # noqa: SIM115
            meta = pq.ParquetFile(f).metadata
    except Exception:  # noqa: BLE001 - the reader reports a damaged file; here it is simply not split
        return None
    if meta.num_row_groups < 2:
        return None
    weights = [
        sum(meta.row_group(rg).column(c).total_compressed_size for c in range(meta.num_columns))
        for rg in range(meta.num_row_groups)
    ]
    scale = size / max(1, sum(weights))  # in file bytes, like whole files
    spans, first, acc = [], 0, 0.0
    for rg, w in enumerate(weights):
        if rg > first and acc + w * scale > target:  # pieces of at most ``target`` (or one bigger row group)
            spans.append(Span(first, rg, "row_groups", round(acc)))
            first, acc = rg, 0.0
        acc += w * scale
    spans.append(Span(first, len(weights), "row_groups", round(acc)))
    return spans if len(spans) > 1 else None


CONTAINER_SPLITS: dict[str, SplitUnits] = {"jsonl": split_jsonl, "parquet": split_parquet}
