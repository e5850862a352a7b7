"""The decontamination n-gram index: built once per run by a one-task phase, read by every task.

``OUTPUT/work/<label>/index/`` holds:

* ``vocabulary.txt``: every word of the evaluation sets after normalisation, one per line (line i = id i);
* ``ngrams.npy``: the sorted, distinct 64-bit hashes of every item's n-grams (``uint64``);
* ``items.npy``: for each hash, the first item that has it (``int32``, an index into ``items.parquet``);
* ``filter.npy``: a bit per slot of the top bits of the hashes (16 slots per n-gram, a power of two), so a
  document's n-grams that cannot be in the index (nearly all of them) are rejected with one lookup each before the
  binary search;
* ``items.parquet``: ``benchmark``, ``item`` (label) per item; ``index.json``: counts per benchmark and sizes.

Tasks memory-map the two arrays (pages shared by every task on a machine) and load the vocabulary as a dict:
12 to 16 bytes per distinct n-gram plus ~100 bytes per distinct word (README gives measured figures).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np
import polars as pl
from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from pipeline.decont.eval_sets import iter_items
from pipeline.decont.ngrams import Vocabulary, multipliers, ngram_hashes, normalise
from pipeline.dedup import workfiles as wf

INDEX_DIR = "index"
INFO_FILE = f"{INDEX_DIR}/index.json"
ERROR_FILE = "error.txt"  # read by `curate run` when the phase failed (pipeline/tokens/output_plan.run_error)


@dataclass(frozen=True)
class EvalSpec:
    name: str
    path: str
    fields: tuple[str, ...]
    id_field: str | None = None
    format: str = "infer"


def bit_filter(hashes: np.ndarray) -> np.ndarray:
    """Bits set at the top ``k`` bits of every hash, ``2**k`` >= 16 slots per hash."""
    k = max(16, int(np.ceil(np.log2(max(len(hashes), 1) * 16))))
    bits = np.zeros(2**k // 8, dtype=np.uint8)
    slots = (hashes >> np.uint64(64 - k)).astype(np.int64)
    np.bitwise_or.at(bits, slots >> 3, (1 << (slots & 7)).astype(np.uint8))
    return bits


def filter_bits(bits: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    k = int(np.log2(len(bits) * 8))
    slots = (hashes >> np.uint64(64 - k)).astype(np.int64)
    return ((bits[slots >> 3] >> (slots & 7).astype(np.uint8)) & 1).astype(bool)


def build_index(specs: list[EvalSpec], n: int) -> tuple[Vocabulary, np.ndarray, np.ndarray, pl.DataFrame, dict]:
    vocab = Vocabulary()
    mult = multipliers(n)
    hashes: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    labels: list[tuple[str, str]] = []
    per_benchmark = {}
    for spec in specs:
        items = short = ngrams = 0
        for item in iter_items(spec.path, list(spec.fields), spec.id_field, spec.format, spec.name):
            index = len(labels)
            labels.append((spec.name, item.label))
            items += 1
            got = 0
            for text in item.texts:
                h, _ = ngram_hashes(vocab.add(normalise(text)), n, mult)
                if len(h):
                    hashes.append(h)
                    owners.append(np.full(len(h), index, dtype=np.int32))
                    got += len(h)
            short += got == 0
            ngrams += got
        per_benchmark[spec.name] = {
            "path": spec.path,
            "fields": list(spec.fields),
            "items": items,
            "items_shorter_than_ngram": short,
            "ngrams": ngrams,
        }
    all_hashes = np.concatenate(hashes) if hashes else np.empty(0, dtype=np.uint64)
    all_owners = np.concatenate(owners) if owners else np.empty(0, dtype=np.int32)
    order = np.argsort(all_hashes, kind="stable")  # stable: a shared n-gram points to its first item
    all_hashes, all_owners = all_hashes[order], all_owners[order]
    first = np.ones(len(all_hashes), dtype=bool)
    first[1:] = all_hashes[1:] != all_hashes[:-1]
    table = pl.DataFrame(labels, schema={"benchmark": pl.String, "item": pl.String}, orient="row")
    info = {
        "ngram": n,
        "benchmarks": per_benchmark,
        "items": len(labels),
        "distinct_ngrams": int(first.sum()),
        "vocabulary": len(vocab.words),
    }
    return vocab, all_hashes[first], all_owners[first], table, info


class BuildNgramIndex(PipelineStep):
    """One task: read every evaluation set, write the index under the stage's work folder."""

    type = "🧪 - DECONT"
    name = "🧪 n-gram index"

    def __init__(self, specs: list[EvalSpec], n: int, work_dir: str):
        super().__init__()
        self.specs = specs
        self.n = n
        self.work_dir = work_dir

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        start = time.perf_counter()
        f = wf.folder(self.work_dir)
        if f.exists(ERROR_FILE):
            f.rm(ERROR_FILE)
        try:
            with self.track_time():
                vocab, hashes, owners, items, info = build_index(self.specs, self.n)
        except ValueError as e:  # an evaluation set without files or fields: say so, not a stack trace
            with f.open(ERROR_FILE, "wt") as out:
                out.write(f"decontaminate: {e}")
            raise
        wf._write_bytes(f, f"{INDEX_DIR}/vocabulary.txt", "\n".join(vocab.words).encode("utf-8", "surrogatepass"))
        wf.save_array(f, f"{INDEX_DIR}/ngrams.npy", hashes)
        wf.save_array(f, f"{INDEX_DIR}/items.npy", owners)
        bits = bit_filter(hashes)
        wf.save_array(f, f"{INDEX_DIR}/filter.npy", bits)
        wf.save_table(f, f"{INDEX_DIR}/items.parquet", items)
        info["index_bytes"] = int(hashes.nbytes + owners.nbytes + bits.nbytes)
        info["build_seconds"] = round(time.perf_counter() - start, 3)
        wf.save_json(f, INFO_FILE, info)
        self.stat_update("eval_items", value=info["items"])
        self.stat_update("eval_ngrams", value=info["distinct_ngrams"])


