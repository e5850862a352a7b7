"""Token budgets: for which model size is this corpus enough?

Hoffmann et al. (2022, "Training Compute-Optimal Large Language Models", the Chinchilla paper) found that for a
fixed compute budget, loss is lowest when parameters and training tokens grow together, at about 20 tokens per
parameter. So a model of N parameters is *compute-optimal* at D = 20 N tokens, and a corpus of T tokens is exactly
compute-optimal for N = T / 20 parameters.

Small models today are trained far past that point (SmolLM2-1.7B on 11T tokens, Llama 3.2-1B on 9T, Qwen2.5-0.5B
on 18T): inference is cheaper than training, so over-training pays. For such budgets the question becomes how many
epochs of this corpus they would need: budget / T. Muennighoff et al. (2023, "Scaling Data-Constrained Language
Models") found up to about 4 epochs nearly as good as fresh data, and returns vanishing after about 16; the report
flags those thresholds.
"""

from __future__ import annotations

import re

DEFAULT_MODEL_SIZES = (0.1e9, 0.25e9, 0.5e9, 1e9, 1.5e9, 3e9, 5e9)
DEFAULT_BUDGETS = (1e12, 1.5e12, 3e12)
TOKENS_PER_PARAMETER = 20.0
EPOCHS_NEARLY_FREE = 4.0  # Muennighoff et al. 2023: up to ~4 epochs of repeated data cost almost nothing
EPOCHS_VANISHING = 16.0  # ... and beyond ~16 epochs, more repetition adds little

_SUFFIX = {"": 1.0, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12}
_AMOUNT = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)(?:e([+-]?\d+))?\s*([KMBGT]?)\s*$", re.IGNORECASE)


def parse_amount(text: str | float | int) -> float:
    """``"0.25B"`` -> 2.5e8, ``"1.5T"`` -> 1.5e12, ``"3e12"`` -> 3e12, ``500`` -> 500."""
    if isinstance(text, int | float):
        value = float(text)
    else:
        m = _AMOUNT.match(str(text))
        if not m:
            raise ValueError(f"{text!r}: expected a number with an optional K/M/B/T suffix, like 0.5B or 1.5T")
        value = float(m.group(1)) * (10 ** int(m.group(2)) if m.group(2) else 1) * _SUFFIX[m.group(3).upper()]
    if value <= 0:
        raise ValueError(f"{text!r}: must be positive")
    return value


def parse_amounts(text: str) -> list[float]:
    return [parse_amount(part) for part in text.split(",") if part.strip()]


def human_amount(value: float) -> str:
    """2.5e8 -> '0.25B', 1.5e12 -> '1.5T', 3.2e6 -> '3.2M'."""
    for suffix, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(value) >= scale or (suffix == "B" and abs(value) >= 1e8):
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def budgets(
    corpus_tokens: int,
    model_sizes: list[float] | tuple[float, ...] = DEFAULT_MODEL_SIZES,
    token_budgets: list[float] | tuple[float, ...] = DEFAULT_BUDGETS,
    tokens_per_parameter: float = TOKENS_PER_PARAMETER,
) -> dict:
    """The Chinchilla table for a corpus of ``corpus_tokens`` tokens."""
    models = []
    for n in sorted(model_sizes):
        optimal = n * tokens_per_parameter
        models.append(
            {
                "parameters": n,
                "label": human_amount(n),
                "optimal_tokens": optimal,
                "corpus_multiple": corpus_tokens / optimal,
                "epochs_for_optimal": optimal / corpus_tokens if corpus_tokens else None,
            }
        )
    over = []
    for b in sorted(token_budgets):
        epochs = b / corpus_tokens if corpus_tokens else None
        over.append(
            {
                "tokens": b,
                "label": human_amount(b),
                "epochs": epochs,
                "verdict": (
                    None
                    if epochs is None
                    else "fresh"
                    if epochs <= 1
                    else "nearly free"
                    if epochs <= EPOCHS_NEARLY_FREE
                    else "diminishing"
                    if epochs <= EPOCHS_VANISHING
                    else "vanishing returns"
                ),
            }
        )
    return {
        "tokens_per_parameter": tokens_per_parameter,
        "corpus_tokens": corpus_tokens,
        "optimal_parameters": corpus_tokens / tokens_per_parameter,
        "optimal_parameters_label": human_amount(corpus_tokens / tokens_per_parameter),
        "models": models,
        "budgets": over,
        "reference": "Hoffmann et al. 2022 (Chinchilla): ~20 tokens per parameter; "
        "epochs: Muennighoff et al. 2023 (up to ~4 epochs nearly free, little gain past ~16)",
    }
