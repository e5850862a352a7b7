"""``minhash_dedup``: remove near-duplicate documents (MinHash LSH), the same ones however the job is split.

Keeps one document of every cluster of near-duplicates and drops the others with reason ``near_duplicate`` and
``duplicate_of`` = the survivor's id. Near-duplicates are pages whose word ``ngram`` shingle sets (after
datatrove-style normalisation) have a Jaccard similarity of about ``threshold`` or more: the same article with a
different boilerplate, a re-crawl with a changed date, a mirrored copy. Training on them wastes compute and
encourages memorisation.

How it runs (each phase a datatrove executor job, so it scales out on Slurm or Ray like any other step):

1. ``collect`` (every task): signatures identical to ``datasketch.MinHash(num_perm, seed)``, computed in bulk;
   band keys streamed to disk, *sharded by bucket key* (``buckets/shard-S/rank-R.bin``), with the signatures
   (``signatures/rank-R.bin``), the shingle hashes when ``verify_jaccard`` is on, and what the keep rule needs
   (``docs/rank-R.parquet``). Documents pass through untouched.
2. ``buckets`` (one task per shard): every bucket of the shard lies wholly in it, so the shard finds candidate
   pairs, checks them (MinHash estimate, or exact Jaccard with ``verify_jaccard``) and reduces the accepted pairs
   to its connected components (``edges/shard-S.npy``). Memory is bounded by a shard (its bucket rows and the
   signature rows of its candidate pairs, read on demand), not by the corpus.
3. ``clusters`` (one task): connected components of the shards' forests, folded in one shard at a time (only
   documents with a duplicate enter, so memory follows the number of duplicates, not the corpus),
   the survivor of each by ``keep`` (ties: smallest id), and per rank the list of removed positions.
4. ``apply`` (every task): drops the listed documents.

Which documents are removed depends only on the documents: bucket keys and signatures are functions of the text,
bucket members are ordered by a hash of the deterministic read order, and the survivor rule does not look at
tasks. ``tasks: 1`` and ``tasks: 4`` remove the same ids (``tests/test_dedup_minhash.py``).

The banding defaults (256 permutations; bands and rows by datasketch's rule with false negatives weighted 0.9,
which gives 23 bands of 11 rows for 0.8) catch 98.5% of pairs at Jaccard 0.85 instead of the 69% that 128
permutations and equal weights catch; the MinHash-estimate check then removes most candidates below the
threshold (``bench/RESULTS.md`` has the measured precision and recall).
"""

from __future__ import annotations

import hashlib

import numpy as np
import polars as pl
from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from pydantic import Field, PositiveInt, model_validator

from pipeline.dedup import sha1_shingles
from pipeline.dedup import workfiles as wf
from pipeline.dedup.clusters import (
    KeepParams,
    choose_survivors,
    cluster_summary,
    components,
    doc_row,
    doc_table,
    node_keys,
    split_nodes,
)
from pipeline.dedup.drop_listed import DropListed, removals_table
from pipeline.dedup.lsh_buckets import JaccardCheck, RowSource, SignatureCheck, bucket_edges
from pipeline.dedup.minhash_signature import MinHasher, band_hashes, lsh_params
from pipeline.dedup.shingles import Normalisation, shingle_bytes, shingle_hashes, words
from pipeline.registry import MultiPhaseStage, Phase, StageContext, register_stage

CHUNK_DOCS = 10_000  # documents between two flushes of a collect task's buffers


class MinHashDedupParams(KeepParams):
    ngram: PositiveInt = 5
    num_perm: PositiveInt = 256
    threshold: float = Field(0.8, gt=0.0, lt=1.0)
    bands: PositiveInt | None = None
    rows: PositiveInt | None = None
    false_positive_weight: float = Field(0.1, ge=0.0, le=1.0)
    false_negative_weight: float = Field(0.9, ge=0.0, le=1.0)
    seed: int = 1
    check_estimate: bool = True  # drop candidate pairs whose MinHash-estimated Jaccard is below threshold
    verify_jaccard: bool = False  # check candidate pairs by exact Jaccard of their shingles instead
    lowercase: bool = True
    remove_punctuation: bool = True
    norm_numbers: bool = True
    norm_whitespace: bool = True
    norm_unicode_diacritics: bool = True
    shards: PositiveInt | None = None  # bucket shards (tasks of the buckets phase); default: the run's tasks

    @model_validator(mode="after")
    def _banding(self) -> MinHashDedupParams:
        if (self.bands is None) != (self.rows is None):
            raise ValueError("give both bands and rows, or neither (then they follow from threshold)")
        if self.bands is not None and self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands * rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}")
        return self

    def banding(self) -> tuple[int, int]:
        if self.bands is not None:
            return self.bands, self.rows
        return lsh_params(self.threshold, self.num_perm, self.false_positive_weight, self.false_negative_weight)

    def normalisation(self) -> Normalisation:
        return Normalisation(
            lowercase=self.lowercase,
            remove_punctuation=self.remove_punctuation,
            norm_numbers=self.norm_numbers,
            norm_whitespace=self.norm_whitespace,
            norm_unicode_diacritics=self.norm_unicode_diacritics,
        )


