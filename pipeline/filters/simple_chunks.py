"""spaCy's English tokens of the commonest chunk shapes, decided without running spaCy.

Most whitespace-free chunks of English web text are a plain word, a number, or a word with one punctuation mark
stuck to it ("word,", "word.", "(word"). For those shapes the tokens follow from spaCy's rules alone, so
``ChunkTokenizer`` need not pay spaCy's affix loop (about 20 us per new chunk, most of the filters' time on a
crawl, where most chunks are new):

* letters only (ASCII and Latin-1/Latin Extended-A letters) or ASCII digits only (a "word" below): no English prefix, suffix or
  infix rule matches a string without punctuation, symbols or hyphens, and the URL pattern needs a dot, so the
  chunk is one token;
* such a word followed by one of ``, : ; ! ? )``: these are suffixes with no condition (``LIST_PUNCT``), so the
  tokens are the word and the mark;
* followed by ``.``: a suffix only after a digit, a lowercase letter or two uppercase letters (``(?<=[0-9{al}...])\\.``,
  ``(?<=[{au}][{au}])\\.``); other words ending in ``.`` ("A.", "aB.") go to spaCy;
* preceded by ``(`` or ``"``: prefixes with no condition.

A chunk that is, or whose word part is, one of spaCy's special cases ("dont", "Dr.", "co.") always goes to spaCy,
since spaCy looks a special case up before and after each affix it strips. Any other shape also goes to spaCy.
This applies to English only (``SimpleEnglishChunks.for_language``): other languages have other affix rules.
``tests/test_simple_chunks.py`` checks every decision against spaCy itself on every chunk of the shared web pages,
on every special case with each affix, and on generated words of every letter class.
"""

from __future__ import annotations

import re

# letters spaCy's English rules treat like ASCII letters: no affix or infix rule mentions them on their own
_WORD = re.compile(r"[A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u017F]+")
_ASCII_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_ASCII_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = frozenset("0123456789")
_LATIN_LOWER = frozenset(chr(c) for c in range(0xDF, 0x100) if chr(c).islower()) | frozenset(
    chr(c) for c in range(0x100, 0x180) if chr(c).islower()
)
UNCONDITIONAL_SUFFIXES = frozenset(",:;!?)")
UNCONDITIONAL_PREFIXES = frozenset('("')


class SimpleEnglishChunks:
    """Tokens of simple English chunks, or None where spaCy must decide."""

    def __init__(self, special_cases: dict):
        self._specials = frozenset(special_cases)

    @classmethod
    def for_language(cls, language: str, tokenizer) -> SimpleEnglishChunks | None:
        """The shortcut for spaCy's English tokenizer; None for any other language or a changed tokenizer."""
        if language != "en" or tokenizer.token_match is not None:
            return None
        return cls(tokenizer.rules)

    @staticmethod
    def _is_word_or_number(text: str) -> bool:
        """Letters only (of the classes above), or ASCII digits only."""
        if text.isascii():
            return text.isalpha() or text.isdigit()
        return _WORD.fullmatch(text) is not None

    def tokens(self, chunk: str) -> tuple[str, ...] | None:
        specials = self._specials
        if chunk in specials:
            return None
        if self._is_word_or_number(chunk):
            return (chunk,)
        if len(chunk) < 2:
            return None
        last = chunk[-1]
        if last in UNCONDITIONAL_SUFFIXES or last == ".":
            word = chunk[:-1]
            if word in specials or not self._is_word_or_number(word):
                return None
            if last == "." and not self._splits_period(word):
                return None
            return (word, last)
        first = chunk[0]
        if first in UNCONDITIONAL_PREFIXES:
            word = chunk[1:]
            if word in specials or not self._is_word_or_number(word):
                return None
            return (first, word)
        return None

    @staticmethod
    def _splits_period(word: str) -> bool:
        """Whether spaCy's English suffix rules cut a final ``.`` off ``word`` (letters or digits)."""
        last = word[-1]
        if last in _ASCII_LOWER or last in _LATIN_LOWER or last in _DIGITS:
            return True
        return len(word) >= 2 and last in _ASCII_UPPER and word[-2] in _ASCII_UPPER
