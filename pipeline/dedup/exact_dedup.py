"""``exact_dedup``: remove documents whose normalised text is identical to another's; a cheap first pass.

Keeps one document of every group with the same normalised content (datatrove's ``simplify_text``: case,
punctuation, digits and whitespace do not count, so the same page re-crawled with another date or layout of
spaces is a duplicate) and drops the others with reason ``exact_duplicate`` and ``duplicate_of`` = the survivor's
id. Running it before ``minhash_dedup`` removes the largest, cheapest clusters (mirrors, repeated boilerplate
pages) before any signature is computed.

Phases: ``collect`` hashes every document (128-bit BLAKE2b of the normalised text) and writes the hash with what
the keep rule needs to ``hashes/shard-S/rank-R.parquet``, sharded by hash; ``groups`` (one task per shard) picks
the survivor of every group, so no task ever holds more than a shard; ``summary`` adds up the shards' counts into
``dedup_stats.json``; ``apply`` drops the listed documents. The survivor depends only on ``keep`` and the ids, so
the result is the same for any number of tasks.
"""

from __future__ import annotations

import hashlib

import polars as pl
from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from pydantic import PositiveInt

from pipeline.dedup import workfiles as wf
from pipeline.dedup.clusters import DOC_SCHEMA, KeepParams, choose_survivors, cluster_summary, doc_row
from pipeline.dedup.drop_listed import DropListed, removals_table
from pipeline.dedup.shingles import Normalisation, normalise
from pipeline.registry import MultiPhaseStage, Phase, StageContext, register_stage

HASH_SCHEMA = {"h1": pl.UInt64, "h2": pl.UInt64, **DOC_SCHEMA}


class ExactDedupParams(KeepParams):
    lowercase: bool = True
    remove_punctuation: bool = True
    norm_numbers: bool = True
    norm_whitespace: bool = True
    norm_unicode_diacritics: bool = True
    shards: PositiveInt | None = None  # tasks of the groups phase; default: the run's tasks

    def normalisation(self) -> Normalisation:
        return Normalisation(
            lowercase=self.lowercase,
            remove_punctuation=self.remove_punctuation,
            norm_numbers=self.norm_numbers,
            norm_whitespace=self.norm_whitespace,
            norm_unicode_diacritics=self.norm_unicode_diacritics,
        )


def content_hash(text: str, norm: Normalisation) -> tuple[int, int]:
    digest = hashlib.blake2b(normalise(text, norm).encode("utf-8", "surrogatepass"), digest_size=16).digest()
    return int.from_bytes(digest[:8], "little"), int.from_bytes(digest[8:], "little")


class ExactHashes(PipelineStep):
    """Per task: hash of each document's normalised text, sharded by hash; documents pass through."""

    name = "#️⃣ exact hashes"

    def __init__(self, params: ExactDedupParams, work_dir: str, shards: int):
        super().__init__()
        self.params = params
        self.work_dir = work_dir
        self.shards = shards
        self.norm = params.normalisation()

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        rows: list[list[tuple]] = [[] for _ in range(self.shards)]
        for index, doc in enumerate(data):
            with self.track_time():
                h1, h2 = content_hash(doc.text or "", self.norm)
                rows[h1 % self.shards].append((h1, h2, *doc_row(doc, index, self.params.score_column)))
                self.stat_update("hashed")
            yield doc
        f = wf.folder(self.work_dir)
        for s, shard_rows in enumerate(rows):
            table = pl.DataFrame(shard_rows, schema=HASH_SCHEMA, orient="row")
            wf.save_table(f, f"hashes/{wf.shard_name(s)}/{wf.rank_name(rank)}.parquet", table)


class ExactGroups(PipelineStep):
    """Per hash shard: one survivor per group of equal hashes, removal lists per collect rank."""

    name = "🧮 exact groups"

    def __init__(self, params: ExactDedupParams, work_dir: str):
        super().__init__()
        self.params = params
        self.work_dir = work_dir

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        f = wf.folder(self.work_dir)
        shard = wf.shard_name(rank)
        paths = sorted(f.glob(f"hashes/{shard}/rank-*.parquet"))
        ranks = wf.ranks_of(f, f"hashes/{shard}/rank-*.parquet")
        tables = [
            wf.load_table(f, p).with_columns(pl.lit(r, dtype=pl.Int32).alias("rank"))
            for p, r in zip(paths, ranks, strict=True)
        ]
        table = pl.concat(tables) if tables else pl.DataFrame(schema={**HASH_SCHEMA, "rank": pl.Int32})
        with self.track_time():
            grouped = table.with_columns(pl.len().over("h1", "h2").alias("_n")).filter(pl.col("_n") > 1)
            grouped = grouped.with_columns(pl.format("{}-{}", "h1", "h2").alias("cluster"))
            removed = choose_survivors(grouped, self.params.keep)
            sizes = grouped.group_by("cluster").len()["len"].to_list() if len(grouped) else []
        for r in ranks:
            mine = removed.filter(pl.col("rank") == r)
            wf.save_table(f, f"removals/{shard}/{wf.rank_name(r)}.parquet", removals_table(mine))
        wf.save_json(f, f"groups/{shard}.json", {"documents": len(table), "sizes": sizes})
        self.stat_update("clusters", value=len(sizes))
        yield from ()


class ExactSummary(PipelineStep):
    """One task: the shards' group sizes added up into ``dedup_stats.json``."""

    name = "📊 exact summary"

    def __init__(self, work_dir: str):
        super().__init__()
        self.work_dir = work_dir

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        f = wf.folder(self.work_dir)
        parts = [wf.load_json(f, p) for p in sorted(f.glob("groups/shard-*.json"))]
        sizes = [s for p in parts for s in p["sizes"]]
        summary = cluster_summary(sizes, sum(p["documents"] for p in parts))
        summary.update(stage="exact_dedup", shards=len(parts))
        wf.save_json(f, "dedup_stats.json", summary)
        yield from ()


@register_stage("exact_dedup", ExactDedupParams)
def build_exact_dedup(params: ExactDedupParams, ctx: StageContext) -> MultiPhaseStage:
    """Drop documents whose normalised text equals another's, keeping one per group (a cheap first pass)."""
    shards = params.shards or ctx.tasks
    return MultiPhaseStage(
        collect=[ExactHashes(params, ctx.work_dir, shards)],
        global_phases=[
            Phase("groups", [ExactGroups(params, ctx.work_dir)], tasks=shards),
            Phase("summary", [ExactSummary(ctx.work_dir)], tasks=1),
        ],
        apply=[DropListed(ctx.work_dir, "exact_duplicate", ("clusters", "largest_cluster"))],
    )
