"""Word tokenization shared by the heuristic filters, identical to datatrove's and much cheaper.

datatrove's Gopher, C4 and FineWeb filters call ``datatrove.utils.text.split_into_words``, which runs a blank spaCy
pipeline (tokenizer + sentencizer) over the whole document inside a ``memory_zone`` every time the text changes.
Almost all of the time goes to spaCy building lexemes it throws away at the end of the zone.

spaCy's tokenizer cuts the text at whitespace (``str.isspace``, the same test as ``str.split()``) and tokenizes
each non-whitespace chunk on its own (that is what its own chunk cache relies on); whitespace chunks give
whitespace tokens, which datatrove's ``strip_strings`` removes. So the word list of a text is the concatenation of
the spaCy tokens of its ``text.split()`` chunks. (spaCy's last pass re-applies special cases to token sequences; a
sequence spanning two chunks has a space in its text, and the only rules with whitespace are the one-token
whitespace rules, so that pass cannot act across chunks.) This module keeps a bounded process-wide cache from chunk to its
tokens (and the per-token facts the filters need), so a word seen before costs one dict lookup, and a document's
analysis is cached by text so the chained filters share it. ``tests/test_filters_parity_gopher.py`` proves the
word lists equal datatrove's on every real document and on adversarial strings. For English, a new chunk of a
common shape (a plain word, a number, a word with one punctuation mark) gets spaCy's tokens from
``simple_chunks`` without running spaCy: about 70% of the distinct chunks of real pages.

Chinese (jieba), Japanese (SudachiPy) and the languages datatrove gives its whitespace tokenizer get equal word
lists from ``segmenters`` without spaCy's Doc. Other languages whose datatrove tokenizer is not a plain spaCy
pipeline (Vietnamese, stanza, Thai, Indic, ...) fall back to datatrove's own ``split_into_words``: still shared
between filters, just not faster.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Iterable
from functools import cached_property, lru_cache

from datatrove.utils.text import split_into_sentences, split_into_words
from datatrove.utils.word_tokenizers import SpaCyTokenizer, load_word_tokenizer
from spacy.attrs import IDX, IS_PUNCT, LENGTH
from spacy.pipeline import Sentencizer
from spacy.tokenizer import Tokenizer

from pipeline.filters.chunk_info import (
    JOINED,
    N_ALPHA,
    N_NON_SYMBOL,
    NON_SYMBOL_CHARS,
    TOKENS,
    ChunkInfo,
    chunk_info,
    new_info,
)
from pipeline.filters.segmenters import clear_segmenter_caches, segmenter_for
from pipeline.filters.simple_chunks import SimpleEnglishChunks
from pipeline.filters.spacy_regexes import TailSuffixSearch, equivalent_url_match

CHUNK_CACHE_SIZE = 300_000  # chunks; about 60 MB of strings at worst, cleared when full
_SEGMENTS = re.compile(r"(\S+)|(\s+)")  # \s is str.isspace, the test spaCy splits on


# letters to "a", ASCII digits to "0" (every other character stays): the key of ``_add_simple``'s shared facts
_SHAPE = {c: "a" for c in range(0x250) if chr(c).isalpha()} | {c: "0" for c in range(0x30, 0x3A)}


class NotPlainSpacy(Exception):
    """The language's spaCy tokenizer is not the rule-based one that works chunk by chunk."""


