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
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from datatrove.utils.text import (
    MONTHS_PATTERN,
    NUMBERS_PATTERN,
    PUNCTUATION_TRANS,
    WEEKDAYS_PATTERN,
    TextNormConfig,
)


@dataclass(frozen=True)
class Normalisation:
    lowercase: bool = True
    remove_punctuation: bool = True
    norm_numbers: bool = True
    norm_whitespace: bool = True
    norm_unicode_diacritics: bool = True

    def config(self) -> TextNormConfig:
        return _config(self)


@lru_cache(maxsize=64)
def _config(norm: Normalisation) -> TextNormConfig:
    return TextNormConfig(
        lowercase=norm.lowercase,
        norm_whitespace=norm.norm_whitespace,
        remove_punctuation=norm.remove_punctuation,
        norm_unicode_diacritics=norm.norm_unicode_diacritics,
        norm_numbers=norm.norm_numbers,
    )


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def strip_diacritics(text: str) -> str:
    """``"".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")``, datatrove's
    diacritics step. Only the non-ASCII characters can be marks: their distinct set is collected (one regex scan),
    and the marks among them are deleted by one regex substitution (a per-character generator was a third of the
    dedup's time, a ``str.translate`` table still a sixth)."""
    decomposed = unicodedata.normalize("NFD", text)
    if decomposed.isascii():
        return decomposed
    category = unicodedata.category
    marks = "".join(sorted(c for c in set("".join(_NON_ASCII.findall(decomposed))) if category(c) == "Mn"))
    return _deleter(marks).sub("", decomposed) if marks else decomposed


@lru_cache(maxsize=4096)
def _deleter(marks: str) -> re.Pattern:
    return re.compile("[" + "".join(map(re.escape, marks)) + "]")


# every character datatrove's PUNCTUATION_TRANS maps (all to a space), as one character class: a regex scan is
# about 3x faster than str.translate's per-character table lookups, and replaces the same characters
_PUNCTUATION = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(PUNCTUATION_TRANS)) + "]")
assert set(PUNCTUATION_TRANS.values()) == {ord(" ")}, "datatrove's punctuation table no longer maps to spaces"


def _before_whitespace(text: str, config: TextNormConfig) -> str:
    if config.lowercase:
        text = text.lower()
    if config.norm_numbers:
        text = NUMBERS_PATTERN.sub("0", text)
    if config.norm_weekdays:
        text = WEEKDAYS_PATTERN.sub("WEEKDAY", text)
    if config.norm_monthnames:
        text = MONTHS_PATTERN.sub("MONTH", text)
    if config.remove_punctuation:
        text = _PUNCTUATION.sub(" ", text)
    return text


def simplify(text: str, config: TextNormConfig) -> str:
    """datatrove's ``simplify_text``, step for step (same patterns, same order), faster; ``tests/test_dedup_signature.py``
    checks the two agree on every real page and on crafted strings."""
    text = _before_whitespace(text, config)
    if config.norm_whitespace:
        text = " ".join(text.split())  # WHITESPACE_PATTERN (\s+, str.isspace) on the stripped text
    if config.norm_unicode_diacritics:
        text = strip_diacritics(text)
    return text.strip()


def normalise(text: str, norm: Normalisation) -> str:
    return simplify(text, norm.config())


def words(text: str, norm: Normalisation) -> list[str]:
    """``normalise(text, norm).split()``. The whitespace step is skipped: ``split()`` collapses whitespace anyway,
    and the diacritics step maps whitespace to whitespace and never moves it (NFD keeps starters in place)."""
    config = norm.config()
    text = _before_whitespace(text, config)
    if config.norm_unicode_diacritics:
        text = strip_diacritics(text)
    return text.split()


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
