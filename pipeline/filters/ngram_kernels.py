"""numba kernels of ``ngram_repetition``: word ids, word n-gram ids and datatrove's duplicate n-gram scan.

Integers only: the words arrive as the code points of ``" ".join(words)`` (uint32). Strings are hashed with a
polynomial hash modulo 2**64 kept at word boundaries (``prefix[i]``: the hash of the first i words joined), so the
hash of any run of words costs one multiplication. The hash tables use open addressing with linear probing; a
match of the hash (its top 32 bits in the table entry) is confirmed by comparing the code points themselves (or an
exact integer key), so the answers never depend on the hash. Polynomial hashes modulo 2**64 can be made to collide
(Thue-Morse strings), so each comparing kernel charges the characters it compares to a budget of twice what true
matches can cost, plus a constant, and gives up past it; the caller then uses datatrove's loop. Importing this module imports numba; compiled code is cached on disk (``cache=True``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd: the polynomial hash of a string, modulo 2**64
_MIX = np.uint64(0xD6E8FEB86659FD93)  # the top bits of key * _MIX pick a table slot
_U32 = np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)
_ONE = np.uint64(1)
_SPACE = np.uint32(32)
_BUDGET_SLACK = 1 << 16


@njit(cache=True, inline="always")
def _same_span(codes: np.ndarray, s1: int, e1: int, s2: int, e2: int, budget: np.ndarray) -> bool:
    """Whether two spans of ``codes`` hold the same code points; each comparison is charged to ``budget[0]``."""
    if e1 - s1 != e2 - s2:
        return False
    budget[0] -= e1 - s1
    for j in range(e1 - s1):
        if codes[s1 + j] != codes[s2 + j]:
            return False
    return True


@njit(cache=True, nogil=True)
def _powers(max_length: int) -> np.ndarray:
    powers = np.empty(max_length + 1, dtype=np.uint64)
    powers[0] = _ONE
    for j in range(1, max_length + 1):
        powers[j] = powers[j - 1] * _BASE
    return powers


@njit(cache=True, nogil=True)
def _table_bits(entries: int) -> int:
    """log2 of a power-of-two table size at least twice ``entries`` (load factor at most one half)."""
    bits = 1
    while (1 << bits) < 2 * entries:
        bits += 1
    return bits


@njit(cache=True, nogil=True)
def _best(counts: np.ndarray, first: np.ndarray, n_ids: int, best: np.ndarray) -> None:
    """The highest count and the first position of its id; ids number the n-grams in order of first occurrence,
    so the smallest id among equal counts is the one ``Counter.most_common(1)`` returns."""
    top = 0
    for i in range(1, n_ids):
        if counts[i] > counts[top]:
            top = i
    best[0] = counts[top]
    best[1] = first[top]


@njit(cache=True, nogil=True)
def _index_hashed(
    codes: np.ndarray, offsets: np.ndarray, hashes: np.ndarray, ids: np.ndarray, best: np.ndarray
) -> bool:
    """Dense word ids (first occurrence first) into ``ids`` and the most frequent word into ``best``, from the
    words' hashes; False when hash collisions made the comparisons exceed their budget (gave up)."""
    n = offsets.shape[0] - 1
    budget = np.array([2 * offsets[n] + _BUDGET_SLACK], dtype=np.int64)
    bits = _table_bits(n)
    mask = (1 << bits) - 1
    shift = np.uint64(64 - bits)
    table = np.zeros(1 << bits, dtype=np.uint64)  # (top 32 bits of the hash, word index + 1); 0: empty
    counts = np.empty(n, dtype=np.int64)
    first = np.empty(n, dtype=np.int64)
    n_ids = 0
    for i in range(n):
        h = hashes[i]
        tag = h >> _U32
        slot = np.int64((h * _MIX) >> shift)
        while True:
            entry = table[slot]
            if entry == 0:
                table[slot] = (tag << _U32) | np.uint64(i + 1)
                ids[i] = n_ids
                counts[n_ids] = 1
                first[n_ids] = i
                n_ids += 1
                break
            if entry >> _U32 == tag:
                q = np.int64(entry & _LOW32) - 1
                if _same_span(codes, offsets[q], offsets[q + 1], offsets[i], offsets[i + 1], budget):
                    ids[i] = ids[q]
                    counts[ids[q]] += 1
                    break
                if budget[0] < 0:
                    return False
            slot = (slot + 1) & mask
    _best(counts, first, n_ids, best)
    return True


