"""The compiled n-gram measures of ``ngram_repetition`` equal datatrove's own functions, value for value.

datatrove's ``find_top_duplicate(get_n_grams(words, n))`` (``" ".join`` n-grams in a ``Counter``) and
``find_all_duplicate(words, n)`` (``"".join`` n-grams in a ``set``, skipping ahead on a repeat) are the reference,
on real documents of ``../shared/data/web`` (spaCy words as the Gopher filter gets them, and whitespace words) and
on adversarial word lists: ties, too few words, ambiguous concatenations, long runs, non-ASCII, words with spaces,
and strings whose 64-bit polynomial hashes collide (Thue-Morse), where only the exact comparisons keep the answer.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from conftest import load_web_corpus
from datatrove.pipeline.filters.gopher_repetition_filter import find_all_duplicate, find_top_duplicate, get_n_grams

from pipeline.filters import ngram_kernels, ngram_repetition
from pipeline.filters.ngram_repetition import NGramRepetition
from pipeline.filters.word_analysis import analyze

TOP_SIZES = (1, 2, 3, 4, 5)
DUP_SIZES = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13)


def reference(words: list[str], top_sizes=TOP_SIZES, dup_sizes=DUP_SIZES) -> tuple[list[int | None], list[int]]:
    top = []
    for n in top_sizes:
        grams = get_n_grams(words, n)
        top.append(find_top_duplicate(grams) if grams else None)
    return top, [find_all_duplicate(words, n) for n in dup_sizes]


def ours(words: list[str], top_sizes=TOP_SIZES, dup_sizes=DUP_SIZES) -> tuple[list[int | None], list[int]]:
    measures = NGramRepetition(words)
    return [measures.top_ngram_chars(n) for n in top_sizes], [measures.duplicated_ngram_chars(n) for n in dup_sizes]


@pytest.fixture(scope="module")
def real_word_lists() -> list[tuple[str, list[str]]]:
    docs = load_web_corpus()[::6]
    assert len(docs) > 200
    lists = [(doc_id, analyze(text, "eng").words) for doc_id, text in docs]
    lists += [(f"{doc_id} (split)", text.split()) for doc_id, text in docs[::4]]
    return lists


def test_real_documents_equal_datatrove(real_word_lists):
    """The sizes Gopher uses: top 2- to 4-grams, duplicated 5- to 10-grams."""
    mismatches = []
    repeated = 0
    for doc_id, words in real_word_lists:
        expected = reference(words, (2, 3, 4), (5, 6, 7, 8, 9, 10))
        got = ours(words, (2, 3, 4), (5, 6, 7, 8, 9, 10))
        if expected != got:
            mismatches.append((doc_id, expected, got))
        repeated += sum(1 for chars in expected[1] if chars)
    assert mismatches == []
    assert repeated > 100  # the documents do repeat 5- to 13-grams: the scan's skip-ahead is exercised


def thue_morse(order: int, letters: str = "ab") -> str:
    bits = [bin(i).count("1") % 2 for i in range(1 << order)]
    return "".join(letters[b] for b in bits)


TM = thue_morse(11)  # 2048 characters: its polynomial hash modulo 2**64 equals its complement's, for any odd base
TM_BAR = TM.translate(str.maketrans("ab", "ba"))

ADVERSARIAL = {
    "empty": [],
    "one word": ["only"],
    "two words": ["a", "b"],
    "ties, first inserted wins": ["b", "a", "a", "b", "c", "c"],
    "ties of different lengths": ["xx", "y", "y", "xx", "y", "xx"],
    "ambiguous concatenations": ["ab", "c", "a", "bc", "ab", "c", "a", "bc", "d"] * 3,
    "ambiguous with empty words": ["", "ab", "", "a", "b", "", "ab", "a", "b", ""] * 4,
    "only empty words": [""] * 30,
    "one word repeated": ["x"] * 2000,
    "two words alternating": ["a", "b"] * 700 + ["c"],
    "long runs": ["the"] * 300 + ["cat"] * 300 + ["the", "cat"] * 150 + ["sat"] * 7,
    "periodic numbers": [str(i % 7) for i in range(500)],
    "non-ascii": ["é", "😀", "日本", "語", "Привет", "ß", "ﬁ", "\u0301e"] * 12 + ["日", "本語"] * 5,
    "lone surrogates": ["a\ud800", "\udfff", "a", "\ud800\udfff", "😀"] * 8,
    "control characters": ["\x00", "a\x00", "\x00a", "\x1c", "\x7f"] * 10,
    "words with spaces": ["a b", "c", "a", "b c", "a b", "c"] * 6 + [" ", "", " "] * 4,
    "words with spaces, ties": ["a b", "c", "a", "b c", "d", "a", "b", "c"],
    "multi-word tokens": ["Việt Nam", "là", "Việt", "Nam", "là", "Việt Nam", "là"] * 5,
    "other whitespace inside words": ["a\tb", "c\n", "a", "\tb", "c\u00a0"] * 9,
    "long words": ["w" * 5000, "v" * 4999 + "w", "w" * 5000] * 4,
    "thue-morse collisions": [TM, TM_BAR, TM, "x", TM_BAR, TM_BAR, TM] * 3,
}


@pytest.mark.parametrize("words", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_adversarial_word_lists_equal_datatrove(words):
    assert ours(words) == reference(words)


def test_random_word_lists_equal_datatrove():
    """Short words over a tiny alphabet: many ties and many "".join n-grams equal across different word tuples."""
    rng = random.Random(16)
    for _ in range(400):
        alphabet = rng.choice(["ab", "abc", "a😀", "x", "a ", "a b"])  # spaces: " ".join is ambiguous too
        words = ["".join(rng.choices(alphabet, k=rng.randint(0, 3))) for _ in range(rng.randint(0, 60))]
        assert ours(words) == reference(words), words


def test_thue_morse_words_collide_and_still_count_apart():
    """The two words share a hash (the collision is real), yet the exact comparison keeps them apart."""
    kernels = ngram_repetition.kernels()
    assert kernels is not None
    one, other = NGramRepetition([TM]), NGramRepetition([TM_BAR])
    assert one.prefix[1] == other.prefix[1]
    both = NGramRepetition([TM, TM_BAR])
    assert both.top_ngram_chars(1) == len(TM)  # two words, one each, not one word twice
    assert both.duplicated_ngram_chars(1) == 0


def test_colliding_ngrams_past_the_budget_fall_back_to_datatrove():
    """Crafted text whose n-grams all collide: the compiled scan gives up after its comparison budget, and the
    answer comes from datatrove's loop, the same as everywhere else."""
    rng = random.Random(7)
    prefix = "p" * 3000
    words = [prefix + rng.choice([TM, TM_BAR]) for _ in range(120)]
    measures = NGramRepetition(words)
    assert measures._kernels is not None  # two distinct words: the word index stays within its budget
    kernels = ngram_repetition.kernels()
    assert kernels.duplicated_chars(measures.codes, measures.offsets, measures.prefix, 2) == -1
    assert measures.duplicated_ngram_chars(2) == find_all_duplicate(words, 2)
    assert ours(words) == reference(words)


