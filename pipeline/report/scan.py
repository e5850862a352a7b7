"""One streaming pass over a run's output: documents, tokens and bytes per source, stage and drop reason.

Reads ``OUTPUT/data/`` (kept) and every ``OUTPUT/removed/<label>/`` (the drop ledger) shard by shard, in record
batches, so memory does not grow with the corpus. Per row it takes:

* bytes: the UTF-8 length of ``text`` as stored (Arrow's ``binary_length``, no Python loop);
* tokens: the ``token_count`` column where the ``token_count`` stage wrote it; a row without one (dropped before
  the stage ran, or a run without the stage) is counted here with the same tokenizer (``count_missing``);
* every numeric signal column (``quality_score``, ``language_score``, ``<stage>.<signal>``) into fixed-edge
  histograms, kept and dropped apart, with edges from a first pass over the numeric columns only;
* ``duplicate_of`` of ledger rows (dedup cluster sizes) and a few examples per stage.

Nothing here re-runs a model on kept text that already has its counts: the report describes the output as written.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.document import ATTRIBUTES_COLUMN, BASE_COLUMNS, LEDGER_COLUMNS
from pipeline.report.arrow_numbers import numbers

DATA_DIR = "data"
REMOVED_DIR = "removed"
TOKEN_COUNT = "token_count"
LANGUAGE = "language"  # language_filter's label
KEPT = "kept"
NUMERIC_BINS = 30
TOKEN_BIN_EDGES = [0.0] + [float(2**k) for k in range(0, 31)]  # [0,1), [1,2), [2,4), ... up to 2^30 tokens
EXAMPLES_PER_GROUP = 3
EXAMPLE_CHARS = 600
BATCH_ROWS = 4096


@dataclass
class Tally:
    documents: int = 0
    tokens: int = 0
    bytes: int = 0

    def add(self, documents: int, tokens: int, nbytes: int) -> None:
        self.documents += documents
        self.tokens += tokens
        self.bytes += nbytes

    def as_dict(self) -> dict[str, int]:
        return {"documents": self.documents, "tokens": self.tokens, "bytes": self.bytes}


@dataclass
class Histogram:
    edges: list[float]
    scale: str  # "linear" or "log2"
    counts: dict[str, np.ndarray] = field(default_factory=dict)  # "kept" / "dropped" -> counts per bin
    n: Counter = field(default_factory=Counter)
    total: Counter = field(default_factory=Counter)
    low: dict[str, float] = field(default_factory=dict)
    high: dict[str, float] = field(default_factory=dict)

    def add(self, group: str, values: np.ndarray) -> None:
        values = values[np.isfinite(values)]
        if values.size == 0:
            return
        counts, _ = np.histogram(np.clip(values, self.edges[0], self.edges[-1]), bins=self.edges)
        self.counts[group] = self.counts.get(group, np.zeros(len(self.edges) - 1, dtype=np.int64)) + counts
        self.n[group] += int(values.size)
        self.total[group] += float(values.sum())
        self.low[group] = min(self.low.get(group, math.inf), float(values.min()))
        self.high[group] = max(self.high.get(group, -math.inf), float(values.max()))

    def as_dict(self) -> dict[str, Any]:
        groups = {}
        for group, counts in self.counts.items():
            groups[group] = {
                "counts": [int(c) for c in counts],
                "n": self.n[group],
                "mean": self.total[group] / self.n[group] if self.n[group] else None,
                "min": self.low[group],
                "max": self.high[group],
            }
        return {"edges": self.edges, "scale": self.scale, "groups": groups}


@dataclass
class Scan:
    """What one pass over the output found."""

    kept_by_source: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    # (stage label, source, reason) -> tally of the documents that stage dropped
    dropped: dict[tuple[str, str, str], Tally] = field(default_factory=lambda: defaultdict(Tally))
    histograms: dict[str, Histogram] = field(default_factory=dict)
    duplicate_of: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    examples: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    # per language (language_filter's ``language`` column; None where no stage wrote one): kept, and dropped per stage
    kept_by_language: dict[str | None, Tally] = field(default_factory=lambda: defaultdict(Tally))
    dropped_by_language: dict[tuple[str, str | None], Tally] = field(default_factory=lambda: defaultdict(Tally))
    has_language: bool = False
    rows_with_token_count: int = 0
    rows_counted_here: int = 0
    files: int = 0


def parquet_files(folder: Any, subdir: str) -> list[str]:
    return sorted(folder.glob(f"{subdir}/part-*.parquet"))


def ledger_labels(folder: Any) -> list[str]:
    return sorted(p.rsplit("/", 1)[-1] for p in folder.glob(f"{REMOVED_DIR}/*") if folder.isdir(p))


def _is_numeric(dtype: pa.DataType) -> bool:
    return pa.types.is_integer(dtype) or pa.types.is_floating(dtype)


def signal_columns(schema: pa.Schema) -> list[str]:
    """Numeric columns that stages declared (signals, scores), apart from ``token_count``."""
    skip = set(BASE_COLUMNS) | set(LEDGER_COLUMNS) | {ATTRIBUTES_COLUMN, TOKEN_COUNT}
    return [f.name for f in schema if f.name not in skip and _is_numeric(f.type)]


def _open(folder: Any, path: str) -> pq.ParquetFile:
    return pq.ParquetFile(folder.open(path, "rb"))


def column_ranges(folder: Any, files: list[str], columns: list[str]) -> dict[str, tuple[float, float]]:
    """Min and max of each numeric column over all files: the first, cheap pass (numeric columns only)."""
    lo: dict[str, float] = {}
    hi: dict[str, float] = {}
    for path in files:
        pf = _open(folder, path)
        present = [c for c in columns if c in pf.schema_arrow.names]
        if not present:
            continue
        table = pf.read(columns=present)
        for c in present:
            values = numbers(table.column(c)).astype(np.float64, copy=False)
            values = values[np.isfinite(values)]
            if values.size:
                lo[c] = min(lo.get(c, math.inf), float(values.min()))
                hi[c] = max(hi.get(c, -math.inf), float(values.max()))
    return {c: (lo[c], hi[c]) for c in lo}


def linear_edges(low: float, high: float, bins: int = NUMERIC_BINS) -> list[float]:
    if high <= low:
        high = low + 1.0
    return [float(x) for x in np.linspace(low, high, bins + 1)]


def _token_counts(
    batch: pa.RecordBatch, count_missing: Callable[[list[str]], list[int]] | None, scan: Scan
) -> np.ndarray:
    n = batch.num_rows
    if TOKEN_COUNT in batch.schema.names:
        column = batch.column(TOKEN_COUNT)
        counts = numbers(column, fill=-1).astype(np.int64)
    else:
        counts = np.full(n, -1, dtype=np.int64)
    missing = np.flatnonzero(counts < 0)
    scan.rows_with_token_count += n - missing.size
    if missing.size:
        if count_missing is None:
            raise ValueError("rows without token_count and no tokenizer to count them")
        texts = batch.column("text").take(pa.array(missing)).to_pylist()
        counts[missing] = count_missing([t or "" for t in texts])
        scan.rows_counted_here += int(missing.size)
    return counts


def _group_sums(keys: list[tuple], counts: np.ndarray, nbytes: np.ndarray) -> Iterator[tuple[tuple, int, int, int]]:
    sums: dict[tuple, list[int]] = {}
    for key, t, b in zip(keys, counts.tolist(), nbytes.tolist(), strict=True):
        s = sums.setdefault(key, [0, 0, 0])
        s[0] += 1
        s[1] += t
        s[2] += b
    for key, (d, t, b) in sums.items():
        yield key, d, t, b


def _scrub_field(scrub: Callable[[str], str], value: str) -> str:
    """A URL through the pii scrubber's field pass (pieces between delimiters too), else as text."""
    field = getattr(scrub, "scrub_field", None)
    return field(value)[0] if field else scrub(value)


