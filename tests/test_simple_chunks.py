"""The English chunk shortcut gives spaCy's own tokens on every chunk it decides (and declines the rest)."""

from __future__ import annotations

import gzip
import itertools
import json
import random
from pathlib import Path

import pytest
import spacy

from pipeline.filters.simple_chunks import UNCONDITIONAL_PREFIXES, UNCONDITIONAL_SUFFIXES, SimpleEnglishChunks

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
    for chunk in ["A.", "aB.", "dont", "dont,", "(dont", "e.g.", "word's", "(word)", "x-ray", "http://a.b", "", "."]:
        assert shortcut.tokens(chunk) is None, chunk


def test_cached_facts_of_decided_chunks_equal_the_general_ones():
    from pipeline.filters.word_analysis import _chunk_info, chunk_tokenizer, clear_caches

    clear_caches()
    tokenizer = chunk_tokenizer("en")
    chunks = ["word", "Word.", "I", "a", "2019", "2019.", "naïve,", "(café", '"Hello', "end!", "why?", "x)", "ok:"]
    chunks += sorted(_web_chunks())[::50]
    infos = tokenizer.chunk_infos(chunks)
    decided = 0
    for chunk, info in zip(chunks, infos, strict=True):
        decided += tokenizer._simple.tokens(chunk) is not None
        assert info == _chunk_info(info.tokens, tokenizer._kinds(info.tokens)), chunk
    assert decided > len(chunks) // 2
