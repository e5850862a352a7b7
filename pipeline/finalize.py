"""After the tasks: ``OUTPUT/manifest.json`` and ``OUTPUT/stats.json``.

The manifest lists every output file (kept shards, ledger shards, bad-input ledgers) with rows, bytes and sha256,
so a consumer can check what it downloaded. The stats combine two independent accounts: datatrove's per-task
counters (documents read, bad input, each stage's in/kept/dropped by reason) and the rows actually found in the
output files (kept and dropped per source). ``reconciled`` says that every document read is in exactly one place,
``data/`` or ``removed/``: documents read = kept + dropped, and no id appears twice across ``data/`` and
``removed/`` (ids are hashed to 64 bits, 8 bytes a document, and only colliding hashes are compared as strings).
A mismatch is reported, never hidden, and makes ``curate run`` exit non-zero.

Both files are rebuilt from scratch on every run, so a resumed run's files describe the whole output.

Once every task finished, the hand-off copies between phases (``work/handoff_*``: every document, as it was
before the later stages, unscrubbed when a ``pii`` stage comes later) are deleted: a finished run never needs
them again (a re-run skips every completed task), and they are a full copy of the corpus.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter, defaultdict
from typing import Any

import numpy as np
import orjson
import polars as pl
import pyarrow.parquet as pq
from datatrove.data import DocumentsPipeline
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep

from pipeline.plan import DATA_DIR, HANDOFF_PREFIX, LOGS_DIR, REMOVED_DIR, WORK_DIR
from pipeline.readers.corpus_reader import BAD_INPUT_DIR

FLOW_KEYS = ("total", "forwarded", "dropped", "doc_len", "doc_len_tokens")


def _total(value: Any) -> float:
    if isinstance(value, dict):
        return value.get("total", 0)
    return value or 0


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


def load_task_stats(output_dir: str) -> dict[str, Counter]:
    """Sum datatrove's per-task stats files of every phase, keyed by step name (Curate names steps by label)."""
    folder = get_datafolder(output_dir)
    merged: dict[str, Counter] = defaultdict(Counter)
    for path in sorted(folder.glob(f"{LOGS_DIR}/*/stats/*.json")):
        with folder.open(path, "rt") as f:
            steps = json.load(f)
        for step in steps:
            for key, value in step.get("stats", {}).items():
                merged[step["name"]][key] += _total(value)
    return merged


def _sha256(folder: Any, path: str) -> str:
    h = hashlib.sha256()
    with folder.open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _parquet_files(folder: Any, subdir: str) -> list[str]:
    return sorted(folder.glob(f"{subdir}/part-*.parquet"))


def _describe(folder: Any, path: str) -> dict:
    with folder.open(path, "rb") as f:
        rows = pq.ParquetFile(f).metadata.num_rows
    return {"path": path, "rows": rows, "bytes": folder.size(path), "sha256": _sha256(folder, path)}


class IdLedger:
    """Every id of the output, as 64-bit hashes, to find ids written more than once."""

    def __init__(self) -> None:
        self.hashes: list[np.ndarray] = []
        self.paths: list[str] = []

    @staticmethod
    def _hash(ids) -> np.ndarray:
        return pl.Series(ids).cast(pl.Utf8).hash(seed=0).to_numpy()

    def add(self, path: str, ids) -> None:
        self.paths.append(path)
        self.hashes.append(self._hash(ids))

    def duplicates(self, folder: Any) -> tuple[int, list[str]]:
        """How many rows repeat an id already seen, and a few such ids (collisions are checked exactly)."""
        if not self.hashes:
            return 0, []
        hashes = np.sort(np.concatenate(self.hashes))
        repeated = np.unique(hashes[1:][hashes[1:] == hashes[:-1]])
        if not len(repeated):
            return 0, []
        counts: Counter = Counter()
        for path in self.paths:
            with folder.open(path, "rb") as f:
                ids = pq.ParquetFile(f).read(columns=["id"]).column("id")
            mask = np.isin(self._hash(ids), repeated)
            counts.update(np.asarray(ids.to_pylist(), dtype=object)[mask].tolist())
        dupes = {i: n for i, n in counts.items() if n > 1}
        return sum(n - 1 for n in dupes.values()), sorted(dupes)[:10]


def _count_sources(folder: Any, paths: list[str], ids: IdLedger) -> Counter:
    counts: Counter = Counter()
    for path in paths:
        with folder.open(path, "rb") as f:
            table = pq.ParquetFile(f).read(columns=["id", "source"])  # read_table imports pandas
        counts.update(table.column("source").to_pylist())
        ids.add(path, table.column("id"))
    return counts


def build_manifest(output_dir: str, recipe_name: str | None = None) -> dict:
    folder = get_datafolder(output_dir)
    data = [_describe(folder, p) for p in _parquet_files(folder, DATA_DIR)]
    removed = {}
    for sub in sorted(folder.glob(f"{REMOVED_DIR}/*")):
        label = sub.rsplit("/", 1)[-1]
        shards = [_describe(folder, p) for p in _parquet_files(folder, f"{REMOVED_DIR}/{label}")]
        removed[label] = {
            "rows": sum(s["rows"] for s in shards),
            "bytes": sum(s["bytes"] for s in shards),
            "shards": shards,
        }
    bad_files = sorted(folder.glob(f"{BAD_INPUT_DIR}/part-*.jsonl"))
    bad = []
    for path in bad_files:
        with folder.open(path, "rb") as f:
            rows = sum(1 for line in f if line.strip())
        bad.append({"path": path, "rows": rows, "bytes": folder.size(path), "sha256": _sha256(folder, path)})
    manifest = {
        "recipe": recipe_name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "data": {"rows": sum(s["rows"] for s in data), "bytes": sum(s["bytes"] for s in data), "shards": data},
        "removed": removed,
        "bad_input": {"rows": sum(b["rows"] for b in bad), "files": bad},
    }
    from pipeline.tokens.shards import tokens_manifest  # noqa: PLC0415 - training shards (output.tokens)

    if tokens := tokens_manifest(folder, _describe):
        manifest["tokens"] = tokens
    return manifest


