"""Word n-gram repetition measures of Gopher's repetition rules, vectorised, equal to datatrove's loops.

datatrove's ``GopherRepetitionFilter`` builds a Python string for every n-gram of every size (2 to 10) and counts
them in a ``Counter`` or a ``set``. Here the same two measures come from integer arrays:

* ``top_ngram_chars`` (datatrove's ``find_top_duplicate`` over ``" ".join`` n-grams): words get dense integer ids,
  n-grams get dense ids by pairing (n-1)-gram ids with the next word id, and ``numpy.unique`` counts them. Ties
  are broken like ``Counter.most_common(1)``: the n-gram seen first wins. Requires words without whitespace
  (spaCy's tokens never have any), so that ``" ".join`` is one-to-one on word tuples.
* ``duplicated_ngram_chars`` (datatrove's ``find_all_duplicate`` over ``"".join`` n-grams, where ``("ab", "c")``
  and ``("a", "bc")`` are the same n-gram): a polynomial hash of every n-gram's characters, from prefix sums,
  marks the positions whose string may occur twice; a position with a unique hash cannot be a duplicate. The
  scan then walks only those positions, with datatrove's skip-ahead, comparing the real strings in a ``set``, so
  a hash collision costs time, never a wrong answer.

``tests/test_filters_parity_gopher.py`` checks both against datatrove's functions on real documents and edge cases.
"""

from __future__ import annotations

import numpy as np

_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd, so invertible modulo 2**64
_BASE_INV = np.uint64(pow(0x9E3779B97F4A7C15, -1, 2**64))


class NGramRepetition:
    """Repetition measures of one document's word list."""

    def __init__(self, words: list[str]):
        self.words = words
        n_words = len(words)
        self.n_words = n_words
        lengths = np.fromiter(map(len, words), dtype=np.int64, count=n_words)
        self.offsets = np.zeros(n_words + 1, dtype=np.int64)
        np.cumsum(lengths, out=self.offsets[1:])
        vocabulary: dict[str, int] = {}
        self.ids = np.fromiter(
            (vocabulary.setdefault(w, len(vocabulary)) for w in words), dtype=np.int64, count=n_words
        )
        self.vocabulary_size = max(len(vocabulary), 1)
        self._ngram_ids: dict[int, np.ndarray] = {1: self.ids}
        self._joined: str | None = None
        self._prefix: tuple[np.ndarray, np.ndarray] | None = None

    # --- top n-gram: " ".join n-grams, Counter.most_common(1) ---------------------------------------------------
    def _ids_of(self, n: int) -> np.ndarray:
        """Dense ids of the word n-grams starting at each position (equal ids <=> equal word tuples)."""
        if n not in self._ngram_ids:
            previous = self._ids_of(n - 1)[:-1]
            pairs = previous * self.vocabulary_size + self.ids[n - 1 :]
            self._ngram_ids[n] = np.unique(pairs, return_inverse=True)[1].reshape(-1).astype(np.int64)
        return self._ngram_ids[n]

    def top_ngram_chars(self, n: int) -> int | None:
        """Characters covered by the most frequent n-gram (its length times its count); None without n-grams."""
        if self.n_words - n + 1 <= 0:
            return None
        ids = self._ids_of(n)
        _, first, counts = np.unique(ids, return_index=True, return_counts=True)
        top = int(counts.max())
        position = int(first[counts == top].min())
        length = int(self.offsets[position + n] - self.offsets[position]) + n - 1
        return length * top

    # --- duplicated n-grams: "".join n-grams, skip-ahead scan ---------------------------------------------------
    def _hash_prefix(self) -> tuple[np.ndarray, np.ndarray]:
        if self._prefix is None:
            self._joined = "".join(self.words)
            codes = np.frombuffer(self._joined.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.uint64)
            size = codes.size
            powers = np.empty(size, dtype=np.uint64)
            inverse = np.empty(size + 1, dtype=np.uint64)
            if size:
                powers[0] = 1
                powers[1:] = _BASE
                np.multiply.accumulate(powers, out=powers)  # wraps modulo 2**64
            inverse[0] = 1
            inverse[1:] = _BASE_INV
            np.multiply.accumulate(inverse, out=inverse)
            prefix = np.zeros(size + 1, dtype=np.uint64)
            np.cumsum(codes * powers, out=prefix[1:])
            self._prefix = (prefix, inverse)
        return self._prefix

    def duplicated_ngram_chars(self, n: int) -> int:
        """datatrove's ``find_all_duplicate(words, n)``: characters of n-grams already seen, skipping ahead by n."""
        positions = self.n_words - n + 1
        if positions <= 0:
            return 0
        prefix, inverse = self._hash_prefix()
        starts = self.offsets[:positions]
        ends = self.offsets[n : n + positions]
        with np.errstate(over="ignore"):
            hashes = (prefix[ends] - prefix[starts]) * inverse[starts]
        _, inv, counts = np.unique(hashes, return_inverse=True, return_counts=True)
        candidates = np.flatnonzero(counts[inv.reshape(-1)] > 1)
        if candidates.size == 0:
            return 0
        joined = self._joined
        assert joined is not None
        offsets = self.offsets.tolist()
        seen: set[str] = set()
        repeated = 0
        index = 0
        for position in candidates.tolist():
            if position < index:
                continue  # inside an n-gram just counted as a duplicate: datatrove jumped over it
            gram = joined[offsets[position] : offsets[position + n]]
            if gram in seen:
                repeated += len(gram)
                index = position + n
            else:
                seen.add(gram)
                index = position + 1
        return repeated
