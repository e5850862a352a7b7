"""The report's training sections: benchmark contamination and the tokenized training mixture.

* ``contamination``: per ``decontaminate`` stage and benchmark, the items in the evaluation set (from the stage's
  ``work/<label>/index/index.json``), how many of them were found in the corpus (distinct items in the ledger's
  ``decontaminate.items``), and the documents and tokens removed (the ledger rows with reason
  ``contaminated:<benchmark>``, tokens as the rest of the report counts them).
* ``training_tokens``: ``tokens/tokens.json`` (targets, shares, copies per document, shards) checked against the
  provenance sidecars actually written (``tokens/*.parquet``: sequences and tokens per source), with the Chinchilla
  figures for that token budget.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import orjson
import pyarrow.parquet as pq

from pipeline.report import chinchilla
from pipeline.report.scan import Scan

REASON_PREFIX = "contaminated:"
ITEMS_COLUMN = "decontaminate.items"


def _json(folder: Any, path: str) -> Any:
    if not folder.exists(path):
        return None
    with folder.open(path, "rb") as f:
        return orjson.loads(f.read())


def contamination(folder: Any, scan: Scan) -> dict:
    out: dict[str, dict] = {}
    for path in sorted(folder.glob("work/*/index/index.json")):
        label = path.split("/")[-3]
        info = _json(folder, path) or {}
        found: dict[str, set] = defaultdict(set)
        for shard in sorted(folder.glob(f"removed/{label}/part-*.parquet")):
            with folder.open(shard, "rb") as f:
                pf = pq.ParquetFile(f)
                if ITEMS_COLUMN not in pf.schema_arrow.names:
                    continue
                for items in pf.read(columns=[ITEMS_COLUMN]).column(0).to_pylist():
                    for item in items or []:
                        benchmark, _, name = item.partition("/")
                        found[benchmark].add(name)
        rows = {}
        for benchmark, b in info.get("benchmarks", {}).items():
            docs = tokens = 0
            for (lbl, _, reason), t in scan.dropped.items():
                if lbl == label and reason == f"{REASON_PREFIX}{benchmark}":
                    docs += t.documents
                    tokens += t.tokens
            rows[benchmark] = {
                "items": b.get("items", 0),
                "items_shorter_than_ngram": b.get("items_shorter_than_ngram", 0),
                "items_found": len(found.get(benchmark, ())),
                "documents_removed": docs,
                "tokens_removed": tokens,
                "path": b.get("path"),
            }
        out[label] = {"ngram": info.get("ngram"), "benchmarks": rows}
    return out


def training_tokens(folder: Any, options: Any) -> dict | None:
    summary = _json(folder, "tokens/tokens.json")
    if summary is None:
        return None
    written: Counter = Counter()
    sequences: Counter = Counter()
    repeated = 0
    for path in sorted(folder.glob("tokens/*.parquet")):
        with folder.open(path, "rb") as f:
            table = pq.ParquetFile(f).read(columns=["source", "tokens", "repetition"])  # read_table imports pandas
        for src, n, rep in zip(*(table.column(c).to_pylist() for c in ("source", "tokens", "repetition")), strict=True):
            written[src] += n
            sequences[src] += 1
            repeated += n if rep else 0
    total = sum(written.values())
    sources = {}
    for name, s in summary.get("sources", {}).items():
        sources[name] = {
            **s,
            "written_tokens": written.get(name, 0),
            "written_sequences": sequences.get(name, 0),
            "written_share": written.get(name, 0) / total if total else 0.0,
        }
    return {
        "tokenizer": summary.get("tokenizer"),
        "eos_token": summary.get("eos_token"),
        "format": summary.get("format"),
        "dtype": summary.get("dtype"),
        "shuffle": summary.get("shuffle"),
        "target_tokens": summary.get("target_tokens"),
        "planned_tokens": summary.get("tokens"),
        "written_tokens": total,
        "repeated_tokens": repeated,
        "unique_tokens": summary.get("unique_tokens"),
        "shards": len(summary.get("shards", [])),
        "score": summary.get("score"),
        "copies_histogram": summary.get("copies_histogram", {}),
        "sources": sources,
        "consistent": total == summary.get("tokens"),
        "chinchilla": chinchilla.budgets(total, options.model_sizes, options.budgets, options.tokens_per_parameter),
    }
