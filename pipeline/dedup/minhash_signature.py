"""MinHash signatures identical to ``datasketch.MinHash`` (default ``affine32`` scheme), computed in bulk.

datasketch updates a sketch one shingle at a time: per shingle it runs a dozen numpy calls on ``num_perm``-long
arrays. Here all shingles of a document are hashed first (one SHA-1 each, as datasketch's ``sha1_hash32``), the
MurmurHash3 finaliser is applied to the whole vector, and the ``a * h + b mod 2^32`` permutations and the minimum
run in one compiled pass (numba) -- or, without numba, on ``shingles x num_perm`` numpy blocks sized to stay in
cache. The permutation parameters are taken from ``datasketch.MinHash(num_perm, seed)`` itself, so the values are
the same bit for bit (``tests/test_dedup_signature.py`` proves it on real pages, for both paths).

Also here: LSH banding (``band_hashes``) and the banding rule (``lsh_params``), which is datasketch's
``_optimal_param`` (minimise the weighted false-positive and false-negative areas under the S-curve).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

_MAX32 = np.uint32(0xFFFFFFFF)
_CHUNK = 512  # shingles per matrix block: 512 x 256 x 4 bytes = 512 KB, fits in L2


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, as datasketch applies it before its affine permutations."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def _min_permuted_py(hv, a, b, out):  # pragma: no cover - compiled by numba (see _min_permuted)
    mask = np.uint64(0xFFFFFFFF)
    for i in range(hv.shape[0]):
        h = np.uint64(hv[i])
        for j in range(a.shape[0]):
            v = (a[j] * h + b[j]) & mask
            if v < out[j]:
                out[j] = v


@lru_cache(maxsize=1)
def _min_permuted():
    """numba fuses permute-and-min into one pass over registers (without it the numpy blocks below do the same);
    compiled, and numba imported, on first use: listing stages or validating a recipe does not pay for it."""
    try:
        from numba import njit  # noqa: PLC0415
    except ImportError:  # pragma: no cover - numba is a declared dependency
        return None
    return njit(cache=True, nogil=True)(_min_permuted_py)


def affine32_permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``datasketch.MinHash(num_perm, seed).permutations`` of its default ``affine32`` scheme: odd ``a`` and any
    ``b`` (uint32) drawn from ``RandomState(seed)``, whose streams NumPy keeps fixed across versions. Computed
    here rather than read from a ``MinHash``: importing datasketch imports scipy (0.5 CPU-s per process); the
    tests compare both, and signatures, with datasketch's own."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


class MinHasher:
    """Signatures of shingle-hash arrays: ``signature(hashes)`` equals ``datasketch.MinHash`` fed the shingles.

    ``use_numba=False`` forces the pure-numpy path (both are tested against datasketch).
    """

    def __init__(self, num_perm: int = 256, seed: int = 1, use_numba: bool = True):
        self.num_perm = num_perm
        self.seed = seed
        self.use_numba = use_numba and _min_permuted() is not None
        a, b = affine32_permutations(num_perm, seed)
        self.a = np.asarray(a, dtype=np.uint32)[None, :]
        self.b = np.asarray(b, dtype=np.uint32)[None, :]
        self.a64 = self.a[0].astype(np.uint64)
        self.b64 = self.b[0].astype(np.uint64)

    def signature(self, shingle_hashes64: np.ndarray) -> np.ndarray:
        """``num_perm`` uint32 minima; all ``2^32-1`` for an empty set, like an untouched datasketch sketch."""
        out = np.full(self.num_perm, _MAX32, dtype=np.uint32)
        if len(shingle_hashes64) == 0:
            return out
        hv = _fmix32((shingle_hashes64 & np.uint64(0xFFFFFFFF)).astype(np.uint32))[:, None]
        if self.use_numba:
            out64 = np.full(self.num_perm, 0xFFFFFFFF, dtype=np.uint64)
            _min_permuted()(hv[:, 0], self.a64, self.b64, out64)
            return out64.astype(np.uint32)
        # a block that stays in cache: multiply, add and reduce in place, no temporary per step
        buf = np.empty((min(len(hv), _CHUNK), self.num_perm), dtype=np.uint32)
        for start in range(0, len(hv), _CHUNK):
            part = hv[start : start + _CHUNK]
            block = buf[: len(part)]
            np.multiply(part, self.a, out=block)
            np.add(block, self.b, out=block)
            np.minimum(out, np.minimum.reduce(block, axis=0), out=out)
        return out


@lru_cache(maxsize=64)
def lsh_params(
    threshold: float, num_perm: int, false_positive_weight: float, false_negative_weight: float
) -> tuple[int, int]:
    """``(bands, rows)`` by datasketch's rule: minimise the weighted false-positive + false-negative areas.

    Common settings come from ``KNOWN_BANDING`` (datasketch's answers, checked against it by the tests): the rule
    integrates with scipy, and importing datasketch and scipy costs 0.5 CPU-s in every process that plans a run."""
    known = KNOWN_BANDING.get((threshold, num_perm, false_positive_weight, false_negative_weight))
    if known is not None:
        return known
    from datasketch.lsh import _optimal_param  # noqa: PLC0415 - imports scipy: only for other settings

    return _optimal_param(threshold, num_perm, false_positive_weight, false_negative_weight)


# datasketch.lsh._optimal_param(threshold, num_perm, 0.1, 0.9): the default weights of ``minhash_dedup``
KNOWN_BANDING: dict[tuple[float, int, float, float], tuple[int, int]] = {
    (threshold, num_perm, 0.1, 0.9): banding
    for num_perm, answers in {
        128: {0.5: (32, 4), 0.6: (25, 5), 0.7: (20, 6), 0.75: (16, 8), 0.8: (14, 9), 0.85: (11, 11), 0.9: (8, 16)},
        256: {0.5: (42, 4), 0.6: (42, 6), 0.7: (32, 8), 0.75: (28, 9), 0.8: (23, 11), 0.85: (18, 14), 0.9: (13, 19)},
    }.items()
    for threshold, banding in answers.items()
}


def candidate_probability(similarity: float, bands: int, rows: int) -> float:
    """Probability that two sets of this Jaccard share at least one band bucket."""
    return 1.0 - (1.0 - similarity**rows) ** bands


_P1 = np.uint64(0x9E3779B97F4A7C15)
_P2 = np.uint64(0xBF58476D1CE4E5B9)
_P3 = np.uint64(0x94D049BB133111EB)


def band_hashes(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """A 64-bit bucket key per (document, band): shape ``(docs, bands)``, uint64.

    The band index is mixed in, so equal values in different bands never share a bucket. Keys are a
    multiply-xorshift mix of the band's ``rows`` values (splitmix64 finaliser): two different bands collide with
    probability about 2^-64, which the pair check after bucketing absorbs anyway.
    """
    n = signatures.shape[0]
    sig = signatures[:, : bands * rows].astype(np.uint64).reshape(n, bands, rows)
    h = np.broadcast_to((np.arange(bands, dtype=np.uint64) + np.uint64(1)) * _P1, (n, bands)).copy()
    with np.errstate(over="ignore"):
        for j in range(rows):
            h ^= sig[:, :, j]
            h *= _P2
            h ^= h >> np.uint64(29)
        h ^= h >> np.uint64(30)
        h *= _P3
        h ^= h >> np.uint64(31)
    return h
