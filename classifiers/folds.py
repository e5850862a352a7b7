"""Stratified k-fold splits: the one definition cross-validation and the signal head's training share."""

from __future__ import annotations

import random
from collections.abc import Sequence


def stratified_folds(labels: Sequence[int], k: int, seed: int) -> list[list[int]]:
    """``k`` folds of indices: each class shuffled with ``seed`` and dealt round-robin, so every fold holds both
    classes in about their overall proportion (a fold without positives has no ROC-AUC)."""
    if k < 2:
        raise ValueError(f"need at least 2 folds, got {k}")
    rng = random.Random(seed)
    out: list[list[int]] = [[] for _ in range(k)]
    for cls in sorted(set(labels)):
        idx = [i for i, y in enumerate(labels) if y == cls]
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            out[j % k].append(i)
    return out


def training_part(texts: Sequence[str], labels: Sequence[int], held_out: Sequence[int]) -> tuple[list[str], list[str]]:
    """``(positives, negatives)``: the texts of every fold but the held-out one, split by label."""
    held = set(held_out)
    pos = [t for i, (t, y) in enumerate(zip(texts, labels, strict=True)) if y == 1 and i not in held]
    neg = [t for i, (t, y) in enumerate(zip(texts, labels, strict=True)) if y == 0 and i not in held]
    return pos, neg