def test_colliding_spaced_ngrams_past_the_budget_fall_back_to_datatrove():
    """The same with words holding a space (the " ".join strings are compared): the compiled count gives up."""
    rng = random.Random(7)
    words = ["p" * 1000 + " " + rng.choice([TM, TM_BAR]) for _ in range(120)]
    measures = NGramRepetition(words)
    assert measures._spaced is not None and measures._kernels is not None
    assert not ngram_repetition.kernels().top_spans(measures._spaced, measures.offsets, 2, np.empty(2, np.int64))
    assert measures.top_ngram_chars(2) == find_top_duplicate(get_n_grams(words, 2))
    assert ours(words) == reference(words)


def test_many_colliding_words_fall_back_to_datatrove():
    """Sixty-four distinct words with one hash: the word index gives up and every measure is datatrove's."""
    blocks = [TM, TM_BAR]
    words = ["q" * 4000 + "".join(blocks[(i >> b) & 1] for b in range(6)) for i in range(64)] * 2
    measures = NGramRepetition(words)
    assert measures._kernels is None
    assert ours(words) == reference(words)


def test_words_with_spaces_are_counted_as_joined_strings():
    """("a b", "c") and ("a", "b c") are one " ".join 2-gram, as in datatrove's Counter: the compiled count of
    strings, not of word tuples, and no fallback."""
    words = ["a b", "c", "x", "a", "b c", "y", "a b", "c"]
    measures = NGramRepetition(words)
    assert measures._spaced is not None and measures._kernels is not None
    assert measures.top_ngram_chars(2) == 3 * len("a b c") == find_top_duplicate(get_n_grams(words, 2))


def test_kernel_arrays_hold_the_joined_words():
    words = ["ab", "", "c", "日本", "😀"]
    measures = NGramRepetition(words)
    joined = "".join(words)
    assert measures.offsets.tolist() == [0, 2, 2, 3, 5, 6]
    assert "".join(map(chr, measures.codes[: len(joined)])) == joined
    assert measures.codes.dtype == np.uint32


def test_sizes_below_one_are_refused():
    measures = NGramRepetition(["a", "b"])
    with pytest.raises(ValueError):
        measures.duplicated_ngram_chars(0)  # datatrove's loop would never end
    with pytest.raises(ValueError):
        measures.top_ngram_chars(0)


def test_without_numba_the_measures_are_datatrove_s(monkeypatch):
    monkeypatch.setattr(ngram_repetition, "kernels", lambda: None)
    words = ADVERSARIAL["ambiguous concatenations"]
    assert ours(words) == reference(words)


def test_kernels_module_is_compiled():
    assert hasattr(ngram_kernels.duplicated_chars, "signatures")  # numba dispatchers, cached on disk
