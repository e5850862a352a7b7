"""SHA-1 prefixes of every word n-gram of a document in one compiled pass, equal to ``shingle_hashes(shingle_bytes())``.

``shingles.shingle_hashes`` hashes each shingle with ``hashlib.sha1`` (datasketch's hash, needed for identical
signatures): one Python bytes object, one hashlib call and one slice per shingle, about half of the dedup's
signature time. Here the words are joined by single spaces and encoded once; a shingle is a byte range of that
buffer (words never hold a space byte: they come from ``str.split()``, and UTF-8 never puts 0x20 inside a
multi-byte character), and a numba kernel runs SHA-1 (FIPS 180-4) on each range and keeps the first 8 digest bytes
as a little-endian uint64, as ``shingle_hashes`` does. ``tests/test_dedup_signature.py`` checks the values against
``hashlib`` on real pages and on messages of every length around the 55/56/64-byte block boundaries.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


def _sha1_prefixes_py(buf, starts, ends, out):  # pragma: no cover - compiled by numba (see kernel)
    mask = np.uint64(0xFFFFFFFF)
    w = np.zeros(80, dtype=np.uint64)
    block = np.zeros(128, dtype=np.uint8)
    for s in range(starts.shape[0]):
        start, end = starts[s], ends[s]
        length = end - start
        h0 = np.uint64(0x67452301)
        h1 = np.uint64(0xEFCDAB89)
        h2 = np.uint64(0x98BADCFE)
        h3 = np.uint64(0x10325476)
        h4 = np.uint64(0xC3D2E1F0)
        total = ((length + 8) // 64 + 1) * 64  # message + 0x80 + zeros + 64-bit length, in 64-byte blocks
        pos = 0
        while pos < total:
            for i in range(64):  # this block of the padded message
                j = pos + i
                if j < length:
                    block[i] = buf[start + j]
                elif j == length:
                    block[i] = 0x80
                elif j >= total - 8:
                    block[i] = ((length * 8) >> (8 * (total - 1 - j))) & 0xFF
                else:
                    block[i] = 0
            for i in range(16):
                w[i] = (
                    (np.uint64(block[4 * i]) << np.uint64(24))
                    | (np.uint64(block[4 * i + 1]) << np.uint64(16))
                    | (np.uint64(block[4 * i + 2]) << np.uint64(8))
                    | np.uint64(block[4 * i + 3])
                )
            for i in range(16, 80):
                x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]
                w[i] = ((x << np.uint64(1)) | (x >> np.uint64(31))) & mask
            a, b, c, d, e = h0, h1, h2, h3, h4
            for i in range(80):
                if i < 20:
                    f = (b & c) | ((~b & mask) & d)
                    k = np.uint64(0x5A827999)
                elif i < 40:
                    f = b ^ c ^ d
                    k = np.uint64(0x6ED9EBA1)
                elif i < 60:
                    f = (b & c) | (b & d) | (c & d)
                    k = np.uint64(0x8F1BBCDC)
                else:
                    f = b ^ c ^ d
                    k = np.uint64(0xCA62C1D6)
                temp = ((((a << np.uint64(5)) | (a >> np.uint64(27))) & mask) + f + e + k + w[i]) & mask
                e = d
                d = c
                c = ((b << np.uint64(30)) | (b >> np.uint64(2))) & mask
                b = a
                a = temp
            h0 = (h0 + a) & mask
            h1 = (h1 + b) & mask
            h2 = (h2 + c) & mask
            h3 = (h3 + d) & mask
            h4 = (h4 + e) & mask
            pos += 64
        # digest bytes 0-7 are h0, h1 big-endian; read as one little-endian uint64
        lo = (
            ((h0 & np.uint64(0xFF)) << np.uint64(24))
            | (((h0 >> np.uint64(8)) & np.uint64(0xFF)) << np.uint64(16))
            | (((h0 >> np.uint64(16)) & np.uint64(0xFF)) << np.uint64(8))
            | (h0 >> np.uint64(24))
        )
        hi = (
            ((h1 & np.uint64(0xFF)) << np.uint64(24))
            | (((h1 >> np.uint64(8)) & np.uint64(0xFF)) << np.uint64(16))
            | (((h1 >> np.uint64(16)) & np.uint64(0xFF)) << np.uint64(8))
            | (h1 >> np.uint64(24))
        )
        out[s] = lo | (hi << np.uint64(32))


@lru_cache(maxsize=1)
def kernel():
    """The compiled SHA-1 pass, or None without numba; numba is imported (and the kernel loaded) on first use."""
    try:
        from numba import njit  # noqa: PLC0415
    except ImportError:  # pragma: no cover - numba is a declared dependency
        return None
    return njit(cache=True, nogil=True)(_sha1_prefixes_py)


def available() -> bool:
    return kernel() is not None


def ngram_sha1_prefixes(tokens: list[str], ngram: int) -> np.ndarray:
    """uint64 SHA-1 prefix of every ``ngram``-word shingle of ``tokens`` (with repeats, in order); one shingle of
    all the words when there are at most ``ngram``, none when there are none."""
    if not tokens:
        return np.empty(0, dtype=np.uint64)
    buf = np.frombuffer(" ".join(tokens).encode("utf-8", "surrogatepass"), dtype=np.uint8)
    if len(tokens) <= ngram:
        starts = np.zeros(1, dtype=np.int64)
        ends = np.full(1, len(buf), dtype=np.int64)
    else:
        spaces = np.flatnonzero(buf == 32)
        word_starts = np.concatenate(([0], spaces + 1)).astype(np.int64)
        word_ends = np.concatenate((spaces, [len(buf)])).astype(np.int64)
        starts = word_starts[: len(tokens) - ngram + 1]
        ends = word_ends[ngram - 1 :]
    out = np.empty(len(starts), dtype=np.uint64)
    kernel()(buf, starts, ends, out)
    return out
