"""How many times each kept document appears in the training tokens: a target, a share per source, ``max_epochs``.

For a source with share ``p`` of ``target_tokens`` N, the source must give ``T = p * N`` tokens (end tokens
included) from its ``A`` available tokens, no document more than ``max_epochs`` times. If ``T > max_epochs * A``
for any source, the target cannot be met and ``MixtureError`` says by how much and what would fix it (the largest
target these shares and limits allow, the ``max_epochs`` the source would need).

Otherwise documents are ranked by the recipe's ``score`` (higher first: ``quality_score``, any numeric column, or
``cluster_size``, the number of copies a dedup stage removed plus one, optionally mapped through FineWeb-2's
rehydration ``cluster_weights``), ties and ``score: none`` broken by a permutation drawn from ``seed`` over the
sorted ids, so the result depends only on the data, the recipe and the seed, not on the number of tasks:

* ``T <= A`` (subsample): documents are taken whole in rank order while they fit; the best are kept.
* ``T > A`` with a score (repeat the best first): every document once, then the best documents get up to
  ``max_epochs - 1`` extra copies each, in rank order, while they fit.
* ``T > A`` with ``score: none`` (uniform): every document ``floor(T/A)`` times, then one more copy for documents in
  the seeded order while they fit.

"While they fit" goes down the whole ranking, so a source's shortfall is less than its smallest remaining
document: with real corpora the achieved shares are within a fraction of a percent of the targets.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from pipeline.tokens.config import MixtureConfig


class MixtureError(ValueError):
    """The target cannot be met with the data and limits given."""


def _human(n: float) -> str:
    from pipeline.report.chinchilla import human_amount  # noqa: PLC0415

    return human_amount(n) if n >= 1000 else f"{n:,.0f}"


def _fill(tokens: np.ndarray, order: np.ndarray, budget: int, cap: int) -> tuple[np.ndarray, int]:
    """Copies (0..cap) per document, best-ranked first, while they fit in ``budget``; returns copies, budget left."""
    copies = np.zeros(len(tokens), dtype=np.int64)
    for i in order.tolist():
        if budget <= 0:
            break
        t = int(tokens[i])
        k = min(cap, budget // t) if t else 0
        copies[i] = k
        budget -= k * t
    return copies, budget


def source_copies(tokens: np.ndarray, rank: np.ndarray, target: int, max_epochs: int, uniform: bool) -> np.ndarray:
    """Copies per document of one source (``rank``: document indices, best first)."""
    available = int(tokens.sum())
    if target <= 0 or available == 0:
        return np.zeros(len(tokens), dtype=np.int64)
    if target <= available:
        return _fill(tokens, rank, target, 1)[0]
    if uniform:
        base = min(max_epochs, target // available)
        extra, _ = _fill(tokens, rank, target - base * available, 1 if base < max_epochs else 0)
        return base + extra
    extra, _ = _fill(tokens, rank, target - available, max_epochs - 1)
    return 1 + extra


def scores_for(docs: pl.DataFrame, score: str, cluster_sizes: dict[str, int], weights: dict[int, float] | None):
    """The ranking score of every document (higher first); missing scores rank last."""
    if score == "none":
        return np.zeros(len(docs))
    if score == "cluster_size":
        sizes = np.array([1 + cluster_sizes.get(i, 0) for i in docs["id"].to_list()], dtype=np.float64)
        if not weights:
            return sizes
        limits = sorted(weights)
        table = np.array([weights[k] for k in limits], dtype=np.float64)
        # FineWeb-2's step table: a size takes the weight of the largest listed size not above it
        pos = np.searchsorted(np.array(limits), sizes, side="right") - 1
        return np.where(pos >= 0, table[np.clip(pos, 0, None)], 1.0)
    values = docs["score"].to_numpy().astype(np.float64)
    return np.where(np.isnan(values), -np.inf, values)


def tie_break(ids: list[str], seed: int) -> np.ndarray:
    """A seeded random key per document, independent of the order documents arrive in."""
    order = np.argsort(np.array(ids, dtype=object), kind="stable")
    key = np.empty(len(ids), dtype=np.int64)
    key[order] = np.random.default_rng(seed).permutation(len(ids))
    return key


def plan_mixture(
    docs: pl.DataFrame, cfg: MixtureConfig | None, cluster_sizes: dict[str, int] | None = None
) -> tuple[np.ndarray, dict]:
    """Copies per row of ``docs`` (``id``, ``source``, ``tokens``, ``score``) and the mixture's summary."""
    tokens = docs["tokens"].to_numpy().astype(np.int64)
    sources = docs["source"].to_list()
    if cfg is None:
        copies = np.ones(len(docs), dtype=np.int64)
        return copies, summarise(docs, copies, None)
    available = {name: int(tokens[[s == name for s in sources]].sum()) if len(docs) else 0 for name in cfg.sources}
    problems = []
    limit = math.inf
    for name, src in cfg.sources.items():
        if src.share <= 0:
            continue
        need = src.share * cfg.target_tokens
        most = src.max_epochs * available[name]
        limit = min(limit, most / src.share)
        if need > most:
            epochs = math.ceil(need / available[name]) if available[name] else None
            problems.append(
                f"source {name!r} needs {_human(need)} tokens ({src.share:.1%} of {_human(cfg.target_tokens)}) but has "
                f"{_human(available[name])} after filtering, so max_epochs {src.max_epochs} gives at most "
                f"{_human(most)}"
                + (f" (it would need max_epochs {epochs})" if epochs else " (no document of it was kept)")
            )
    if problems:
        best = f"; these shares and limits allow at most {_human(limit)} tokens" if 0 < limit < math.inf else ""
        raise MixtureError(
            f"mixture: target_tokens {_human(cfg.target_tokens)} cannot be met: "
            + "; ".join(problems)
            + best
            + ". Lower mixture.target_tokens, raise max_epochs, or change the shares."
        )
    if cfg.score not in ("none", "cluster_size") and len(docs) and docs["score"].null_count() == len(docs):
        raise MixtureError(
            f"mixture.score: no kept document has a numeric {cfg.score!r}; name a column a stage writes "
            "(quality_score, int_score, ...) or a numeric field of the corpus, or use 'cluster_size' or 'none'"
        )
    ids = docs["id"].to_list()
    score = scores_for(docs, cfg.score, cluster_sizes or {}, cfg.cluster_weights)
    tie = tie_break(ids, cfg.seed)
    copies = np.zeros(len(docs), dtype=np.int64)
    source_arr = np.array(sources, dtype=object)
    for name, src in cfg.sources.items():
        members = np.flatnonzero(source_arr == name)
        if not len(members):
            continue
        target = int(round(src.share * cfg.target_tokens))
        rank_local = np.lexsort((tie[members], -score[members]))  # score descending, then the seeded order
        copies[members] = source_copies(
            tokens[members], rank_local, target, src.max_epochs, uniform=cfg.score == "none"
        )
    return copies, summarise(docs, copies, cfg)


