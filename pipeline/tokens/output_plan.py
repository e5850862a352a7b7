"""``output.tokens`` (and ``mixture``) as executor phases after the Parquet output is written.

1. ``TokenCollect`` runs in the last per-task phase, beside the Parquet writer: ids and one row per kept document
   (``pipeline/tokens/collect.py``).
2. ``NN_tokens_mixture`` (one task): reads every task's rows, counts duplicate-cluster sizes from the drop ledger
   when the mixture ranks by them, decides each document's copies (``pipeline/tokens/mixture.py``), orders every
   copy (shuffled with ``seed`` or not), cuts the order into shards of at most ``shard_max_tokens`` and writes one
   plan per shard plus ``OUTPUT/tokens/tokens.json`` (what will be written: tokenizer, end token, dtype, format,
   shards, the mixture's targets and results). A target that cannot be met stops here with one message, also kept
   in ``OUTPUT/work/tokens/error.txt`` for ``curate run`` to print.
3. ``NN_tokens_shards`` (the run's tasks): task r writes shards r, r + tasks, ... (``pipeline/tokens/shards.py``).

Memory: the mixture task holds one row per kept document and 12 bytes per training sequence; a shard task holds its
plan and memory-maps the id files.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import polars as pl
import pyarrow.parquet as pq
from datatrove.data import DocumentsPipeline
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep

from pipeline.dedup import workfiles as wf
from pipeline.output import read_output_json
from pipeline.recipe import Recipe
from pipeline.tokens.collect import TokenCollect
from pipeline.tokens.config import MixtureConfig, TokensConfig
from pipeline.tokens.encode import TokenEncoder
from pipeline.tokens.mixture import MixtureError, plan_mixture, sequence_order
from pipeline.tokens.shards import TOKENS_DIR, shard_files, shard_name, write_shard

WORK = "work/tokens"
ERROR_FILE = f"{WORK}/error.txt"
SUMMARY_FILE = f"{TOKENS_DIR}/tokens.json"


def cluster_sizes(output_dir: str) -> dict[str, int]:
    """Duplicates removed per surviving id, over every dedup stage's ledger (``duplicate_of``)."""
    folder = get_datafolder(output_dir)
    counts: Counter = Counter()
    for path in sorted(folder.glob("removed/*/part-*.parquet")):
        with folder.open(path, "rb") as f:
            pf = pq.ParquetFile(f)
            if "duplicate_of" not in pf.schema_arrow.names:
                continue
            counts.update(v for v in pf.read(columns=["duplicate_of"]).column(0).to_pylist() if v)
    return dict(counts)


def load_docs(work: wf.DataFolder) -> pl.DataFrame:
    frames = []
    for path in sorted(work.glob("docs/part-*.parquet")):
        rank = int(path.rsplit("part-", 1)[1].split(".")[0])
        frames.append(wf.load_table(work, path).with_columns(pl.lit(rank, dtype=pl.Int32).alias("rank")))
    if not frames:
        return pl.DataFrame(schema={"id": pl.String, "source": pl.String, "tokens": pl.Int64, "rank": pl.Int32})
    return pl.concat(frames)


class MixturePlan(PipelineStep):
    type = "🔢 - TOKENIZER"
    name = "🧮 Mixture and shard plan"

    def __init__(self, output_dir: str, tokens: TokensConfig, mixture: MixtureConfig | None, encoder: TokenEncoder):
        super().__init__()
        self.output_dir = output_dir.rstrip("/")
        self.tokens = tokens
        self.mixture = mixture
        self.info = {
            "tokenizer": encoder.name,
            "eos_token": encoder.eos_token,
            "eos_id": encoder.eos_id,
            "vocab_size": encoder.vocab_size,
            "dtype": encoder.dtype.name,
        }

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        out = get_datafolder(self.output_dir)
        work = wf.folder(f"{self.output_dir}/{WORK}")
        if out.exists(ERROR_FILE):
            out.rm(ERROR_FILE)
        docs = load_docs(work)
        sizes = cluster_sizes(self.output_dir) if self.mixture and self.mixture.score == "cluster_size" else None
        try:
            with self.track_time():
                copies, summary = plan_mixture(docs, self.mixture, sizes)
        except MixtureError as e:
            with out.open(ERROR_FILE, "wt") as f:
                f.write(str(e))
            raise
        ids = docs["id"].to_list()
        doc, repetition = sequence_order(copies, self.tokens.shuffle, self.tokens.seed, ids)
        plan = docs.select(pl.all().gather(doc)).with_columns(pl.Series("repetition", repetition))
        lengths = plan["tokens"].to_numpy() if len(plan) else np.empty(0, np.int64)
        shards = cut_shards(lengths, self.tokens.shard_max_tokens)
        for i, (start, end) in enumerate(shards):
            wf.save_table(work, f"plan/{shard_name(i)}.parquet", plan[start:end])
        for stale in work.glob("plan/part-*.parquet"):  # a previous attempt with more shards
            if int(stale.rsplit("part-", 1)[1].split(".")[0]) >= len(shards):
                work.rm(stale)
        summary.update(self.info)
        summary.update(
            format=self.tokens.format,
            shuffle=self.tokens.shuffle,
            shuffle_seed=self.tokens.seed,
            shards=[
                {
                    "name": shard_name(i),
                    "files": shard_files(self.tokens.format, shard_name(i)),
                    "sequences": end - start,
                    "tokens": int(lengths[start:end].sum()),
                }
                for i, (start, end) in enumerate(shards)
            ],
        )
        wf.save_json(out, SUMMARY_FILE, summary)
        self.stat_update("sequences", value=len(plan))
        self.stat_update("tokens", value=int(lengths.sum()))


