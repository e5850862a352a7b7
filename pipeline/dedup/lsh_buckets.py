"""From band buckets to accepted duplicate pairs, one bucket shard at a time.

Input: rows ``(bucket key, order key, node)`` (one per document and band; ``order`` is a hash of the document's
read order, the same for any task count). Documents sharing a bucket are *candidates*. Within a bucket (sorted by
order key) each member is checked against the bucket's first member, all such pairs of the shard at once
(vectorised, each distinct pair once even when it shares many bands). A bucket where a check fails falls back to
grouping: each member joins the first earlier group whose first member it passes, or starts a group. The accepted
pairs therefore depend only on the bucket's members, never on how documents were spread over tasks or buckets
over shards.

The check is ``SignatureCheck`` (MinHash-estimated Jaccard, the fraction of equal signature values, at least the
threshold: it removes most candidates that the banding lets through below the threshold) or ``JaccardCheck``
(exact Jaccard of the shingle sets).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from pipeline.dedup.clusters import split_nodes
from pipeline.dedup.shingles import jaccard

PairCheck = Callable[[np.ndarray, np.ndarray], np.ndarray]


class RowSource:
    """Rows of per-rank arrays addressed by node: ``rows(nodes)`` -> stacked rows, one per node."""

    def __init__(self, load: Callable[[int], np.ndarray]):
        self._load = load
        self._cache: dict[int, np.ndarray] = {}

    def array(self, rank: int) -> np.ndarray:
        if rank not in self._cache:
            self._cache[rank] = self._load(rank)
        return self._cache[rank]

    def rows(self, nodes: np.ndarray) -> np.ndarray:
        ranks, index = split_nodes(nodes)
        out = None
        for r in np.unique(ranks):
            mask = ranks == r
            part = np.asarray(self.array(int(r))[index[mask]])
            if out is None:
                out = np.empty((len(nodes), *part.shape[1:]), dtype=part.dtype)
            out[mask] = part
        return out


class SignatureCheck:
    """Accept a pair when its MinHash-estimated Jaccard reaches ``threshold``."""

    def __init__(self, signatures: RowSource, threshold: float, batch: int = 4096):
        self.signatures = signatures
        self.threshold = threshold
        self.batch = batch  # pairs per step: 2 x 4096 x num_perm x 4 bytes (8 MB at 256 permutations)

    def __call__(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        out = np.zeros(len(left), dtype=bool)
        for start in range(0, len(left), self.batch):
            a = self.signatures.rows(left[start : start + self.batch])
            b = self.signatures.rows(right[start : start + self.batch])
            equal = np.count_nonzero(a == b, axis=1)
            out[start : start + self.batch] = equal >= self.threshold * a.shape[1]
        return out


class JaccardCheck:
    """Accept a pair when the exact Jaccard of its shingle sets reaches ``threshold``."""

    def __init__(self, shingles: Callable[[int], np.ndarray], threshold: float):
        self.shingles = shingles  # node -> sorted unique shingle hashes
        self.threshold = threshold

    def __call__(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        return np.array(
            [
                jaccard(self.shingles(int(a)), self.shingles(int(b))) >= self.threshold
                for a, b in zip(left, right, strict=True)
            ],
            dtype=bool,
        )


def bucket_edges(
    bucket: np.ndarray, order: np.ndarray, node: np.ndarray, check: PairCheck
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Accepted pairs ``(left, right)`` of the buckets given, and counts (candidate pairs, checked, accepted)."""
    empty = np.empty(0, dtype=np.uint64)
    if len(bucket) == 0:
        return empty, empty, {"buckets_shared": 0, "candidate_pairs": 0, "checked_pairs": 0, "accepted_pairs": 0}
    idx = np.lexsort((node, order, bucket))
    bucket, node = bucket[idx], node[idx].astype(np.uint64)
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    sizes = np.diff(np.r_[starts, len(bucket)])
    run = np.repeat(np.arange(len(starts)), sizes)
    head = node[starts][run]
    member = (np.arange(len(bucket)) != starts[run]) & (head != node)
    left, right, pair_run = head[member], node[member], run[member]
    if len(left) == 0:
        return empty, empty, {"buckets_shared": 0, "candidate_pairs": 0, "checked_pairs": 0, "accepted_pairs": 0}

    lo, hi = np.minimum(left, right), np.maximum(left, right)
    pair_lo, pair_hi, inverse = unique_pairs(lo, hi)
    verdict = check(pair_lo, pair_hi)
    ok = verdict[inverse]
    checked = len(pair_lo)

    failing = np.zeros(len(starts), dtype=bool)
    failing[pair_run[~ok]] = True
    keep = ~failing[pair_run]
    out_left, out_right = [left[keep]], [right[keep]]
    # verdicts already known for the pairs of the failing buckets (the only ones grouping looks at)
    known = inverse[failing[pair_run]]
    memo = {(int(a), int(b)): bool(v) for a, b, v in zip(pair_lo[known], pair_hi[known], verdict[known], strict=True)}

    def accepted(a: int, b: int) -> bool:
        nonlocal checked
        key = (min(a, b), max(a, b))
        if key not in memo:
            memo[key] = bool(check(np.array([key[0]], dtype=np.uint64), np.array([key[1]], dtype=np.uint64))[0])
            checked += 1
        return memo[key]

    extra: list[tuple[int, int]] = []
    for r in np.flatnonzero(failing):
        members = [int(x) for x in node[starts[r] : starts[r] + sizes[r]]]
        groups = [members[0]]
        for m in members[1:]:
            for g in groups:
                if g != m and accepted(g, m):
                    extra.append((g, m))
                    break
            else:
                groups.append(m)
    if extra:
        e = np.array(extra, dtype=np.uint64)
        out_left.append(e[:, 0])
        out_right.append(e[:, 1])
    el, er = np.concatenate(out_left), np.concatenate(out_right)
    # a pair sharing several bands was accepted once per band: report it once, as (smaller, larger)
    acc_lo, acc_hi, _ = unique_pairs(np.minimum(el, er), np.maximum(el, er))
    counts = {
        "buckets_shared": int((sizes > 1).sum()),
        "candidate_pairs": int(len(pair_lo)),
        "checked_pairs": int(checked),
        "accepted_pairs": int(len(acc_lo)),
    }
    return acc_lo, acc_hi, counts


def unique_pairs(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct ``(lo, hi)`` pairs, sorted, and for every input pair the position of its distinct pair."""
    order = np.lexsort((hi, lo))
    lo_s, hi_s = lo[order], hi[order]
    first = np.r_[True, (lo_s[1:] != lo_s[:-1]) | (hi_s[1:] != hi_s[:-1])] if len(lo) else np.zeros(0, dtype=bool)
    inverse = np.empty(len(lo), dtype=np.int64)
    inverse[order] = np.cumsum(first) - 1
    return lo_s[first], hi_s[first], inverse