class NgramIndex:
    """The index as a task reads it: vocabulary dict, memory-mapped sorted hashes and their items."""

    def __init__(self, work_dir: str):
        f = wf.folder(work_dir)
        with f.open(f"{INDEX_DIR}/vocabulary.txt", "rb") as src:
            text = src.read().decode("utf-8", "surrogatepass")
        self.vocab = Vocabulary(text.split("\n") if text else [])
        self.hashes = wf.load_array(f, f"{INDEX_DIR}/ngrams.npy", mmap=True)
        self.owners = wf.load_array(f, f"{INDEX_DIR}/items.npy", mmap=True)
        self.bits = wf.load_array(f, f"{INDEX_DIR}/filter.npy", mmap=True)
        items = wf.load_table(f, f"{INDEX_DIR}/items.parquet")
        self.benchmark = items["benchmark"].to_list()
        self.item = items["item"].to_list()
        self.info = wf.load_json(f, INFO_FILE)
        self.n = int(self.info["ngram"])
        self.mult = multipliers(self.n)

    def matches(self, text: str) -> tuple[list[int], str | None]:
        """The items (indices, in order of first appearance) sharing an n-gram with ``text``, and the first one."""
        if not len(self.hashes):
            return [], None
        words = normalise(text)
        if len(words) < self.n:
            return [], None
        h, starts = ngram_hashes(self.vocab.lookup(words), self.n, self.mult)
        maybe = filter_bits(self.bits, h)
        h, starts = h[maybe], starts[maybe]
        if not len(h):
            return [], None
        order = np.argsort(h)  # sorted probes walk the index in order: far fewer cache misses
        pos = np.searchsorted(self.hashes, h[order])
        pos[pos >= len(self.hashes)] = 0
        hit_sorted = self.hashes[pos] == h[order]
        if not hit_sorted.any():
            return [], None
        hit = order[hit_sorted]  # n-gram positions that matched, and the index rows they matched
        rows = pos[hit_sorted]
        by_position = np.argsort(hit, kind="stable")
        hit, rows = hit[by_position], rows[by_position]
        owners = np.asarray(self.owners[rows])
        _, first_seen = np.unique(owners, return_index=True)
        items = [int(o) for o in owners[np.sort(first_seen)]]
        first = int(starts[hit[0]])
        return items, " ".join(words[first : first + self.n])


def index_memory_bytes(work_dir: str) -> int:
    """Bytes of the index files (what a task maps or loads), for the README's figures."""
    f = wf.folder(work_dir)
    files = ("ngrams.npy", "items.npy", "filter.npy")
    return sum(os.path.getsize(f.resolve_paths(f"{INDEX_DIR}/{p}")) for p in files)