def order_key(read_order: str, doc_id: str) -> int:
    """A 64-bit key of the document's place in the read order (its id when there is none): task-independent."""
    return int.from_bytes(hashlib.blake2b((read_order or doc_id).encode(), digest_size=8).digest(), "little")


class MinHashCollect(PipelineStep):
    """Per task: signatures, band keys sharded by bucket, keep-rule attributes; documents pass through."""

    name = "🎯 MinHash signatures"

    def __init__(self, params: MinHashDedupParams, work_dir: str, shards: int):
        super().__init__()
        self.params = params
        self.work_dir = work_dir
        self.shards = shards
        self.hasher = MinHasher(params.num_perm, params.seed)
        self.bands, self.rows = params.banding()
        self.norm = params.normalisation()

    def _shingle_hashes(self, tokens: list[str]) -> np.ndarray:
        """``shingle_hashes(shingle_bytes(tokens, ngram))``: one compiled SHA-1 pass when numba is there."""
        unique = self.params.verify_jaccard
        if sha1_shingles.available():
            hashes = sha1_shingles.ngram_sha1_prefixes(tokens, self.params.ngram)
            return np.unique(hashes) if unique else hashes
        return shingle_hashes(shingle_bytes(tokens, self.params.ngram), unique=unique)

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        f = wf.folder(self.work_dir)
        name = wf.rank_name(rank)
        sig_out = wf.RawAppender(f, f"signatures/{name}.bin")
        bucket_out = [wf.RawAppender(f, f"buckets/{wf.shard_name(s)}/{name}.bin") for s in range(self.shards)]
        shingle_out = wf.RawAppender(f, f"shingles/{name}.bin") if self.params.verify_jaccard else None
        offsets = [0]
        docs: list[tuple] = []
        sigs: list[np.ndarray] = []
        indexed: list[int] = []
        orders: list[int] = []

        def flush() -> None:
            if not sigs:
                return
            block = np.stack(sigs)
            sig_out.append(block)
            idx = np.array(indexed, dtype=np.int64)
            if len(idx):
                keys = band_hashes(block[idx - (len(docs) - len(block))], self.bands, self.rows)
                nodes = np.repeat(node_keys(rank, idx), self.bands)
                order = np.repeat(np.array(orders, dtype=np.uint64), self.bands)
                flat = keys.reshape(-1)
                table = np.stack([flat, order, nodes], axis=1)
                shard = flat % np.uint64(self.shards)
                for s in range(self.shards):
                    bucket_out[s].append(table[shard == s])
            sigs.clear()
            indexed.clear()
            orders.clear()

        for index, doc in enumerate(data):
            with self.track_time():
                row = doc_row(doc, index, self.params.score_column)
                docs.append(row)
                hashes = self._shingle_hashes(words(doc.text or "", self.norm))
                sigs.append(self.hasher.signature(hashes))
                if len(hashes):
                    indexed.append(index)
                    orders.append(order_key(row[2], row[1]))
                    self.stat_update("signatures")
                else:
                    self.stat_update("no_shingles")
                if shingle_out is not None:
                    shingle_out.append(hashes)
                    offsets.append(offsets[-1] + len(hashes))
                if len(sigs) >= CHUNK_DOCS:
                    flush()
            yield doc
        flush()
        sig_out.close()
        for out in bucket_out:
            out.close()
        if shingle_out is not None:
            shingle_out.close()
            wf.save_array(f, f"shingles/{name}.offsets.npy", np.array(offsets, dtype=np.int64))
        wf.save_table(f, f"docs/{name}.parquet", doc_table(docs))