def _example(row: dict, scrub: Callable[[str], str]) -> dict:
    text = row.get("text") or ""
    short = text[:EXAMPLE_CHARS]
    return {
        "id": row.get("id"),
        "source": row.get("source"),
        "url": _scrub_field(scrub, row["url"]) if row.get("url") else None,
        "reason": row.get("reason"),
        "token_count": row.get("token_count"),
        "text": scrub(short) + ("…" if len(text) > EXAMPLE_CHARS else ""),
    }


def _take_examples(scan: Scan, group: str, batch: pa.RecordBatch, counts: np.ndarray, scrub) -> None:
    """The first few rows of a group, one reason after another so a stage's different drops all show."""
    chosen = scan.examples[group]
    if len(chosen) >= EXAMPLES_PER_GROUP:
        return
    names = batch.schema.names
    by_reason: dict[Any, list[int]] = defaultdict(list)
    reasons = batch.column("reason").to_pylist()[:200] if "reason" in names else [None] * min(batch.num_rows, 200)
    for i, reason in enumerate(reasons):
        by_reason[reason].append(i)
    order = [i for round_ in zip_longest(*by_reason.values()) for i in round_ if i is not None]
    for i in order[: EXAMPLES_PER_GROUP - len(chosen)]:
        row = {c: batch.column(c)[i].as_py() for c in ("id", "source", "url", "text", "reason") if c in names}
        row["token_count"] = int(counts[i])
        chosen.append(_example(row, scrub))


