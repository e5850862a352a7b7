"""Text normalisation and word n-gram shingles, the input of both dedup stages.

Normalisation is datatrove's ``simplify_text`` (lowercase, punctuation to spaces, digits to ``0``, whitespace
collapsed, diacritics folded), so two pages that differ only in case, punctuation or numbers are the same text.
Shingles are the set of consecutive ``ngram``-word tuples of the normalised text, each encoded as the words
joined by one space (UTF-8 bytes): the same bytes are what ``datasketch.MinHash.update`` would be fed. A text
with fewer than ``ngram`` words is one shingle; a text with no word has no shingle (it cannot be compared).

Every shingle is hashed once with SHA-1 (datasketch's default hash): the low 32 bits of the little-endian first
8 bytes are datasketch's ``sha1_hash32``, the full 64 bits identify the shingle for exact Jaccard checks.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from datatrove.utils.text import TextNormConfig, simplify_text


@dataclass(frozen=True)
class Normalisation:
    lowercase: bool = True
    remove_punctuation: bool = True
    norm_numbers: bool = True
    norm_whitespace: bool = True
    norm_unicode_diacritics: bool = True

    def config(self) -> TextNormConfig:
        return TextNormConfig(
            lowercase=self.lowercase,
            norm_whitespace=self.norm_whitespace,
            remove_punctuation=self.remove_punctuation,
            norm_unicode_diacritics=self.norm_unicode_diacritics,
            norm_numbers=self.norm_numbers,
        )


def normalise(text: str, norm: Normalisation) -> str:
    return simplify_text(text, norm.config())


def words(text: str, norm: Normalisation) -> list[str]:
    return normalise(text, norm).split()


def shingle_bytes(tokens: list[str], ngram: int) -> set[bytes]:
    """The set of ``ngram``-word shingles, each the words joined by a space, as UTF-8 bytes."""
    if not tokens:
        return set()
    if len(tokens) <= ngram:
        return {" ".join(tokens).encode("utf-8", "surrogatepass")}
    return {" ".join(tokens[i : i + ngram]).encode("utf-8", "surrogatepass") for i in range(len(tokens) - ngram + 1)}


def shingle_hashes(shingles: set[bytes] | list[bytes], unique: bool = True) -> np.ndarray:
    """64-bit SHA-1 prefix of every shingle (uint64), sorted and unique unless ``unique=False`` (signatures do not
    need it, exact Jaccard does). Its low 32 bits are datasketch's ``sha1_hash32``."""
    if not shingles:
        return np.empty(0, dtype=np.uint64)
    sha1 = hashlib.sha1
    hashes = np.frombuffer(b"".join([sha1(s).digest()[:8] for s in shingles]), dtype="<u8").astype(np.uint64)
    return np.unique(hashes) if unique else hashes


def text_shingle_hashes(text: str, ngram: int, norm: Normalisation) -> np.ndarray:
    return shingle_hashes(shingle_bytes(words(text, norm), ngram))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard of two sorted unique hash arrays (0.0 when both are empty)."""
    if len(a) == 0 and len(b) == 0:
        return 0.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)
