"""The English chunk shortcut gives spaCy's own tokens on every chunk it decides (and declines the rest)."""

from __future__ import annotations

import gzip
import itertools
import json
import random
from pathlib import Path

import pytest
import spacy

from pipeline.filters.simple_chunks import (
    POSSESSIVES,
    UNCONDITIONAL_PREFIXES,
    UNCONDITIONAL_SUFFIXES,
    SimpleEnglishChunks,
)

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


@pytest.fixture(scope="module")
def reference():
    return spacy.blank("en").tokenizer  # what datatrove's English word tokenizer runs


@pytest.fixture(scope="module")
def shortcut(reference):
    simple = SimpleEnglishChunks.for_language("en", reference)
    assert simple is not None
    return simple


def _check(shortcut, reference, chunks) -> int:
    """Every decided chunk equals spaCy; returns how many were decided."""
    decided = 0
    for chunk in chunks:
        tokens = shortcut.tokens(chunk)
        if tokens is None:
            continue
        decided += 1
        assert tokens == tuple(t.text for t in reference(chunk)), chunk
    return decided


def _web_chunks() -> set[str]:
    chunks: set[str] = set()
    for path in sorted((SHARED / "web").rglob("*.jsonl*")) + sorted((SHARED / "multilingual").rglob("*.jsonl*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as f:
            for line in f:
                text = json.loads(line).get("text")
                if isinstance(text, str):
                    chunks.update(text.split())
    return chunks


def test_every_chunk_of_the_shared_pages(shortcut, reference):
    chunks = _web_chunks()
    assert len(chunks) > 100_000
    decided = _check(shortcut, reference, sorted(chunks))
    assert decided > 0.5 * len(chunks)  # the shortcut must be worth having on real pages


def test_special_cases_with_every_affix(shortcut, reference):
    keys = list(reference.rules)
    variants = set()
    for key in keys:
        for word in (key, key.lower(), key.upper(), key.capitalize(), key.rstrip(".")):
            if not word:
                continue
            variants.add(word)
            variants.update(word + s for s in [*UNCONDITIONAL_SUFFIXES, "."])
            variants.update(p + word for p in UNCONDITIONAL_PREFIXES)
    _check(shortcut, reference, sorted(variants))
    for key in keys:
        assert shortcut.tokens(key) is None


def test_generated_words_of_every_letter_class(shortcut, reference):
    letters = [chr(c) for c in range(0x20, 0x250) if chr(c).isalpha()] + list("0123456789")
    rng = random.Random(7)
    words = set(letters)
    words.update("".join(pair) for pair in itertools.product(letters[:60], repeat=2))
    words.update("".join(rng.choice(letters) for _ in range(rng.randint(1, 6))) for _ in range(20_000))
    chunks = set(words)
    for word in words:
        chunks.update(word + s for s in [*UNCONDITIONAL_SUFFIXES, "."])
        chunks.update(p + word for p in UNCONDITIONAL_PREFIXES)
    assert _check(shortcut, reference, sorted(chunks)) > 40_000  # (mixed letters and digits are declined)


def test_declines_other_languages_and_shapes(reference, shortcut):
    assert SimpleEnglishChunks.for_language("de", spacy.blank("de").tokenizer) is None
    declined = ["A.", "aB.", "dont", "dont,", "(dont", "e.g.", "it's", "http://a.b", "", ".", "rock'n'roll", "a--b"]
    declined += [
        "word:)",
        "(:",
        "8)",
        "x-",
        "-x",
        "COVID-19",
        "A-B.",
        "(Dr.)",
        '"dont".',
        "word...",
        "(",
        '""',
        "'word",
        "word'",
    ]
    for chunk in declined:
        assert shortcut.tokens(chunk) is None, chunk


def test_stacked_affixes_and_hyphenated_words(shortcut, reference):
    """Every combination of up to two prefixes, a period and up to three suffixes around words, numbers, special
    cases and hyphenated words (spaCy strips one affix at a time and looks each remainder up among its special
    cases, then merges runs of tokens that spell one, as in emoticons)."""
    cores = ["word", "Word", "WORD", "I", "a", "2019", "naïve", "Dr", "dont", "e", "well-known", "X-RAY", "A-B"]
    cores += ["e-mail", "a-b-c", "Mr", "Inc", "co", "p", "o", "D", "P", "x", "ll", "s", "t", "non-URL"]
    alpha_specials = sorted(k for k in reference.rules if k.isalpha())
    cores += sorted(k for k in reference.rules if k.replace("-", "").isalpha())[:300]
    cores += [f"{k}-word" for k in alpha_specials[::3]] + [f"word-{k}" for k in alpha_specials[1::3]]
    prefixes = ["", *UNCONDITIONAL_PREFIXES]
    prefixes += [a + b for a in UNCONDITIONAL_PREFIXES for b in UNCONDITIONAL_PREFIXES]
    suffixes = ["", *UNCONDITIONAL_SUFFIXES]
    suffixes += [a + b for a in UNCONDITIONAL_SUFFIXES for b in UNCONDITIONAL_SUFFIXES]
    rng = random.Random(11)
    marks = [*sorted(UNCONDITIONAL_SUFFIXES), ".", "."]
    stacked = ["".join(rng.choice(marks) for _ in range(rng.randint(2, 4))) for _ in range(60)]
    stacked += [p + s for p in sorted(POSSESSIVES) for s in ["", ".", ",", ")", '".', ".)"]] + ["'", "'t", "’", "s'"]
    chunks = set()
    for core in cores:
        for prefix in prefixes:
            for period in ("", "."):
                for suffix in suffixes + stacked:
                    if rng.random() < 0.35 or not prefix or not suffix:
                        chunks.add(prefix + core + period + suffix)
    assert _check(shortcut, reference, sorted(chunks)) > 10_000


def test_cached_facts_of_decided_chunks_equal_the_general_ones():
    from pipeline.filters.chunk_info import chunk_info as _chunk_info
    from pipeline.filters.word_analysis import chunk_tokenizer, clear_caches

    clear_caches()
    tokenizer = chunk_tokenizer("en")
    chunks = ["word", "Word.", "I", "a", "2019", "2019.", "naïve,", "(café", '"Hello', "end!", "why?", "x)", "ok:"]
    # a word and one suffix (cut without ``SimpleEnglishChunks.tokens``), next to special cases and periods that
    # spaCy keeps: "Dr." "A." "aB." "D)" "8)"
    words = ["Dr", "dont", "Inc", "co", "e", "A", "AB", "aB", "D", "8", "x", "ll", "s", "2019", "word", "WORD"]
    chunks += [w + s for w in words for s in [*UNCONDITIONAL_SUFFIXES, "."]]
    chunks += sorted(_web_chunks())[::50]
    chunks = list(dict.fromkeys(chunks))
    infos = tokenizer.chunk_infos(chunks)
    decided = 0
    for chunk, info in zip(chunks, infos, strict=True):
        decided += tokenizer._simple.tokens(chunk) is not None
        assert info == _chunk_info(info.tokens, tokenizer._kinds(info.tokens)), chunk
        assert info.tokens == tokenizer._tokenize_chunks([chunk])[0], chunk  # spaCy's own tokens
    assert decided > len(chunks) // 2


def test_word_analysis_from_joined_chunks_equals_the_word_list():
    """``WordAnalysis`` builds no word list for English: its space-joined words, word count and stop-word lookups
    (from each chunk's joined tokens) equal those of the word list itself, on every shared web page."""
    from pipeline.filters.word_analysis import WordAnalysis

    vocabulary = ["the", "of", "and", "to", "", " ", "of the", "the ", "\u00a0the", "THE", "don't", "n't", ".", ","]
    texts = []
    for path in sorted((SHARED / "web").rglob("*.jsonl*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as f:
            texts += [t for t in (json.loads(line).get("text") for line in f) if isinstance(t, str)]
    texts += ["", "   ", "one", "a  b\n\nc", "x \u00a0 y\u2003z", "Don't stop. The end."]
    assert len(texts) > 1000
    for text in texts:
        fast, listed = WordAnalysis(text, "en"), WordAnalysis(text, "en")
        words = listed.words  # the list first: the other one answers from the joined chunks alone
        assert fast.spaced == " ".join(words), text[:80]
        assert fast.n_words == len(words), text[:80]
        assert fast.count_present(vocabulary) == listed.count_present(vocabulary), text[:80]
        assert "words" not in fast.__dict__
