"""The signal head: a logistic regression that weighs a fastText score beside cheap document signals.

``P(good) = sigmoid(b + sum_i w_i * (x_i - mean_i) / scale_i)``, with ``x = (logit(p_fasttext), *signals)``

Why a second, tiny model rather than more tokens for fastText: document shape (length, line endings, capitals,
word length, function words; :mod:`classifiers.doc_signals`) is a handful of numbers, and a linear model on
them learns from a few hundred labelled pages what fastText's bag of words cannot. Stacked on the fastText
score it lifted the cross-validated ROC-AUC on human judgements from 0.84 to about 0.87 (``bench/RESULTS.md``).

The head must be fitted on fastText scores of documents the fastText model did **not** train on: in-sample
scores are near-perfect, and a head fitted on them would trust fastText blindly. So :func:`fit_signal_head`
takes out-of-fold scores (k-fold inside the training set; :func:`classifiers.fasttext_model.train_quality_model`
makes them). Its weights, the signals' means and scales are written into the model card, so scoring needs no
other file and any change of signals is visible there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from classifiers.doc_signals import SIGNAL_NAMES

EPS = 1e-4  # fastText probabilities are clipped to [EPS, 1 - EPS] before the logit: its softmax saturates


def fasttext_logit(probs: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(probs, dtype=np.float64), EPS, 1.0 - EPS)
    return np.log(p / (1.0 - p))


INPUTS = ("fasttext_logit", *SIGNAL_NAMES)


def _inputs(fasttext_probs: np.ndarray, signals: np.ndarray) -> np.ndarray:
    x = np.asarray(signals, dtype=np.float64)
    ft = fasttext_logit(np.asarray(fasttext_probs))
    if x.ndim != 2 or x.shape != (len(ft), len(SIGNAL_NAMES)):
        raise ValueError(f"signals must be a ({len(ft)}, {len(SIGNAL_NAMES)}) matrix, got {x.shape}")
    return np.hstack([ft[:, None], x])


@dataclass(frozen=True)
class SignalHead:
    """Fitted weights over :data:`INPUTS` (the fastText logit, then the signals), standardised by mean and scale.

    The fastText logit is standardised like the signals, so the L2 penalty weighs every input alike.
    """

    inputs: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    l2: float

    def combine(self, fasttext_probs: np.ndarray, signals: np.ndarray) -> np.ndarray:
        """P(good) for each row: fastText's probabilities and the documents' signal rows combined."""
        z = (_inputs(fasttext_probs, signals) - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(self.bias + z @ np.asarray(self.weights))))

    def to_card(self) -> dict[str, Any]:
        d = asdict(self)
        d["formula"] = "sigmoid(bias + sum(weights * (x - mean) / scale)), x = (logit(p_fasttext), *signals)"
        return d

    @classmethod
    def from_card(cls, d: dict[str, Any]) -> SignalHead:
        inputs = tuple(d["inputs"])
        if inputs != INPUTS:
            raise ValueError(
                f"the model card's signal head reads {list(inputs)}, this Curate computes {list(INPUTS)}: "
                "retrain the model with this version"
            )
        return cls(
            inputs=inputs,
            mean=tuple(map(float, d["mean"])),
            scale=tuple(map(float, d["scale"])),
            weights=tuple(map(float, d["weights"])),
            bias=float(d["bias"]),
            l2=float(d["l2"]),
        )


def fit_signal_head(
    out_of_fold_probs: Sequence[float], signals: np.ndarray, labels: Sequence[int], l2: float = 30.0
) -> SignalHead:
    """L2-regularised logistic regression (the bias unpenalised) on standardised inputs, by L-BFGS.

    ``l2`` is strong on purpose: a few hundred labels and six inputs. Cross-validated, penalties of 10, 30 and 100
    scored within 0.003 of each other; 30 is the default (``bench/RESULTS.md``).
    The problem is convex, so the fit is deterministic.
    """
    y = np.asarray(labels, dtype=np.float64)
    x = _inputs(np.asarray(out_of_fold_probs), signals)
    if len(y) != len(x):
        raise ValueError(f"{len(y)} labels for {len(x)} documents")
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    design = np.hstack([(x - mean) / scale, np.ones((len(y), 1))])
    penalty = np.ones(design.shape[1])
    penalty[-1] = 0.0

    def loss_and_grad(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = design @ w
        p = 1.0 / (1.0 + np.exp(-z))
        loss = float(np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * l2 * np.sum(penalty * w * w))
        return loss, design.T @ (p - y) + l2 * penalty * w

    from scipy.optimize import minimize  # noqa: PLC0415 - only training needs scipy (0.5-1 s to import)

    w = minimize(loss_and_grad, np.zeros(design.shape[1]), jac=True, method="L-BFGS-B").x
    return SignalHead(
        inputs=INPUTS,
        mean=tuple(mean.tolist()),
        scale=tuple(scale.tolist()),
        weights=tuple(w[:-1].tolist()),
        bias=float(w[-1]),
        l2=l2,
    )