class ChunkTokenizer:
    """spaCy's tokenizer for one language, applied chunk by chunk with a bounded cache."""

    def __init__(self, spacy_tokenizer: SpaCyTokenizer):
        """For datatrove's ``SpaCyTokenizer`` of a language; raises ``NotPlainSpacy`` where its spaCy tokenizer is
        not spaCy's rule-based ``Tokenizer`` (jieba, sudachi, pythainlp, ... pipelines).

        datatrove's own pipeline (``spacy.blank(language)`` plus a default ``sentencizer``) is not built: the
        private pipeline is the same ``spacy.blank``, and the sentencizer's characters are its defaults
        (``tests/test_filters_parity_gopher.py`` checks both against datatrove's pipeline).
        """
        self._language = spacy_tokenizer.language
        self._cache: dict[str, ChunkInfo] = {}
        self._punct_chars = frozenset(Sentencizer.default_punct_chars)
        self._nlp = self._new_pipeline()
        if type(self._nlp.tokenizer) is not Tokenizer:
            raise NotPlainSpacy(self._language)
        self._simple = SimpleEnglishChunks.for_language(self._language, self._nlp.tokenizer)
        self._simple_infos: dict[str, ChunkInfo] = {}  # per chunk shape ("aaaa,", see _add_simple) -> facts
        # per suffix that ``SimpleEnglishChunks`` cuts off a word (none is a special case): the facts of a word and
        # that suffix, less the word's length (a word of ASCII letters or digits is one non-symbol "N" token)
        self._suffixed: dict[str, tuple[int, int, str]] = {}
        if self._simple is not None:
            for suffix in self._simple.single_suffixes():
                info = chunk_info(("0", suffix), self._kinds(("0", suffix)))
                self._suffixed[suffix] = (info.n_non_symbol, info.non_symbol_chars - 1, info.sentence_kinds)

    def _new_pipeline(self):
        """A private ``spacy.blank`` pipeline like datatrove's, built for tokenizing only.

        Its lexemes are kept across documents (no ``memory_zone``), so a known word is never rebuilt, and they
        carry no lexical attributes (the tokenizer never reads them), which makes a new word cheap. The pipeline
        is rebuilt whenever the chunk cache is emptied, which bounds spaCy's vocabulary like the cache.
        """
        import spacy

        nlp = spacy.blank(self._language)
        self._is_punct = nlp.vocab.lex_attr_getters[IS_PUNCT]  # the language's own, before they are dropped
        nlp.vocab.lex_attr_getters = {}
        url_match = equivalent_url_match(nlp.tokenizer.url_match)
        if url_match is not None:
            nlp.tokenizer.url_match = url_match
        suffix_search = TailSuffixSearch.replacing(nlp.tokenizer.suffix_search)
        if suffix_search is not None:
            nlp.tokenizer.suffix_search = suffix_search
        return nlp

    def _kinds(self, tokens: tuple[str, ...]) -> str:
        punct_chars, is_punct = self._punct_chars, self._is_punct
        return "".join("P" if t in punct_chars else ("o" if is_punct(t) else "N") for t in tokens)

    def chunk_infos(self, chunks: list[str]) -> list[ChunkInfo]:
        cache = self._cache
        # Every pass over the chunks runs in C (a crawl's document has thousands): look each one up, and when some
        # are new, pick those out with ``compress`` (an entry is a non-empty tuple, a new chunk None).
        infos = list(map(cache.get, chunks))
        if all(infos):  # a document of known chunks (most of them, once a task has warmed up)
            return infos
        new_at = list(itertools.compress(range(len(chunks)), map(operator.not_, infos)))
        missing = list(dict.fromkeys(map(chunks.__getitem__, new_at)))
        if len(cache) + len(missing) > CHUNK_CACHE_SIZE:
            cache.clear()
            self._nlp = self._new_pipeline()
            missing = list(dict.fromkeys(chunks))
        if self._simple is not None:
            missing = self._add_simple(missing)
        if missing:
            # Every chunk goes through spaCy, however long (minified JSON, base64, emoji or CJK runs): a shortcut
            # would change the words. spaCy's affix loop costs time quadratic in such a run, in datatrove too.
            try:
                tokenized = self._tokenize_chunks(missing)
            except UnicodeEncodeError:  # lone surrogates (broken input): spaCy cannot take them, datatrove crashes
                tokenized = [self._tokenize_or_whole(c) for c in missing]
            for chunk, tokens in zip(missing, tokenized, strict=True):
                cache[chunk] = chunk_info(tokens, self._kinds(tokens))
        # only the new chunks' places are filled in: a second lookup of every chunk cost more (a document's new
        # chunks are a few percent of it)
        for i in new_at:
            infos[i] = cache[chunks[i]]
        return infos

    def _add_simple(self, missing: list[str]) -> list[str]:
        """Cache the chunks whose tokens ``SimpleEnglishChunks`` decides; return the rest, for spaCy."""
        assert self._simple is not None
        decide, specials, cache, shapes = self._simple.tokens, self._simple.specials, self._cache, self._simple_infos
        suffixed, cuts_period = self._suffixed, self._simple.cuts_period
        rest = []
        for chunk in missing:
            if chunk.isascii() and (chunk.isalpha() or chunk.isdigit()) and chunk not in specials:
                # one ASCII word or number, the commonest chunk: one token, no punctuation in it
                cache[chunk] = new_info(((chunk,), 1, len(chunk), 1 if chunk.isalpha() else 0, "N", chunk))
                continue
            last = chunk[-1]
            if last in suffixed and chunk not in specials:
                # the next commonest: an ASCII word or number and one suffix ("word," "end." "2019)"), which
                # ``decide`` cuts in two unless the word or the chunk is a special case (the suffix never is)
                word = chunk[:-1]
                if (
                    word.isascii()
                    and ((alpha := word.isalpha()) or word.isdigit())
                    and word not in specials
                    and (last != "." or cuts_period(chunk, len(word)))
                ):
                    n_non_symbol, non_symbol_chars, kinds = suffixed[last]
                    cache[chunk] = new_info(
                        (
                            (word, last),
                            n_non_symbol,
                            non_symbol_chars + len(word),
                            1 if alpha else 0,
                            kinds,
                            f"{word} {last}",
                        )
                    )
                    continue
            tokens = decide(chunk)
            if tokens is None:
                rest.append(chunk)
                continue
            if len(tokens) == 1:  # one word of letters, or a number: none of its characters is punctuation
                cache[chunk] = new_info((tokens, 1, len(chunk), 1 if chunk.isalpha() else 0, "N", tokens[0]))
                continue
            # The facts depend only on the characters' classes and on where the tokens are cut, and a decided
            # chunk is cut where its punctuation is: chunks equal up to letters and digits share them.
            shape = chunk.translate(_SHAPE)
            info = shapes.get(shape)
            if info is None:
                info = shapes[shape] = chunk_info(tokens, self._kinds(tokens))
            cache[chunk] = new_info((tokens, *info[1:5], " ".join(tokens)))
        return rest

    def count_sentences(self, text: str) -> int:
        """``len(datatrove.utils.text.split_into_sentences(text))``, from the cached tokens.

        datatrove's count is the number of sentences spaCy's sentencizer finds, or 1 when it finds none (empty
        text). The sentencizer starts a sentence at the first token after a sentence-punctuation token that is
        neither punctuation nor sentence punctuation; whitespace tokens count as such tokens. spaCy makes a
        whitespace token of every whitespace run, less the single space right after a word.
        """
        if not text:
            return 1
        infos = iter(self.chunk_infos(text.split()))
        triggers = 0
        seen_period = False
        for match in _SEGMENTS.finditer(text):
            if match.group(1) is not None:
                kinds = next(infos).sentence_kinds
            elif match.start() > 0 and match.group(2) == " ":
                continue  # the space after a word belongs to that word's token
            else:
                kinds = "N"
            for kind in kinds:
                if kind == "N":
                    if seen_period:
                        triggers += 1
                        seen_period = False
                elif kind == "P":
                    seen_period = True
        return 1 + triggers

    def _tokenize_or_whole(self, chunk: str) -> tuple[str, ...]:
        try:
            return self._tokenize_chunks([chunk])[0]
        except UnicodeEncodeError:
            return (chunk,)

    def _tokenize_chunks(self, chunks: list[str]) -> list[tuple[str, ...]]:
        """spaCy's tokens of each chunk, from one tokenizer call over the chunks joined by newlines.

        The newline between two chunks is a whitespace chunk of its own that spaCy turns into a ``"\\n"`` token,
        so no affix rule or special case can reach across it: each chunk is tokenized exactly as if alone.
        """
        joined = "\n".join(chunks)
        spans = self._nlp.tokenizer(joined).to_array([IDX, LENGTH]).tolist()
        out: list[tuple[str, ...]] = []
        current: list[str] = []
        for start, length in spans:
            token = joined[start : start + length]
            if token == "\n":
                out.append(tuple(current))
                current = []
            else:
                current.append(token)
        out.append(tuple(current))
        if len(out) != len(chunks):  # cannot happen with spaCy's whitespace handling; never guess
            raise RuntimeError("chunk tokenization lost its alignment")
        return out


