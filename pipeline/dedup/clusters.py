"""Clusters of duplicates: connected components of the accepted pairs, and which member of each survives.

Documents are addressed by a *node* key, ``rank << 32 | index`` (the collect task and the document's position in
it), which is how the apply phase finds them again. Nothing that decides *what* is removed depends on the node
key: components depend only on the set of accepted pairs, and the survivor of a cluster is chosen by the
``keep`` rule with ties broken by document id (then read order), so the same documents are removed whatever the
number of tasks.

Components are computed with a compiled union-find (``union_find.py``) on the nodes that have at least one
accepted pair (the rest of the corpus never enters memory). A component may chain documents that are not all
similar to each other (A~B, B~C): like datatrove's and text-dedup's MinHash dedup, every member but one goes.
"""

from __future__ import annotations

from collections import Counter
from typing import Literal

import numpy as np
import polars as pl
from pydantic import Field, ValidationInfo, field_validator

from pipeline.document import ORIGINAL
from pipeline.registry import StageParams

KEEP_RULES = ("first", "longest", "highest_score")
ORIGINAL_PREFIX = f"{ORIGINAL}."  # score_column: original.<field> ranks by a field of the corpus's record
DOC_SCHEMA = {
    "index": pl.Int64,
    "id": pl.Utf8,
    "read_order": pl.Utf8,
    "length": pl.Int64,
    "score": pl.Float64,
}


def node_keys(rank: int, indices: np.ndarray) -> np.ndarray:
    return (np.uint64(rank) << np.uint64(32)) | indices.astype(np.uint64)


def split_nodes(nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    nodes = nodes.astype(np.uint64)
    return (nodes >> np.uint64(32)).astype(np.int64), (nodes & np.uint64(0xFFFFFFFF)).astype(np.int64)


def components(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(nodes, labels)``: every node that appears in a pair, and the smallest node of its component."""
    if len(left) == 0:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.uint64)
    from pipeline.dedup.union_find import smallest_in_component  # noqa: PLC0415 - numba: the global phases only

    nodes, inverse = np.unique(np.concatenate([left, right]).astype(np.uint64), return_inverse=True)
    m = len(left)
    inverse = inverse.astype(np.int64, copy=False)
    # nodes are sorted, so the smallest index of a component is its smallest node
    return nodes, nodes[smallest_in_component(inverse[:m], inverse[m:], len(nodes))]


def sort_for_keep(keep: str) -> tuple[list[str], list[bool]]:
    """polars sort columns and descending flags: the survivor of a cluster sorts first."""
    if keep == "first":
        return ["cluster", "read_order", "id"], [False, False, False]
    if keep == "longest":
        return ["cluster", "length", "id", "read_order"], [False, True, False, False]
    if keep == "highest_score":
        return ["cluster", "score", "id", "read_order"], [False, True, False, False]
    raise ValueError(f"keep must be one of {KEEP_RULES}, got {keep!r}")


def choose_survivors(members: pl.DataFrame, keep: str) -> pl.DataFrame:
    """``members`` (cluster, node, id, read_order, length, score): the removed ones, with ``duplicate_of``.

    A missing score sorts last (it counts as minus infinity); equal keys fall back to the smallest id.
    """
    if members.is_empty():
        return members.with_columns(pl.lit(None, dtype=pl.Utf8).alias("duplicate_of"))
    by, descending = sort_for_keep(keep)
    ordered = members.with_columns(pl.col("read_order").fill_null(""), pl.col("score").fill_nan(None)).sort(
        by, descending=descending, nulls_last=True
    )
    ordered = ordered.with_columns(pl.col("id").first().over("cluster").alias("duplicate_of"))
    first = ordered.select(pl.int_range(pl.len()).over("cluster").alias("_pos"))["_pos"]
    return ordered.filter(first > 0)


def cluster_summary(sizes: list[int] | np.ndarray, documents: int) -> dict:
    """Clusters, their size histogram and the fraction of documents removed (all but one per cluster)."""
    sizes = [int(s) for s in sizes if s > 1]
    removed = sum(s - 1 for s in sizes)
    histogram = Counter(sizes)
    return {
        "documents": int(documents),
        "clusters": len(sizes),
        "duplicates_removed": removed,
        "fraction_removed": removed / documents if documents else 0.0,
        "largest_cluster": max(sizes, default=0),
        "cluster_size_histogram": {str(k): histogram[k] for k in sorted(histogram)},
    }


class KeepParams(StageParams):
    """Which document of a cluster survives: ``keep`` and, for ``highest_score``, the score column to rank by."""

    keep: Literal["first", "longest", "highest_score"] = "first"
    # with keep: highest_score, the numeric column an earlier stage writes (quality_score, hf_score, ...; the plan
    # checks that one does, pipeline/plan.py), or `original.<field>` for a numeric field of the corpus's records
    # (FineWeb-Edu's `score`, DCLM's fastText probability), which no stage writes and no recipe check can see
    score_column: str | None = Field(default=None, validate_default=True)

    @field_validator("score_column")
    @classmethod
    def _score_column_with_highest_score(cls, column: str | None, info: ValidationInfo) -> str | None:
        keep = info.data.get("keep")
        if keep == "highest_score" and not column:
            raise ValueError(
                "keep 'highest_score' needs the column to rank by: the score an earlier stage writes, e.g. "
                "score_column: quality_score (quality_classifier) or hf_score (hf_classifier)"
            )
        if column and keep is not None and keep != "highest_score":
            raise ValueError(f"score_column is used only with keep: highest_score (keep is {keep!r})")
        return column


def doc_row(doc, index: int, score_column: str | None = None) -> tuple[int, str, str, int, float | None]:
    """What the keep rules need of a document: position, id, read order, length, score (``score_column``)."""
    if score_column and score_column.startswith(ORIGINAL_PREFIX):
        score = (doc.metadata.get(ORIGINAL) or {}).get(score_column.removeprefix(ORIGINAL_PREFIX))
    else:
        score = doc.metadata.get(score_column) if score_column else None
    if isinstance(score, bool):
        score = None
    try:
        score = float(score) if score is not None else None
    except (TypeError, ValueError):
        score = None
    read_order = doc.metadata.get("read_order")
    return index, str(doc.id), "" if read_order is None else str(read_order), len(doc.text or ""), score


def doc_table(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=DOC_SCHEMA, orient="row")