@njit(cache=True, nogil=True)
def index_words(codes: np.ndarray, offsets: np.ndarray, prefix: np.ndarray, ids: np.ndarray, best: np.ndarray) -> bool:
    """Word i is ``codes[offsets[i]:offsets[i + 1]]``. Fill ``prefix`` (``prefix[i]``: hash of the first i words
    joined), ``ids`` (dense word ids, first occurrence first) and ``best`` (count and first position of the most
    frequent word). False when hash collisions made the comparisons exceed their budget (gave up)."""
    n = offsets.shape[0] - 1
    hashes = np.empty(n, dtype=np.uint64)
    prefix[0] = 0
    for i in range(n):
        h = np.uint64(0)
        power = _ONE
        for j in range(offsets[i], offsets[i + 1]):
            h = h * _BASE + np.uint64(codes[j]) + _ONE
            power *= _BASE
        hashes[i] = h
        prefix[i + 1] = prefix[i] * power + h
    return _index_hashed(codes, offsets, hashes, ids, best)


@njit(cache=True, nogil=True)
def split_and_index(
    spaced: np.ndarray, codes: np.ndarray, offsets: np.ndarray, prefix: np.ndarray, ids: np.ndarray, best: np.ndarray
) -> int:
    """``index_words`` of the words in ``spaced``, the code points of ``" ".join(words)``, split at its spaces
    into ``codes`` (``"".join(words)``) and ``offsets`` in the same pass. Returns the number of spaces (more than
    ``len(words) - 1``: a word holds a space, the split is wrong and nothing is indexed), or -1 when the index gave
    up."""
    n = offsets.shape[0] - 1
    hashes = np.empty(n, dtype=np.uint64)
    k = 0
    word = 0
    offsets[0] = 0
    prefix[0] = 0
    h = np.uint64(0)
    power = _ONE
    for j in range(spaced.shape[0]):
        c = spaced[j]
        if c == _SPACE:
            if word + 1 >= n:
                return word + 1
            hashes[word] = h
            prefix[word + 1] = prefix[word] * power + h
            word += 1
            offsets[word] = k
            h = np.uint64(0)
            power = _ONE
        else:
            codes[k] = c
            k += 1
            h = h * _BASE + np.uint64(c) + _ONE
            power *= _BASE
    hashes[word] = h
    prefix[word + 1] = prefix[word] * power + h
    offsets[n] = k
    if not _index_hashed(codes, offsets, hashes, ids, best):
        return -1
    return word


@njit(cache=True, nogil=True)
def next_level(previous: np.ndarray, words: np.ndarray, k: int, ids: np.ndarray, best: np.ndarray) -> None:
    """Dense ids of the word k-grams (``ids[i]`` for the k-gram starting at word i, first occurrence first) from
    the ids of the (k-1)-grams and of the words: a k-gram is the exact pair (its (k-1)-gram, its last word)."""
    m = ids.shape[0]
    bits = _table_bits(m)
    mask = (1 << bits) - 1
    shift = np.uint64(64 - bits)
    table = np.zeros(2 << bits, dtype=np.uint64)  # (key, id + 1) in slots 2s and 2s + 1; id 0: empty
    counts = np.empty(m, dtype=np.int64)
    first = np.empty(m, dtype=np.int64)
    n_ids = 0
    for i in range(m):
        key = (np.uint64(previous[i]) << _U32) | np.uint64(words[i + k - 1])  # ids < 2**32 words
        slot = np.int64((key * _MIX) >> shift)
        while True:
            found = np.int64(table[2 * slot + 1]) - 1
            if found < 0:
                table[2 * slot] = key
                table[2 * slot + 1] = n_ids + 1
                ids[i] = n_ids
                counts[n_ids] = 1
                first[n_ids] = i
                n_ids += 1
                break
            if table[2 * slot] == key:
                ids[i] = found
                counts[found] += 1
                break
            slot = (slot + 1) & mask
    _best(counts, first, n_ids, best)