_TOKENIZERS: dict[str, ChunkTokenizer | None] = {}


def chunk_tokenizer(language: str) -> ChunkTokenizer | None:
    """The chunk tokenizer for ``language``, or None where datatrove's tokenizer is not a plain spaCy pipeline."""
    if language not in _TOKENIZERS:
        tokenizer = load_word_tokenizer(language)
        chunked = None
        # only spaCy's rule-based tokenizer works chunk by chunk (not pyvi, pythainlp, jieba, sudachi ones)
        if type(tokenizer) is SpaCyTokenizer and tokenizer.config is None and tokenizer.language != "ja":
            try:
                chunked = ChunkTokenizer(tokenizer)
            except (ImportError, NotPlainSpacy):  # an extra package missing (datatrove's path raises the same way)
                chunked = None
        _TOKENIZERS[language] = chunked
    return _TOKENIZERS[language]


class WordAnalysis:
    """Everything the heuristic filters derive from a document's words, computed once per text."""

    def __init__(self, text: str, language: str):
        self.text = text
        self.language = language
        self._chunks: list[ChunkInfo] | None = None
        self._words: list[str] | None = None
        # spaCy's tokens of whitespace-free chunks: non-empty substrings of them, so none holds whitespace
        self._plain_tokens = False
        fast = chunk_tokenizer(language)
        if fast is not None:
            self._chunks = fast.chunk_infos(text.split())
            self._plain_tokens = True
        elif "IS_ALPHA" not in text:  # datatrove retries such a text without the string: leave that to datatrove
            segmenter = segmenter_for(language, load_word_tokenizer(language))
            if segmenter is None:
                pass
            elif getattr(segmenter, "chunked", True):
                self._chunks = segmenter.chunk_infos(text.split())
            else:
                self._words = segmenter.words(text)

    @cached_property
    def words(self) -> list[str]:
        if self._words is not None:
            return self._words
        if self._chunks is None:
            try:
                return split_into_words(self.text, self.language)
            except UnicodeEncodeError:  # lone surrogates: datatrove raises; read each as U+FFFD
                return split_into_words(_LONE_SURROGATE.sub("\ufffd", self.text), self.language)
        return list(itertools.chain.from_iterable(map(TOKENS, self._chunks)))

    @cached_property
    def spaced(self) -> str:
        """``" ".join(self.words)``; from spaCy's chunks, joined from each chunk's joined tokens (no word list)."""
        if self._plain_tokens and "words" not in self.__dict__:
            return " ".join(map(JOINED, self._chunks))
        return " ".join(self.words)

    @cached_property
    def n_words(self) -> int:
        if self._chunks is None or "words" in self.__dict__:  # the list is there (cached_property): count it
            return len(self.words)
        if self._plain_tokens and "spaced" in self.__dict__:  # no token holds a space: count the separators
            return self.spaced.count(" ") + 1 if self.spaced else 0
        return sum(map(len, map(TOKENS, self._chunks)))

    @cached_property
    def _gopher_counts(self) -> tuple[int, int, int]:
        if self._chunks is None:
            info = chunk_info(tuple(self.words))
            return info.n_non_symbol, info.non_symbol_chars, info.n_alpha
        chunks = self._chunks
        return (
            sum(map(N_NON_SYMBOL, chunks)),
            sum(map(NON_SYMBOL_CHARS, chunks)),
            sum(map(N_ALPHA, chunks)),
        )

    @property
    def n_non_symbol_words(self) -> int:
        return self._gopher_counts[0]

    @property
    def non_symbol_chars(self) -> int:
        return self._gopher_counts[1]

    @property
    def n_alpha_words(self) -> int:
        return self._gopher_counts[2]

    def count_present(self, vocabulary: Iterable[str]) -> int:
        """How many of the given (distinct) words occur in the document.

        With spaCy's chunks and no word list built, a word is looked up as `` word `` in the space-joined words
        with a space at each end: tokens hold no whitespace, so that substring is exactly a whole token (a word
        holding whitespace, or an empty one, is no token).
        """
        if self._plain_tokens and "words" not in self.__dict__:
            padded = f" {self.spaced} "
            return sum(1 for w in vocabulary if w.split() == [w] and f" {w} " in padded)
        present = set(self.words)
        return sum(1 for w in vocabulary if w in present)