def cut_shards(lengths: np.ndarray, max_tokens: int) -> list[tuple[int, int]]:
    """Consecutive ``[start, end)`` sequence ranges of at most ``max_tokens`` tokens (a longer sequence alone)."""
    shards = []
    start = 0
    total = 0
    for i, n in enumerate(lengths.tolist()):
        if i > start and total + n > max_tokens:
            shards.append((start, i))
            start, total = i, 0
        total += n
    if len(lengths) > start:
        shards.append((start, len(lengths)))
    return shards


class WriteShards(PipelineStep):
    type = "🔢 - TOKENIZER"
    name = "💾 Token shards"

    def __init__(self, output_dir: str, tokens: TokensConfig, dtype: str, tokenizer_name: str):
        super().__init__()
        self.output_dir = output_dir.rstrip("/")
        self.tokens = tokens
        self.dtype = np.dtype(dtype)
        self.tokenizer_name = tokenizer_name

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        work = wf.folder(f"{self.output_dir}/{WORK}")
        plans = sorted(work.glob("plan/part-*.parquet"))
        mine = [p for i, p in enumerate(plans) if i % world_size == rank]
        id_files: dict[int, np.ndarray] = {}
        for path in mine:
            index = int(path.rsplit("part-", 1)[1].split(".")[0])
            plan = wf.load_table(work, path)
            for r in plan["rank"].unique().to_list():
                if r not in id_files:
                    id_files[r] = wf.load_raw(work, f"ids/part-{r:05d}.bin", self.dtype, 1, mmap=True).reshape(-1)
            with self.track_time():
                n = write_shard(
                    self.output_dir, self.tokens.format, index, plan, id_files, self.dtype, self.tokenizer_name
                )
            self.stat_update("shards")
            self.stat_update("tokens", value=n)


def token_output_phases(
    recipe: Recipe, output_dir: str, tasks: int, index: int
) -> tuple[TokenCollect, list[tuple[str, list[PipelineStep], int]]]:
    cfg = recipe.model.output.tokens
    assert cfg is not None
    mixture = recipe.model.mixture
    encoder = TokenEncoder(cfg.tokenizer, cfg.eos_token)
    score = mixture.score if mixture else "none"
    collect = TokenCollect(encoder, f"{output_dir}/{WORK}", list(recipe.model.sources), score, cfg.batch_size)
    collect.stats.name = "tokens:collect"
    plan = MixturePlan(output_dir, cfg, mixture, encoder)
    plan.stats.name = "tokens:mixture"
    shards = WriteShards(output_dir, cfg, encoder.dtype.name, encoder.name)
    shards.stats.name = "tokens:shards"
    return collect, [
        (f"{index:02d}_tokens_mixture", [plan], 1),
        (f"{index:02d}_tokens_shards", [shards], max(1, tasks)),
    ]


def run_error(output_dir: str) -> str | None:
    """The message a global phase left when it stopped on the data or the recipe (``work/<stage>/error.txt``):
    a mixture target that cannot be met, an evaluation set without the fields named."""
    folder = get_datafolder(output_dir)
    messages = []
    for path in sorted(folder.glob("work/*/error.txt")):
        with folder.open(path, "rt") as f:
            messages.append(f.read().strip())
    return "\n".join(messages) or None


def read_summary(output_dir: str) -> dict | None:
    return read_output_json(output_dir, SUMMARY_FILE)


__all__ = ["cut_shards", "read_summary", "run_error", "token_output_phases"]