def summarise(docs: pl.DataFrame, copies: np.ndarray, cfg: MixtureConfig | None) -> dict:
    tokens = docs["tokens"].to_numpy().astype(np.int64)
    sources = np.array(docs["source"].to_list(), dtype=object)
    total = int((tokens * copies).sum())
    names = list(cfg.sources) if cfg else list(dict.fromkeys(sources.tolist()))
    per_source = {}
    for name in names:
        m = sources == name
        used = int((tokens[m] * copies[m]).sum())
        available = int(tokens[m].sum())
        entry = {
            "documents": int(m.sum()),
            "documents_used": int((copies[m] > 0).sum()),
            "available_tokens": available,
            "tokens": used,
            "share": used / total if total else 0.0,
            "epochs": used / available if available else 0.0,
            "max_copies": int(copies[m].max()) if m.any() else 0,
        }
        if cfg:
            src = cfg.sources[name]
            entry.update(target_share=src.share, target_tokens=int(round(src.share * cfg.target_tokens)))
            entry["max_epochs"] = src.max_epochs
        per_source[name] = entry
    values, counts = np.unique(copies, return_counts=True)
    return {
        "target_tokens": cfg.target_tokens if cfg else None,
        "seed": cfg.seed if cfg else None,
        "score": cfg.score if cfg else None,
        "tokens": total,
        "unique_tokens": int(tokens[copies > 0].sum()),
        "sequences": int(copies.sum()),
        "sources": per_source,
        "copies_histogram": {str(int(v)): int(c) for v, c in zip(values, counts, strict=True)},
    }


def sequence_order(copies: np.ndarray, shuffle: bool, seed: int, ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(doc, repetition)`` per sequence, in training order.

    Without shuffling: every first copy in document order, then every second copy, and so on. With shuffling: one
    seeded permutation of all copies over the documents sorted by id (the same for any number of tasks).
    Repetition numbers count copies in training order: the first one to appear is 0.
    """
    n = len(copies)
    if shuffle:
        base = np.argsort(np.array(ids, dtype=object), kind="stable") if n else np.empty(0, dtype=np.int64)
        doc = np.repeat(base, copies[base])
        doc = doc[np.random.default_rng([seed, 0x70C5]).permutation(len(doc))]
    else:
        most = int(copies.max()) if n else 0
        doc = np.concatenate([np.flatnonzero(copies > r) for r in range(most)]) if most else np.empty(0, np.int64)
    doc = doc.astype(np.int64)
    by_doc = np.argsort(doc, kind="stable")
    sorted_doc = doc[by_doc]
    starts = np.flatnonzero(np.r_[True, sorted_doc[1:] != sorted_doc[:-1]]) if len(doc) else np.empty(0, np.int64)
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(doc)]))
    repetition = np.empty(len(doc), dtype=np.int32)
    repetition[by_doc] = np.arange(len(doc)) - group_start
    return doc, repetition