class MinHashBuckets(PipelineStep):
    """Per bucket shard: candidate pairs, checked, reduced to the shard's connected components."""

    name = "🪣 MinHash buckets"

    def __init__(self, params: MinHashDedupParams, work_dir: str):
        super().__init__()
        self.params = params
        self.work_dir = work_dir

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        f = wf.folder(self.work_dir)
        shard = wf.shard_name(rank)
        parts = [wf.load_raw(f, p, np.uint64, 3) for p in sorted(f.glob(f"buckets/{shard}/rank-*.bin"))]
        table = np.concatenate(parts) if parts else np.empty((0, 3), dtype=np.uint64)
        num_perm = self.params.num_perm
        signatures = RowSource(lambda r: wf.RawRows(f, f"signatures/{wf.rank_name(r)}.bin", np.uint32, num_perm))
        if self.params.verify_jaccard:
            flat = RowSource(lambda r: wf.RawRows(f, f"shingles/{wf.rank_name(r)}.bin", np.uint64, 1))
            offsets = RowSource(lambda r: wf.load_array(f, f"shingles/{wf.rank_name(r)}.offsets.npy"))

            def shingles_of(node: int) -> np.ndarray:
                r, i = (int(x[0]) for x in split_nodes(np.array([node], dtype=np.uint64)))
                start, end = offsets.array(r)[i], offsets.array(r)[i + 1]
                return flat.array(r).slice(int(start), int(end))[:, 0]

            check = JaccardCheck(shingles_of, self.params.threshold)
        elif self.params.check_estimate:
            check = SignatureCheck(signatures, self.params.threshold)
        else:

            def check(left: np.ndarray, right: np.ndarray) -> np.ndarray:
                return np.ones(len(left), dtype=bool)

        with self.track_time():
            left, right, counts = bucket_edges(table[:, 0], table[:, 1], table[:, 2], check)
            nodes, labels = components(left, right)
            keep = nodes != labels
        wf.save_array(f, f"edges/{shard}.npy", np.stack([nodes[keep], labels[keep]]))
        wf.save_json(f, f"edges/{shard}.json", counts)
        for key, value in counts.items():
            self.stat_update(key, value=value)
        yield from ()


class MinHashClusters(PipelineStep):
    """One task: components over all shards, one survivor per cluster, removal lists per rank."""

    name = "🔗 MinHash clusters"

    def __init__(self, params: MinHashDedupParams, work_dir: str):
        super().__init__()
        self.params = params
        self.work_dir = work_dir

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        f = wf.folder(self.work_dir)
        shard_counts = [wf.load_json(f, p) for p in sorted(f.glob("edges/shard-*.json"))]
        nodes, labels = np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.uint64)
        with self.track_time():
            # fold the shards' forests in one at a time: memory is the documents with a duplicate plus one forest
            for path in sorted(f.glob("edges/shard-*.npy")):
                forest = wf.load_array(f, path)
                nodes, labels = components(np.concatenate([nodes, forest[0]]), np.concatenate([labels, forest[1]]))
            ranks_of_node, index_of_node = split_nodes(nodes)
        members = []
        documents = 0
        doc_ranks = wf.ranks_of(f, "docs/rank-*.parquet")
        for r in doc_ranks:
            docs = wf.load_table(f, f"docs/{wf.rank_name(r)}.parquet")
            documents += len(docs)
            mine = ranks_of_node == r
            if not mine.any():
                continue
            wanted = pl.DataFrame({"index": index_of_node[mine], "cluster": labels[mine]})
            members.append(wanted.join(docs, on="index", how="inner").with_columns(pl.lit(r).alias("rank")))
        table = pl.concat(members) if members else None
        if table is None:
            removed = pl.DataFrame(schema={"rank": pl.Int32, "index": pl.Int64, "id": pl.Utf8, "duplicate_of": pl.Utf8})
            sizes: list[int] = []
        else:
            removed = choose_survivors(table, self.params.keep)
            sizes = table.group_by("cluster").len()["len"].to_list()
        for r in doc_ranks:
            wf.save_table(
                f, f"removals/clusters/{wf.rank_name(r)}.parquet", removals_table(removed.filter(pl.col("rank") == r))
            )
        summary = cluster_summary(sizes, documents)
        bands, rows = self.params.banding()
        summary.update(
            stage="minhash_dedup",
            bands=bands,
            rows=rows,
            num_perm=self.params.num_perm,
            threshold=self.params.threshold,
            keep=self.params.keep,
            score_column=self.params.score_column,
            verify_jaccard=self.params.verify_jaccard,
            shards=len(shard_counts),
            candidate_pairs=sum(c.get("candidate_pairs", 0) for c in shard_counts),
            accepted_pairs=sum(c.get("accepted_pairs", 0) for c in shard_counts),
        )
        wf.save_json(f, "dedup_stats.json", summary)
        self.stat_update("clusters", value=summary["clusters"])
        self.stat_update("duplicates_removed", value=summary["duplicates_removed"])
        yield from ()


SUMMARY_COUNTERS = ("clusters", "candidate_pairs", "accepted_pairs", "largest_cluster")


@register_stage("minhash_dedup", MinHashDedupParams)
def build_minhash_dedup(params: MinHashDedupParams, ctx: StageContext) -> MultiPhaseStage:
    """Drop near-duplicates (MinHash LSH, word n-grams), keeping one per cluster; same result for any task count."""
    shards = params.shards or ctx.tasks
    return MultiPhaseStage(
        collect=[MinHashCollect(params, ctx.work_dir, shards)],
        global_phases=[
            Phase("buckets", [MinHashBuckets(params, ctx.work_dir)], tasks=shards),
            Phase("clusters", [MinHashClusters(params, ctx.work_dir)], tasks=1),
        ],
        apply=[DropListed(ctx.work_dir, "near_duplicate", SUMMARY_COUNTERS)],
    )