@njit(cache=True, nogil=True)
def duplicated_chars(codes: np.ndarray, offsets: np.ndarray, prefix: np.ndarray, n: int) -> int:
    """datatrove's ``find_all_duplicate(words, n)``: walk the n-grams of ``"".join`` strings, keep a set of those
    seen; a repeat adds its length and jumps n words ahead, a new one is added and the walk moves one word on."""
    m = offsets.shape[0] - n  # n-gram positions
    if m <= 0:
        return 0
    max_length = 0
    for i in range(m):
        max_length = max(max_length, offsets[i + n] - offsets[i])
    powers = _powers(max_length)
    budget = np.array([2 * offsets[m + n - 1] + _BUDGET_SLACK], dtype=np.int64)
    bits = _table_bits(2 * m)  # load factor at most 1/4: most n-grams are new, and new ones probe longest
    mask = (1 << bits) - 1
    shift = np.uint64(64 - bits)
    table = np.zeros(1 << bits, dtype=np.uint64)  # (top 32 bits of the hash, position + 1); 0: empty
    repeated = 0
    i = 0
    while i < m:
        start, end = offsets[i], offsets[i + n]
        h = prefix[i + n] - prefix[i] * powers[end - start]  # the hash of codes[start:end]
        tag = h >> _U32
        slot = np.int64((h * _MIX) >> shift)
        while True:
            entry = table[slot]
            if entry == 0:
                table[slot] = (tag << _U32) | np.uint64(i + 1)
                i += 1
                break
            if entry >> _U32 == tag:
                q = np.int64(entry & _LOW32) - 1
                if _same_span(codes, offsets[q], offsets[q + n], start, end, budget):
                    repeated += end - start
                    i += n
                    break
                if budget[0] < 0:
                    return -1
            slot = (slot + 1) & mask
    return repeated


@njit(cache=True, nogil=True)
def top_spans(spaced: np.ndarray, offsets: np.ndarray, n: int, best: np.ndarray) -> bool:
    """``Counter.most_common(1)`` of the ``" ".join`` n-grams as strings, for words that may hold spaces (where
    equal strings can come from different word tuples): the n-gram at word i is the span of ``spaced`` (the code
    points of ``" ".join(words)``) from ``offsets[i] + i`` to ``offsets[i + n] + i + n - 1``, ``offsets`` being the
    word offsets in ``"".join(words)``. Fills ``best`` (count, first position); False when it gave up."""
    total = spaced.shape[0]
    prefix = np.empty(total + 1, dtype=np.uint64)
    prefix[0] = 0
    for j in range(total):
        prefix[j + 1] = prefix[j] * _BASE + np.uint64(spaced[j]) + _ONE
    m = offsets.shape[0] - n
    max_length = 0
    for i in range(m):
        max_length = max(max_length, offsets[i + n] - offsets[i] + n - 1)
    powers = _powers(max_length)
    budget = np.array([2 * n * (total + 1) + _BUDGET_SLACK], dtype=np.int64)  # a character is in n spans at most
    bits = _table_bits(m)
    mask = (1 << bits) - 1
    shift = np.uint64(64 - bits)
    table = np.zeros(1 << bits, dtype=np.uint64)  # (top 32 bits of the hash, first position + 1); 0: empty
    counts = np.zeros(m, dtype=np.int64)  # by first position
    for i in range(m):
        start, end = offsets[i] + i, offsets[i + n] + i + n - 1
        h = prefix[end] - prefix[start] * powers[end - start]
        tag = h >> _U32
        slot = np.int64((h * _MIX) >> shift)
        while True:
            entry = table[slot]
            if entry == 0:
                table[slot] = (tag << _U32) | np.uint64(i + 1)
                counts[i] = 1
                break
            if entry >> _U32 == tag:
                q = np.int64(entry & _LOW32) - 1
                if _same_span(spaced, offsets[q] + q, offsets[q + n] + q + n - 1, start, end, budget):
                    counts[q] += 1
                    break
                if budget[0] < 0:
                    return False
            slot = (slot + 1) & mask
    top = 0
    for i in range(1, m):
        if counts[i] > counts[top]:
            top = i
    best[0] = counts[top]
    best[1] = top
    return True