def build_stats(output_dir: str, stage_labels: list[str], source_names: list[str]) -> dict:
    folder = get_datafolder(output_dir)
    task_stats = load_task_stats(output_dir)
    reader = task_stats.get("reader", Counter())
    read = int(reader["documents"])
    bad = int(reader["bad_input"])

    stages = []
    flowing = read
    for label in stage_labels:
        # a multi-phase stage counts in two places: its collect steps (before the barrier) and its apply steps
        parts = [task_stats[name] for name in (f"{label}:collect", label) if name in task_stats]
        merged: Counter = sum(parts, Counter())
        n_in = next((int(p["total"]) for p in parts if "total" in p), flowing)
        dropped = int(merged["dropped"])
        reasons = {k.removeprefix("dropped_"): _num(v) for k, v in sorted(merged.items()) if k.startswith("dropped_")}
        counters = Counter()
        for name, counts in task_stats.items():
            if name in (label, f"{label}:collect"):  # global phases report through their apply step
                # datatrove's per-step document stats describe the stage only on its last (apply) step
                skip = ("total", "forwarded", "dropped") if name == label else FLOW_KEYS
                counters.update({k: v for k, v in counts.items() if k not in skip and not k.startswith("dropped_")})
        stages.append(
            {
                "stage": label,
                "in": n_in,
                "kept": n_in - dropped,
                "dropped": dropped,
                "dropped_by_reason": reasons,
                "counters": {k: _num(v) for k, v in sorted(counters.items())},
            }
        )
        flowing = n_in - dropped

    ids = IdLedger()
    kept_by_source = _count_sources(folder, _parquet_files(folder, DATA_DIR), ids)
    dropped_by_source_stage: dict[str, Counter] = defaultdict(Counter)
    for sub in sorted(folder.glob(f"{REMOVED_DIR}/*")):
        label = sub.rsplit("/", 1)[-1]
        for src, n in _count_sources(folder, _parquet_files(folder, f"{REMOVED_DIR}/{label}"), ids).items():
            dropped_by_source_stage[src][label] += n
    duplicate_ids, duplicate_examples = ids.duplicates(folder)
    sources = {}
    for name in source_names:
        sources[name] = {
            "read": int(reader[f"documents/{name}"]),
            "bad_input": int(reader[f"bad_input/{name}"]),
            "kept": kept_by_source.get(name, 0),
            "dropped": sum(dropped_by_source_stage[name].values()),
            "dropped_by_stage": dict(dropped_by_source_stage[name]),
        }
    kept = sum(kept_by_source.values())
    dropped = sum(sum(c.values()) for c in dropped_by_source_stage.values())
    return {
        "documents_read": read,
        "bad_input": bad,
        "kept": kept,
        "dropped": dropped,
        "input_files": int(reader["input_files"]),
        "duplicate_ids": duplicate_ids,  # rows whose id is already in data/ or removed/: 0 in a sound output
        "duplicate_id_examples": duplicate_examples,
        "stages": stages,
        "sources": sources,
        "reconciled": read == kept + dropped and duplicate_ids == 0,
    }


def finalize_output(
    output_dir: str, recipe_name: str, stage_labels: list[str], source_names: list[str]
) -> tuple[dict, dict]:
    """Write ``manifest.json`` and ``stats.json``; return both."""
    folder = get_datafolder(output_dir)
    manifest = build_manifest(output_dir, recipe_name)
    stats = build_stats(output_dir, stage_labels, source_names)
    for name, payload in (("manifest.json", manifest), ("stats.json", stats)):
        with folder.open(f".{name}.tmp", "wb") as f:
            f.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2))
        folder.mv(f".{name}.tmp", name)
    remove_handoffs(output_dir)
    return manifest, stats


def remove_handoffs(output_dir: str) -> None:
    """Delete ``work/handoff_*`` of a finished run (see the module docstring)."""
    folder = get_datafolder(output_dir)
    for path in folder.glob(f"{WORK_DIR}/{HANDOFF_PREFIX}*"):
        if folder.isdir(path):
            folder.rm(path, recursive=True)


class FinalizeRun(PipelineStep):
    """The last one-task job of a cluster run (Slurm): writes the manifest, stats and report once every task is done."""

    type = "🧾 - FINALIZE"
    name = "🧾 Manifest and stats"

    def __init__(self, output_dir: str, recipe_name: str, stage_labels: list[str], source_names: list[str]):
        super().__init__()
        self.args = (output_dir, recipe_name, stage_labels, source_names)

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        _, stats = finalize_output(*self.args)
        from pipeline.report import write_report

        report, _ = write_report(self.args[0], show_progress=False)  # as `curate run` writes it locally
        if not stats["reconciled"] or report["reconciliation"]["ok"] is False:
            # the job fails, so `curate status` and the scheduler show it; stats.json and the report say what
            raise RuntimeError(f"the output does not reconcile: see {self.args[0]}/stats.json and report/")
