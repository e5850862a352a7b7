"""Word n-grams normalised as lm-evaluation-harness's ``Janitor`` (and GPT-3) did, hashed to 64 bits with numpy.

Normalisation (``lm_eval/decontamination/janitor.py``): ASCII capitals become lower case, every ASCII punctuation
character (``string.punctuation``) is deleted, and the text is split on whitespace; an n-gram is ``n`` consecutive
words (13 by default, GPT-3's choice). Like the harness, only ASCII is case-folded, and a text of fewer than ``n``
words has no n-gram.

Hashing: every word of the evaluation sets gets an integer id (``vocabulary``); a corpus word that is not in that
vocabulary cannot be part of a contaminated n-gram, so it only marks the n-grams around it as impossible. The
n-gram of ids ``a_0..a_{n-1}`` hashes to ``sum((a_j + 1) * K_j) mod 2**64`` with fixed random odd multipliers
``K_j``, computed for a whole document at once with numpy. Two different n-grams of the index collide with
probability about 2**-64 per pair, so a false match is expected less than once in 10**12 corpus n-grams against an
index of 10**7 n-grams.
"""

from __future__ import annotations

import string
from itertools import repeat

import numpy as np

TRANSLATION = str.maketrans(
    string.ascii_lowercase + string.ascii_uppercase, string.ascii_lowercase * 2, string.punctuation
)
_MULTIPLIER_SEED = 0x13C0FFEE


def normalise(text: str) -> list[str]:
    """lm-eval-harness's normalisation: ASCII lower case, ASCII punctuation deleted, split on whitespace."""
    return text.translate(TRANSLATION).split()


def multipliers(n: int) -> np.ndarray:
    rng = np.random.default_rng(_MULTIPLIER_SEED)
    return rng.integers(0, 2**63, size=n, dtype=np.uint64) * np.uint64(2) + np.uint64(1)


def ngram_hashes(ids: np.ndarray, n: int, mult: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(hashes, starts)`` of every n-gram of word ids that holds no unknown word (id < 0)."""
    length = len(ids)
    if length < n:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)
    mult = multipliers(n) if mult is None else mult
    m = length - n + 1
    values = (ids + 1).astype(np.uint64)
    h = np.zeros(m, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(n):
            h += values[j : j + m] * mult[j]
    unknown = np.concatenate(([0], np.cumsum(ids < 0)))
    valid = (unknown[n:] - unknown[:m]) == 0
    starts = np.flatnonzero(valid)
    return h[starts], starts


class Vocabulary:
    """Word -> id, grown while the index is built, frozen (a plain dict) when tasks look documents up."""

    def __init__(self, words: list[str] | None = None):
        self.words: list[str] = list(words or [])
        self.ids: dict[str, int] = {w: i for i, w in enumerate(self.words)}

    def add(self, words: list[str]) -> np.ndarray:
        ids = self.ids
        out = np.empty(len(words), dtype=np.int64)
        for k, w in enumerate(words):
            i = ids.get(w)
            if i is None:
                i = ids[w] = len(self.words)
                self.words.append(w)
            out[k] = i
        return out

    def lookup(self, words: list[str]) -> np.ndarray:
        return np.fromiter(map(self.ids.get, words, repeat(-1)), dtype=np.int64, count=len(words))
