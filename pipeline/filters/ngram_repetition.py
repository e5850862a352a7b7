"""Word n-gram repetition measures of Gopher's repetition rules in compiled passes, equal to datatrove's loops.

datatrove's ``GopherRepetitionFilter`` builds a Python string for every n-gram of every size (2 to 10) and counts
them in a ``Counter`` or a ``set``. Here numba kernels (``ngram_kernels``) run the same loops over integers:

* the words are joined by spaces once and encoded as code points; one pass splits them into words, builds the
  ``"".join`` buffer and a polynomial hash of every prefix of whole words (modulo 2**64), and gives every word a
  dense id (first occurrence first) in a hash table whose equality test compares the words' code points;
* ``top_ngram_chars`` (datatrove's ``find_top_duplicate(get_n_grams(words, n))``, ``" ".join`` n-grams in a
  ``Counter``, ``most_common(1)``): the n-grams of size k get dense ids from the pair (id of the (k-1)-gram, id of
  the next word), in a hash table keyed by that exact pair, and are counted. ``" ".join`` is one-to-one on word
  tuples when no word holds a space, so equal ids are equal strings; ties go to the smallest id, the n-gram seen
  first, as in ``most_common(1)``. When a word holds a space (some non-spaCy tokenizers), the ``" ".join`` strings
  themselves are counted instead, as spans of the joined buffer compared character by character;
* ``duplicated_ngram_chars`` (datatrove's ``find_all_duplicate(words, n)``, ``"".join`` n-grams in a ``set``,
  where ``("ab", "c")`` and ``("a", "bc")`` are the same n-gram, skipping ahead by n after a repeat): datatrove's
  scan, with a hash table of the n-grams seen whose equality test compares the characters of the two spans of the
  ``"".join`` buffer.

A hash collision costs a comparison, never a wrong answer; a document crafted so that hashes collide en masse
(Thue-Morse strings collide modulo 2**64) exhausts a comparison budget of about twice its length, and that measure
comes from datatrove's loop instead, so the time stays bounded. Without numba every measure comes from datatrove's
functions. ``tests/test_ngram_kernel.py`` and ``tests/test_filters_parity_gopher.py`` check the measures against
datatrove's functions on real documents and adversarial word lists.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property, lru_cache

import numpy as np


@lru_cache(maxsize=1)
def kernels():
    """The compiled kernels module, or None without numba (imported, and the kernels loaded, on first use)."""
    try:
        from pipeline.filters import ngram_kernels  # noqa: PLC0415
    except ImportError:  # pragma: no cover - numba is a declared dependency
        return None
    return ngram_kernels


class NGramRepetition:
    """Repetition measures of one document's word list (any words; n-gram sizes from 1 up)."""

    def __init__(self, words: list[str]):
        self.__dict__["words"] = words
        self._build(" ".join(words) if words else "", len(words))

    @classmethod
    def of_spaced(cls, spaced: str, n_words: int, words: Callable[[], list[str]]) -> NGramRepetition:
        """The measures of the words whose ``" ".join`` is ``spaced`` (``WordAnalysis.spaced``): the word list
        itself is asked of ``words`` only where a word holds a space or a measure falls back to datatrove."""
        measures = cls.__new__(cls)
        measures._words_of = words
        measures._build(spaced, n_words)
        return measures

    @cached_property
    def words(self) -> list[str]:
        return self._words_of()

    def _build(self, joined: str, n_words: int) -> None:
        self.n_words = n_words
        self._kernels = kernels() if self.n_words else None
        self._levels: list[np.ndarray] = []  # ids of the word k-grams for k = 1, 2, ...
        self._top: list[tuple[int, int]] = []  # (count, first position) of the most frequent k-gram
        self._spaced: np.ndarray | None = None  # the code points of " ".join(words), kept when a word holds a space
        if self._kernels is None:
            return
        spaced = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        n = self.n_words
        self.codes = np.empty(spaced.size, dtype=np.uint32)
        self.offsets = np.empty(n + 1, dtype=np.int64)
        self.prefix = np.empty(n + 1, dtype=np.uint64)
        ids = np.empty(n, dtype=np.int64)
        best = np.empty(2, dtype=np.int64)
        indexed = self._kernels.split_and_index(spaced, self.codes, self.offsets, self.prefix, ids, best)
        if indexed > n - 1:  # a word holds a space: split by the words' lengths instead
            self._spaced = spaced
            words = self.words
            self.codes = np.frombuffer("".join(words).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
            self.offsets[0] = 0
            np.cumsum(np.fromiter(map(len, words), dtype=np.int64, count=n), out=self.offsets[1:])
            indexed = 0 if self._kernels.index_words(self.codes, self.offsets, self.prefix, ids, best) else -1
        if indexed < 0:  # hash collisions past the comparison budget (crafted text): datatrove's loops
            self._kernels = None
            return
        self._levels.append(ids)
        self._top.append((int(best[0]), int(best[1])))

    # --- top n-gram: " ".join n-grams, Counter.most_common(1) ---------------------------------------------------
    def top_ngram_chars(self, n: int) -> int | None:
        """Characters covered by the most frequent n-gram (its length times its count); None without n-grams."""
        if n < 1:
            raise ValueError(f"n-gram size must be at least 1, got {n}")
        if self.n_words - n + 1 <= 0:
            return None
        best = np.empty(2, dtype=np.int64)
        if self._kernels is not None and self._spaced is not None:  # a word holds a space: compare the strings
            if not self._kernels.top_spans(self._spaced, self.offsets, n, best):
                return self._datatrove_top(n)
            position = int(best[1])
            return (int(self.offsets[position + n] - self.offsets[position]) + n - 1) * int(best[0])
        if self._kernels is None:
            return self._datatrove_top(n)
        while len(self._levels) < n:
            k = len(self._levels) + 1
            ids = np.empty(self.n_words - k + 1, dtype=np.int64)
            self._kernels.next_level(self._levels[-1], self._levels[0], k, ids, best)
            self._levels.append(ids)
            self._top.append((int(best[0]), int(best[1])))
        count, position = self._top[n - 1]
        length = int(self.offsets[position + n] - self.offsets[position]) + n - 1  # the spaces of " ".join
        return length * count

    def _datatrove_top(self, n: int) -> int:
        from datatrove.pipeline.filters.gopher_repetition_filter import find_top_duplicate, get_n_grams

        return find_top_duplicate(get_n_grams(self.words, n))

    # --- duplicated n-grams: "".join n-grams, skip-ahead scan ---------------------------------------------------
    def duplicated_ngram_chars(self, n: int) -> int:
        """datatrove's ``find_all_duplicate(words, n)``: characters of n-grams already seen, skipping ahead by n."""
        if n < 1:
            raise ValueError(f"n-gram size must be at least 1, got {n}")  # datatrove's loop never ends
        if self.n_words - n + 1 <= 0:
            return 0
        repeated = (
            -1 if self._kernels is None else self._kernels.duplicated_chars(self.codes, self.offsets, self.prefix, n)
        )
        if repeated < 0:
            from datatrove.pipeline.filters.gopher_repetition_filter import find_all_duplicate

            return find_all_duplicate(self.words, n)
        return int(repeated)
