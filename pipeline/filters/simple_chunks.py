"""spaCy's English tokens of the commonest chunk shapes, decided without running spaCy.

Most whitespace-free chunks of English web text are a word with some punctuation stuck to it (``word,``,
``(word).``, ``"word,"``, ``well-known``, ``Canada's``). For those shapes the tokens follow from spaCy's English
rules alone, so ``ChunkTokenizer`` need not pay spaCy's affix loop (10-20 us per new chunk, most of the filters'
time on a crawl, where most chunks are new). A chunk is decided here when it is

* prefixes ``( [ { "`` or the opening double quote, any number, each one token (prefixes with no condition);
* a core: letters only (ASCII and Latin-1/Latin Extended-A letters) or ASCII digits only, one token (no English
  prefix, suffix or infix rule matches it, and the URL pattern needs a dot); or ASCII letter runs joined by single
  hyphens, cut at each hyphen (the infix rule ``(?<=[{a}0-9])-(?=[{a}])``) unless the URL pattern takes it;
* then, innermost first, an optional possessive ``'s`` / ``'S`` (also with the typographic apostrophe), then any
  number of suffixes: ``, : ; ! ? ) ] } "``, the closing double quote (suffixes with no condition) and ``.``, which
  spaCy cuts only after a digit, a lowercase letter, two capitals or one of those suffixes (``(?<=[0-9{al}{p}
  (?:{q})])\\.``, ``(?<=[{au}][{au}])\\.``); ``A.``, ``aB.`` and ``..`` go to spaCy.

spaCy looks up a special case ("dont", "Dr.", "co.") before it strips each affix, and at the end merges runs of
tokens that spell one its rules would cut (the emoticon ``":)"``): a chunk on whose way spaCy would meet one goes
to spaCy (``_touches_special``). Any other shape also goes to spaCy. This applies to English only
(``SimpleEnglishChunks.for_language``): other languages have other affix rules. ``tests/test_simple_chunks.py``
checks every decision against spaCy itself on every chunk of the shared web pages, on every special case with each
affix, on stacked affixes around words, special cases and hyphenated words, and on generated words of every
letter class.
"""

from __future__ import annotations

import re

from spacy.attrs import ORTH

# letters spaCy's English rules treat like ASCII letters: no affix or infix rule mentions them on their own
_WORD = re.compile(r"[A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u017F]+")
_ASCII_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_ASCII_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = frozenset("0123456789")
_LATIN_LOWER = frozenset(chr(c) for c in range(0xDF, 0x100) if chr(c).islower()) | frozenset(
    chr(c) for c in range(0x100, 0x180) if chr(c).islower()
)
_HYPHENATED = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)+")
UNCONDITIONAL_SUFFIXES = frozenset(',:;!?)]}"\u201d')  # , : ; ! ? ) ] } " and the closing double quote
UNCONDITIONAL_PREFIXES = frozenset('([{"\u201c')  # ( [ { " and the opening double quote
POSSESSIVES = frozenset(["'s", "'S", "\u2019s", "\u2019S"])  # spaCy's English suffixes 's and \u2019s, either case


