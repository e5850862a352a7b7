"""Metrics for a quality classifier against 0/1 labels: P/R/F1 at a threshold, ROC-AUC, calibration.

ROC-AUC is the Mann-Whitney U statistic of the positives' scores against the negatives', divided by
``n_pos * n_neg`` (ties count one half), computed by SciPy rather than by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def roc_auc(labels: Sequence[int], scores: Sequence[float]) -> float:
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"ROC-AUC needs both classes (got {n_pos} positive, {n_neg} negative)")
    from scipy.stats import mannwhitneyu  # noqa: PLC0415 - scipy.stats takes a second to import

    u = mannwhitneyu(s[y], s[~y], alternative="two-sided").statistic
    return float(u / (n_pos * n_neg))


def precision_recall_f1(labels: Sequence[int], scores: Sequence[float], threshold: float = 0.5) -> dict[str, Any]:
    """Counts and rates when a document is called good iff ``score >= threshold``."""
    y = np.asarray(labels, dtype=bool)
    pred = np.asarray(scores, dtype=np.float64) >= threshold
    tp = int((pred & y).sum())
    fp = int((pred & ~y).sum())
    fn = int((~pred & y).sum())
    tn = int((~pred & ~y).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "threshold": threshold,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "accuracy": (tp + tn) / len(y) if len(y) else 0.0,
    }


def calibration_table(labels: Sequence[int], scores: Sequence[float], bins: int = 10) -> dict[str, Any]:
    """Equal-width score bins with count, mean score and observed share of positives; plus the expected
    calibration error (count-weighted mean |observed - predicted|)."""
    y = np.asarray(labels, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    idx = np.minimum((s * bins).astype(int), bins - 1)
    rows = []
    ece = 0.0
    for b in range(bins):
        mask = idx == b
        n = int(mask.sum())
        row = {"low": b / bins, "high": (b + 1) / bins, "count": n, "mean_score": None, "positive_rate": None}
        if n:
            row["mean_score"] = float(s[mask].mean())
            row["positive_rate"] = float(y[mask].mean())
            ece += n * abs(row["positive_rate"] - row["mean_score"])
        rows.append(row)
    return {"bins": rows, "ece": ece / len(s) if len(s) else 0.0}


def evaluate(labels: Sequence[int], scores: Sequence[float], threshold: float = 0.5, bins: int = 10) -> dict:
    return {
        "n": len(labels),
        "positives": int(np.sum(np.asarray(labels) == 1)),
        "roc_auc": roc_auc(labels, scores),
        "at_threshold": precision_recall_f1(labels, scores, threshold),
        "calibration": calibration_table(labels, scores, bins),
    }


def format_report(metrics: dict) -> str:
    """A plain-text report of :func:`evaluate`'s result for the terminal."""
    t = metrics["at_threshold"]
    lines = [
        f"documents: {metrics['n']} ({metrics['positives']} positive)",
        f"ROC-AUC: {metrics['roc_auc']:.4f}",
        f"at threshold {t['threshold']:g}: precision {t['precision']:.4f}  recall {t['recall']:.4f}  "
        f"F1 {t['f1']:.4f}  accuracy {t['accuracy']:.4f}  (tp {t['tp']} fp {t['fp']} fn {t['fn']} tn {t['tn']})",
        f"calibration (ECE {metrics['calibration']['ece']:.4f}):",
        "  score bin     count  mean score  positive rate",
    ]
    for row in metrics["calibration"]["bins"]:
        mean = "-" if row["mean_score"] is None else f"{row['mean_score']:.3f}"
        rate = "-" if row["positive_rate"] is None else f"{row['positive_rate']:.3f}"
        lines.append(f"  [{row['low']:.1f}, {row['high']:.1f})  {row['count']:6d}  {mean:>10}  {rate:>13}")
    return "\n".join(lines)