def scan_output(
    folder: Any,
    count_missing: Callable[[list[str]], list[int]] | None,
    scrub: Callable[[str], str],
    progress: Callable[[int], None] | None = None,
) -> Scan:
    """Stream every kept and ledger shard once (after a numeric-only pass for histogram edges)."""
    scan = Scan()
    groups: list[tuple[str, list[str]]] = [(KEPT, parquet_files(folder, DATA_DIR))]
    groups += [(label, parquet_files(folder, f"{REMOVED_DIR}/{label}")) for label in ledger_labels(folder)]
    all_files = [p for _, files in groups for p in files]

    signals: list[str] = []
    for path in all_files:
        for c in signal_columns(_open(folder, path).schema_arrow):
            if c not in signals:
                signals.append(c)
    for column, (low, high) in column_ranges(folder, all_files, signals).items():
        scan.histograms[column] = Histogram(edges=linear_edges(low, high), scale="linear")
    scan.histograms[TOKEN_COUNT] = Histogram(edges=TOKEN_BIN_EDGES, scale="log2")

    for group, files in groups:
        kept = group == KEPT
        for path in files:
            scan.files += 1
            pf = _open(folder, path)
            names = pf.schema_arrow.names
            wanted = ["id", "text", "source", "url", TOKEN_COUNT, "reason", "duplicate_of", LANGUAGE, *scan.histograms]
            columns = [c for c in dict.fromkeys(wanted) if c in names]
            for batch in pf.iter_batches(batch_size=BATCH_ROWS, columns=columns):
                counts = _token_counts(batch, count_missing, scan)
                nbytes = numbers(pc.binary_length(batch.column("text")), fill=0)  # a null text: 0 bytes
                sources = batch.column("source").to_pylist()
                if kept:
                    for (src,), d, t, b in _group_sums([(s,) for s in sources], counts, nbytes):
                        scan.kept_by_source[src].add(d, t, b)
                else:
                    reasons = batch.column("reason").to_pylist() if "reason" in names else [group] * batch.num_rows
                    keys = [(s, r or group) for s, r in zip(sources, reasons, strict=True)]
                    for (src, reason), d, t, b in _group_sums(keys, counts, nbytes):
                        scan.dropped[(group, src, reason)].add(d, t, b)
                    if "duplicate_of" in names:
                        for target in batch.column("duplicate_of").drop_null().to_pylist():
                            scan.duplicate_of[group][target] += 1
                _tally_languages(scan, group, batch, counts, nbytes)
                hist_group = "kept" if kept else "dropped"
                scan.histograms[TOKEN_COUNT].add(hist_group, counts.astype(np.float64))
                for column, histogram in scan.histograms.items():
                    if column != TOKEN_COUNT and column in names:
                        values = numbers(batch.column(column)).astype(np.float64)
                        histogram.add(hist_group, values)
                _take_examples(scan, group, batch, counts, scrub)
                if progress:
                    progress(batch.num_rows)
    return scan


def _tally_languages(scan: Scan, group: str, batch: pa.RecordBatch, counts: np.ndarray, nbytes: np.ndarray) -> None:
    if LANGUAGE in batch.schema.names:
        scan.has_language = True
        languages = batch.column(LANGUAGE).to_pylist()
    else:
        languages = [None] * batch.num_rows
    for (language,), d, t, b in _group_sums([(x,) for x in languages], counts, nbytes):
        tally = scan.kept_by_language[language] if group == KEPT else scan.dropped_by_language[(group, language)]
        tally.add(d, t, b)


def total_rows(folder: Any) -> int:
    """Rows in every kept and ledger shard, from the Parquet footers (for a progress bar's total)."""
    files = parquet_files(folder, DATA_DIR)
    for label in ledger_labels(folder):
        files += parquet_files(folder, f"{REMOVED_DIR}/{label}")
    return sum(_open(folder, p).metadata.num_rows for p in files)
