"""Tokenized training output: Megatron-LM and datatrove shards with Parquet provenance, read back independently.

The readers here are written from the formats' documentation (Megatron-LM's
``megatron/core/datasets/indexed_dataset.py``: ``_IndexWriter``/``_IndexReader``; datatrove's ``TokenizedFile``),
not from Curate's writer: every sequence is decoded with the ``tokenizers`` library and compared with the text of
the record at the input file and row that its provenance row names.
"""

from __future__ import annotations

import json
import struct
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from conftest import run_curate, write_recipe
from tokenizers import Tokenizer

from pipeline.readers.files import iter_jsonl
from pipeline.resources import data_path

SAMPLES = data_path("samples")
GPT2 = Tokenizer.from_file(str(data_path("tokenizers", "gpt2", "tokenizer.json")))
EOS = 50256
MEGATRON_DTYPES = {1: np.uint8, 2: np.int8, 3: np.int16, 4: np.int32, 5: np.int64, 6: np.float64, 7: np.float32,
                   8: np.uint16}  # fmt: skip


def read_megatron(prefix: Path) -> list[np.ndarray]:
    idx = prefix.with_suffix(".idx").read_bytes()
    assert idx[:9] == b"MMIDIDX\x00\x00"
    (version,) = struct.unpack("<Q", idx[9:17])
    assert version == 1
    dtype = np.dtype(MEGATRON_DTYPES[idx[17]])
    sequences, documents = struct.unpack("<QQ", idx[18:34])
    offset = 34
    lengths = np.frombuffer(idx, np.int32, sequences, offset)
    pointers = np.frombuffer(idx, np.int64, sequences, offset + lengths.nbytes)
    doc_index = np.frombuffer(idx, np.int64, documents, offset + lengths.nbytes + pointers.nbytes)
    assert len(idx) == offset + lengths.nbytes + pointers.nbytes + doc_index.nbytes
    assert doc_index.tolist() == list(range(sequences + 1))  # one document per sequence
    data = prefix.with_suffix(".bin").read_bytes()
    assert len(data) == int(lengths.sum()) * dtype.itemsize
    return [np.frombuffer(data, dtype, n, p) for n, p in zip(lengths.tolist(), pointers.tolist(), strict=True)]


def read_datatrove(prefix: Path, token_size: int) -> list[np.ndarray]:
    data = np.frombuffer(Path(f"{prefix}.ds").read_bytes(), dtype=f"<u{token_size}")
    ends = np.frombuffer(Path(f"{prefix}.ds.index").read_bytes(), dtype="<u8")
    assert int(ends[-1]) == len(data)
    starts = np.concatenate(([0], ends[:-1])).astype(np.int64)
    return [data[s:e] for s, e in zip(starts.tolist(), ends.astype(np.int64).tolist(), strict=True)]


def original_text(file: str, row: int, cache: dict) -> str:
    """The text of the record at ``file``/``row`` as the corpus holds it (Parquet: 0-based row; JSON lines: line)."""
    if file not in cache:
        if file.endswith(".parquet"):
            cache[file] = dict(enumerate(pq.read_table(file, columns=["text"]).column(0).to_pylist()))
        else:
            import fsspec

            fs = fsspec.filesystem("file")
            cache[file] = {r.index: r.data["text"] for r in iter_jsonl(fs, file) if hasattr(r, "data")}
    return cache[file][row]


def sequences_with_provenance(out: Path, fmt: str) -> list[tuple[np.ndarray, dict]]:
    pairs = []
    for sidecar in sorted((out / "tokens").glob("part-*.parquet")):
        prefix = sidecar.with_suffix("")
        seqs = read_megatron(prefix) if fmt == "megatron" else read_datatrove(prefix, 2)
        rows = pq.read_table(sidecar).to_pylist()
        assert len(rows) == len(seqs)
        assert [r["position"] for r in rows] == list(range(len(rows)))
        assert [r["token_start"] for r in rows] == np.cumsum([0] + [len(q) for q in seqs[:-1]]).tolist()
        pairs += list(zip(seqs, rows, strict=True))
    return pairs


def check_decodes_to_source(pairs: list[tuple[np.ndarray, dict]]) -> None:
    cache: dict = {}
    for seq, row in pairs:
        assert row["tokens"] == len(seq) and seq[-1] == EOS and EOS not in seq[:-1].tolist()
        assert GPT2.decode(seq[:-1].tolist(), skip_special_tokens=False) == original_text(
            row["input_file"], row["input_row"], cache
        ), row


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("tokens")
    recipe = {
        "name": "mix",
        "sources": [
            {"name": "fw", "format": "fineweb-edu", "path": str(SAMPLES / "fineweb-edu")},
            {"name": "rp", "format": "redpajama-v1", "path": str(SAMPLES / "redpajama-v1")},
        ],
        "stages": [{"length_filter": {"min_words": 50}}],
        "mixture": {
            "target_tokens": "80K",
            "seed": 7,
            "sources": {"fw": {"share": 0.6, "max_epochs": 4}, "rp": {"share": 0.4, "max_epochs": 2}},
        },
        "output": {
            "path": str(tmp / "out"),
            "tokens": {
                "tokenizer": "gpt2",
                "format": "megatron",
                "shuffle": True,
                "seed": 3,
                "shard_max_tokens": 30000,
            },
        },
        "executor": {"kind": "local", "tasks": 2},
    }
    assert run_curate("run", write_recipe(tmp / "r.yaml", recipe)) == 0
    return tmp / "out"


