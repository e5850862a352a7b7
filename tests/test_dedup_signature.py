"""MinHash signatures equal datasketch's bit for bit; banding follows datasketch's rule; band keys separate bands."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
from conftest import SHARED
from datasketch import MinHash, MinHashLSH

from pipeline.dedup.minhash_signature import (
    KNOWN_BANDING,
    MinHasher,
    affine32_permutations,
    band_hashes,
    candidate_probability,
    lsh_params,
)
from pipeline.dedup.shingles import Normalisation, shingle_bytes, shingle_hashes, text_shingle_hashes, words


def real_texts(n: int) -> list[str]:
    with gzip.open(SHARED / "web" / "cleaneval-gold-dev.jsonl.gz", "rt") as f:
        texts = [json.loads(line)["text"] for line in f]
    with open(SHARED / "web" / "mozilla-readability.jsonl") as f:
        texts += [json.loads(line)["text"] for line in f]
    return texts[:n] + texts[-n:]


def datasketch_signature(shingles: set[bytes], num_perm: int, seed: int) -> np.ndarray:
    m = MinHash(num_perm=num_perm, seed=seed)
    for s in shingles:
        m.update(s)
    return m.hashvalues


@pytest.mark.parametrize("use_numba", [True, False])
@pytest.mark.parametrize(("num_perm", "seed", "ngram"), [(256, 1, 5), (128, 42, 3), (64, 7, 1)])
def test_signature_equals_datasketch_on_real_pages(num_perm, seed, ngram, use_numba):
    norm = Normalisation()
    hasher = MinHasher(num_perm, seed, use_numba=use_numba)
    assert hasher.use_numba == use_numba  # numba is a dependency: the fast path really runs
    for text in real_texts(12):
        shingles = shingle_bytes(words(text, norm), ngram)
        ours = hasher.signature(shingle_hashes(shingles))
        assert ours.dtype == np.uint32
        np.testing.assert_array_equal(ours, datasketch_signature(shingles, num_perm, seed))


def test_signature_of_a_page_longer_than_one_block_and_of_nothing():
    norm = Normalisation()
    text = " ".join(real_texts(30))  # tens of thousands of shingles: several matrix blocks
    shingles = shingle_bytes(words(text, norm), 5)
    assert len(shingles) > 20_000
    for use_numba in (True, False):
        hasher = MinHasher(128, 3, use_numba=use_numba)
        expected = datasketch_signature(shingles, 128, 3)
        np.testing.assert_array_equal(hasher.signature(shingle_hashes(shingles, unique=False)), expected)
        empty = hasher.signature(shingle_hashes(set()))
        np.testing.assert_array_equal(empty, MinHash(num_perm=128, seed=3).hashvalues)


def test_shingles_and_bad_input():
    norm = Normalisation()
    assert shingle_bytes(words("", norm), 5) == set()
    assert shingle_bytes(words("  \n\t ", norm), 5) == set()
    assert shingle_bytes(words("Two words.", norm), 5) == {b"two words"}  # shorter than n: one shingle
    # case, punctuation and digits do not count (datatrove's normalisation)
    assert text_shingle_hashes("The price: 12 EUR, today!", 3, norm).tolist() == sorted(
        text_shingle_hashes("the PRICE 99 eur today", 3, norm).tolist()
    )
    for junk in ("日本語のテキストです。東京は大きい都市です。", "\x00\x01\ufffd\udcff binary \x7f", "a" * 100_000):
        hashes = text_shingle_hashes(junk, 5, norm)
        assert MinHasher(32, 1).signature(hashes).shape == (32,)


def test_known_banding_and_permutations_are_datasketchs():
    from datasketch.lsh import _optimal_param

    for (threshold, num_perm, fp, fn), banding in KNOWN_BANDING.items():
        assert _optimal_param(threshold, num_perm, fp, fn) == banding
    for num_perm, seed in [(256, 1), (128, 3), (7, 0)]:
        reference = MinHash(num_perm=num_perm, seed=seed)
        assert reference.scheme == "affine32"
        a, b = affine32_permutations(num_perm, seed)
        assert a.dtype == b.dtype == np.uint32
        assert np.array_equal(a, reference.permutations[0]) and np.array_equal(b, reference.permutations[1])


def test_banding_is_datasketchs_rule():
    for threshold, num_perm in [(0.8, 128), (0.7, 256), (0.9, 64)]:
        lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        assert lsh_params(threshold, num_perm, 0.5, 0.5) == (lsh.b, lsh.r)
    # the default weights trade false positives (removed by the pair check) for recall at 0.85
    bands, rows = lsh_params(0.8, 256, 0.1, 0.9)
    assert candidate_probability(0.85, bands, rows) > 0.98
    b128, r128 = lsh_params(0.8, 128, 0.5, 0.5)
    assert candidate_probability(0.85, b128, r128) < 0.7  # why the default is not datasketch's 128 / equal weights


def test_band_keys_match_equal_bands_only():
    rng = np.random.default_rng(0)
    sig = rng.integers(0, 2**32, size=(4, 20), dtype=np.uint64).astype(np.uint32)
    sig[1, :5] = sig[0, :5]  # docs 0 and 1 share band 0
    sig[2, 5:10] = sig[0, 5:10]  # docs 0 and 2 share band 1
    sig[3] = np.tile(sig[3, :5], 4)  # doc 3 has the same values in every band
    keys = band_hashes(sig, 4, 5)
    assert keys.shape == (4, 4) and keys.dtype == np.uint64
    assert keys[0, 0] == keys[1, 0] and keys[0, 1] != keys[1, 1]
    assert keys[0, 1] == keys[2, 1] and keys[0, 0] != keys[2, 0]
    assert len(set(keys[3].tolist())) == 4  # equal values in different bands never share a bucket


def test_normalisation_equals_datatroves_simplify_text():
    """``simplify`` (and ``words``) give datatrove's ``simplify_text`` output for every flag combination, on real
    pages and on strings built to catch the shortcuts: combining marks beside whitespace, compatibility and
    canonical decompositions, every kind of Unicode whitespace, digits in other scripts, lone surrogates."""
    import itertools

    from datatrove.utils.text import TextNormConfig, simplify_text

    from pipeline.dedup.shingles import simplify

    crafted = [
        "Crème brûlée, ÉCOLE; naïve café",
        "  \u0301abc ",
        "\u0301 x \u0301",
        "a \u0301 b\u0327\u0301",
        "Ａｂｃ １２３ ﬁ ﬀ ǅ Å Ω",
        "İstanbul ΣΑΣ ß",
        "\u2001x\u2000y\u00a0z\u3000w\u2028v\x1c\x1d\x1e\x1f\x85u",
        "Monday 12,5 ١٢٣٫٤ ৩ ...!?¿¡ «quotes» — dash",
        "\ud800 broken \udfff",
        "हिन्दी मरहबा مَرْحَبًا ภาษาไทย שָׁלוֹם Tiếng Việt ক্ষ ಕನ್ನಡ \u20d7x\ufe20y \U000e0100z",
        "",
        "   ",
    ]
    texts = real_texts(40) + crafted
    for flags in itertools.product([True, False], repeat=5):
        norm = Normalisation(*flags)
        config = norm.config()
        for text in texts:
            assert simplify(text, config) == simplify_text(text, config), (flags, text[:40])
            assert words(text, norm) == simplify_text(text, config).split(), (flags, text[:40])
    config = TextNormConfig(norm_weekdays=True, norm_monthnames=True)
    for text in texts:
        assert simplify(text, config) == simplify_text(text, config)


def test_compiled_ngram_sha1_equals_hashlib():
    """The numba SHA-1 pass over a document's shingles gives the values of hashlib's, shingle for shingle."""
    import hashlib

    from pipeline.dedup import sha1_shingles

    assert sha1_shingles.available()
    for length in range(0, 200):  # every padding case: 55, 56, 63, 64, 119, 120 bytes ...
        message = bytes((7 * i + length) % 256 for i in range(length))
        buf = np.frombuffer(message + b"x", dtype=np.uint8)
        out = np.empty(1, dtype=np.uint64)
        sha1_shingles.kernel()(buf, np.array([0]), np.array([length]), out)
        assert out[0] == np.frombuffer(hashlib.sha1(message).digest()[:8], "<u8")[0], length
    norm = Normalisation()
    crafted = [
        "a b",
        "naïve café ŝ and more words here",
        "Ü" * 60 + " " + "b" * 70 + " c d e f g",
        "\ud800 a b c d e f",
    ]
    for text in real_texts(30) + crafted:
        tokens = words(text, norm)
        for ngram in (1, 3, 5):
            fast = np.unique(sha1_shingles.ngram_sha1_prefixes(tokens, ngram))
            assert np.array_equal(fast, shingle_hashes(shingle_bytes(tokens, ngram))), text[:40]