@lru_cache(maxsize=8)
def analyze(text: str, language: str) -> WordAnalysis:
    """The (cached) word analysis of ``text``: filters chained on an unchanged text share one analysis."""
    return WordAnalysis(text, language)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def split_sentences(text: str, language: str) -> list[str]:
    """datatrove's ``split_into_sentences(text, language)``, also on text holding lone surrogates.

    spaCy cannot take a lone surrogate (datatrove raises ``UnicodeEncodeError``). Then each one is read as U+FFFD,
    a character of the same length, and the original text is cut where spaCy cuts the stand-in: the pieces still
    cover the text exactly, as datatrove's do.
    """
    try:
        return split_into_sentences(text, language)
    except UnicodeEncodeError:
        stand_in = _LONE_SURROGATE.sub("\ufffd", text)
        pieces, start = [], 0
        for piece in split_into_sentences(stand_in, language):
            pieces.append(text[start : start + len(piece)])
            start += len(piece)
        return pieces


def count_sentences(text: str, language: str) -> int:
    """``len(split_into_sentences(text, language))`` as datatrove computes it, from the cached tokenization."""
    fast = chunk_tokenizer(language)
    if fast is None:
        return len(split_sentences(text, language))
    return fast.count_sentences(text)


def clear_caches() -> None:
    """Forget every cached tokenization (benchmarks use it to start cold)."""
    analyze.cache_clear()
    clear_segmenter_caches()
    for language_tokenizer in _cached_tokenizers():
        language_tokenizer._cache.clear()
        language_tokenizer._nlp = language_tokenizer._new_pipeline()


def _cached_tokenizers() -> list[ChunkTokenizer]:
    return [t for t in _TOKENIZERS.values() if t is not None]