class SimpleEnglishChunks:
    """Tokens of simple English chunks, or None where spaCy must decide."""

    def __init__(self, special_cases: dict, url_match=None):
        self.specials = frozenset(special_cases)
        # the special cases spaCy's affix or infix rules would cut, which it merges back (as their own tokens)
        # when their pieces come out as consecutive tokens: only those can hold a character that is not a letter
        # or a digit. A run already cut as the special case cuts itself ("'s" is one) changes nothing.
        self._cut_specials = {
            key: tuple(token[ORTH] for token in tokens) for key, tokens in special_cases.items() if not key.isalnum()
        }
        self._url_match = url_match

    @classmethod
    def for_language(cls, language: str, tokenizer) -> SimpleEnglishChunks | None:
        """The shortcut for spaCy's English tokenizer; None for any other language or a changed tokenizer."""
        if language != "en" or tokenizer.token_match is not None:
            return None
        return cls(tokenizer.rules, tokenizer.url_match)

    @staticmethod
    def _is_word_or_number(text: str) -> bool:
        """Letters only (of the classes above), or ASCII digits only."""
        if text.isascii():
            return text.isalpha() or text.isdigit()
        return _WORD.fullmatch(text) is not None

    def tokens(self, chunk: str) -> tuple[str, ...] | None:
        if chunk in self.specials:
            return None
        if self._is_word_or_number(chunk):
            return (chunk,)
        end = len(chunk)
        start = 0
        while start < end and chunk[start] in UNCONDITIONAL_PREFIXES:
            start += 1
        stop = end
        suffixes: list[str] = []  # innermost last
        while stop > start + 1:
            last = chunk[stop - 1]
            if last in UNCONDITIONAL_SUFFIXES:
                suffixes.append(last)
                stop -= 1
            elif last == ".":
                if not self.cuts_period(chunk, stop - 1):
                    return None
                suffixes.append(last)
                stop -= 1
            elif chunk[stop - 2 : stop] in POSSESSIVES and stop - 2 > start:
                suffixes.append(chunk[stop - 2 : stop])
                stop -= 2
                break
            else:
                break
        core = chunk[start:stop]
        if self._is_word_or_number(core):
            words: tuple[str, ...] = (core,)
        elif _HYPHENATED.fullmatch(core) is not None:
            if self._url_match is not None and self._url_match(core):
                return None
            words = tuple(_with_hyphens(core.split("-")))
        else:
            return None
        tokens = (*chunk[:start], *words, *reversed(suffixes))
        return None if self._touches_special(tokens, start, start + len(words)) else tokens

    def single_suffixes(self) -> frozenset[str]:
        """The suffixes ``tokens`` cuts off a word on their own (a ``.`` only where ``cuts_period``), less any that
        is a special case: then ``word + suffix`` gives ``(word, suffix)`` unless the word or the chunk is one."""
        return frozenset(
            s for s in (*UNCONDITIONAL_SUFFIXES, ".") if s not in self.specials and s not in self._cut_specials
        )

    @staticmethod
    def cuts_period(chunk: str, at: int) -> bool:
        """Whether spaCy's English suffix rules cut the ``.`` at ``chunk[at]`` (the end, once later suffixes are off):
        after a digit, a lowercase letter, two capitals, or one of the unconditional suffixes (a quote, a bracket,
        ``, : ; ! ?``); never after another ``.`` (an ellipsis is one token)."""
        before = chunk[at - 1]
        if before in _ASCII_LOWER or before in _LATIN_LOWER or before in _DIGITS or before in UNCONDITIONAL_SUFFIXES:
            return True
        return at >= 2 and before in _ASCII_UPPER and chunk[at - 2] in _ASCII_UPPER

    def _touches_special(self, tokens: tuple[str, ...], core_start: int, core_stop: int) -> bool:
        """Whether spaCy would meet a special case on the way to these tokens (then it decides the chunk).

        spaCy looks up every string left as it strips affixes one at a time: each is a run of consecutive tokens
        that holds the whole core (the word, or the hyphenated word, ``tokens[core_start:core_stop]``). At the
        end it merges any run of tokens that spells a special case its rules would cut (``":" ")"`` is the
        emoticon ``":)"``).
        """
        specials, cut_specials = self.specials, self._cut_specials
        for first in range(len(tokens)):
            text = ""
            for last in range(first, len(tokens)):
                text += tokens[last]
                if first <= core_start and last >= core_stop - 1:
                    if text in specials:
                        return True
                elif text in cut_specials and cut_specials[text] != tokens[first : last + 1]:
                    return True
        return False


def _with_hyphens(parts: list[str]):
    """``["well", "known"]`` -> ``well - known``: spaCy's infix rule cuts a hyphen between two letters."""
    yield parts[0]
    for part in parts[1:]:
        yield "-"
        yield part