def test_megatron_shards_decode_to_the_records_their_provenance_names(mixed):
    pairs = sequences_with_provenance(mixed, "megatron")
    assert len(list((mixed / "tokens").glob("*.idx"))) >= 3  # 80K tokens cut at 30K per shard
    check_decodes_to_source(pairs)
    kept = {
        r["id"]: r["text"] for f in sorted((mixed / "data").glob("*.parquet")) for r in pq.read_table(f).to_pylist()
    }
    for seq, row in pairs:  # and from there, by id, to the curated output
        assert GPT2.decode(seq[:-1].tolist()) == kept[row["id"]]


def test_token_total_equals_the_report(mixed):
    pairs = sequences_with_provenance(mixed, "megatron")
    total = sum(len(s) for s, _ in pairs)
    report = json.loads((mixed / "report" / "report.json").read_text())
    assert report["training_tokens"]["written_tokens"] == total
    assert report["training_tokens"]["consistent"] is True
    assert json.loads((mixed / "tokens" / "tokens.json").read_text())["tokens"] == total
    assert "Training tokens" in (mixed / "report" / "report.md").read_text()
    manifest = json.loads((mixed / "manifest.json").read_text())
    listed = {f["path"] for f in manifest["tokens"]["files"]}
    assert listed == {f"tokens/{p.name}" for p in (mixed / "tokens").glob("part-*")}
    assert manifest["tokens"]["sequences"] == len(pairs)


def test_mixture_meets_shares_and_never_exceeds_max_epochs(mixed):
    pairs = sequences_with_provenance(mixed, "megatron")
    by_source = defaultdict(int)
    copies: dict[str, list[int]] = defaultdict(list)
    for seq, row in pairs:
        by_source[row["source"]] += len(seq)
        copies[row["id"]].append(row["repetition"])
    total = sum(by_source.values())
    assert abs(total - 80_000) / 80_000 < 0.01
    assert abs(by_source["fw"] / total - 0.6) < 0.01 and abs(by_source["rp"] / total - 0.4) < 0.01
    limits = {"fw": 4, "rp": 2}
    sources = {row["id"]: row["source"] for _, row in pairs}
    for doc_id, reps in copies.items():
        assert reps == list(range(len(reps)))  # numbered in training order, 0 first
        assert len(reps) <= limits[sources[doc_id]]
    assert max(len(r) for r in copies.values()) > 1  # fw is short of 48K tokens: it is repeated


def test_datatrove_format_without_mixture(tmp_path: Path):
    recipe = {
        "name": "ds",
        "sources": [{"name": "rp", "format": "redpajama-v1", "path": str(SAMPLES / "redpajama-v1")}],
        "output": {"path": str(tmp_path / "out"), "tokens": {"format": "datatrove", "shuffle": False}},
        "executor": {"kind": "local", "tasks": 1},
    }
    assert run_curate("run", write_recipe(tmp_path / "r.yaml", recipe)) == 0
    out = tmp_path / "out"
    assert (out / "tokens" / "part-00000.ds.metadata").read_text().splitlines()[0] == "gpt2|2"
    pairs = sequences_with_provenance(out, "datatrove")
    check_decodes_to_source(pairs)
    kept = pq.read_table(sorted((out / "data").glob("*.parquet"))[0], columns=["id"]).column(0).to_pylist()
    assert [r["id"] for _, r in pairs] == kept  # not shuffled: every kept document once, in output order
    assert {r["repetition"] for _, r in pairs} == {0}


def test_training_mix_recipe_plans_index_first_and_token_phases_last(tmp_path: Path):
    from pipeline.plan import build_plan
    from pipeline.recipe import load_recipe

    recipe = load_recipe("training_mix")
    plan = build_plan(recipe, str(tmp_path / "out"))
    names = [p.name for p in plan.phases]
    assert names[0] == "00_00_decontaminate_index" and not plan.phases[0].per_task
    assert plan.phases[1].per_task
    assert names[-3].endswith("_documents") and plan.phases[-3].per_task
    assert [n.split("_", 1)[1] for n in names[-2:]] == ["tokens_mixture", "tokens_shards"]
    assert names == sorted(names)  # log folders list in the order the phases run
    (decont,) = [e for e in recipe.stages if e.name == "decontaminate"]
    assert Path(decont.params.eval[0].path) == data_path("eval", "humaneval", "HumanEval.jsonl.gz")
    assert recipe.model.mixture.target_tokens == 200_000
