"""Text normalisation for fastText quality models: the one function used both to train and to score.

A fastText model only sees whitespace tokens, and it scores best on text prepared exactly as its training text
was. So the scheme is part of the model: it is written in the model card at training time and read back at
scoring time, and both sides call :func:`normalize`.

Schemes:

* ``dclm``: DCLM's own preparation (``" ".join(text.strip().splitlines())``), to score with DCLM's published
  ``openhermes_reddit_eli5_vs_rw`` model or any model trained the DCLM way. Case and punctuation are kept.
* ``curate``: lower-cased, ASCII punctuation split off as words of its own, each line break kept as the token
  ``__nl__`` (so bigrams see line structure: menus, link lists and cookie banners are runs of short lines), and
  only ``max_chars`` characters read as words (the first half and a slice from the middle of a longer
  document). Reading a bounded sample bounds the cost of scoring one document, which is what makes corpus-scale
  scoring fast. The document's shape (length, line ends, capitals) is left to the model's signal head
  (:mod:`classifiers.signal_head`), which weighs it far better than words could carry it.
* ``curate-layout``: ``curate`` plus a few *layout tokens* from cheap counts (length, lines, characters per line,
  share of lines that end like a sentence: the signals of the C4 and Gopher heuristic filters), for a model
  trained without a signal head: the tokens let fastText alone use some of those signals.

Cross-validated on human judgements both beat DCLM's preparation clearly (see ``bench/RESULTS.md``).
"""

from __future__ import annotations

import re

SCHEMES = ("curate", "curate-layout", "dclm")
DEFAULT_SCHEME = "curate"
DEFAULT_MAX_CHARS = 800
LAYOUT_WINDOW = 2000  # characters the layout tokens look at

_SENTENCE_ENDS = (".\n", "!\n", "?\n")
_FINAL_ENDS = (".", "!", "?", '"', "”")
_ASCII_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")


def split_punctuation(text: str) -> str:
    """``"end.|x"`` -> ``"end .  | x"``: every ASCII punctuation character surrounded by spaces.

    Splitting on the captured character and joining with spaces gives exactly ``re.sub(r"([...])", r" \1 ")``,
    several times faster (CPython expands a substitution template in Python code, per match).
    """
    return " ".join(_ASCII_PUNCT.split(text))


def layout_tokens(text: str) -> list[str]:
    """Bucketed layout signals as tokens: ``__c`` the document's length, then over its first ``LAYOUT_WINDOW``
    characters ``__l`` the number of lines, ``__cpl`` characters per line and ``__ep`` the share of lines that
    end like a sentence (in fifths): the signals of the C4 and Gopher heuristic filters.

    The length is free (``len``); the rest are C-speed ``str.count`` scans of a bounded window, so the cost of a
    document is bounded however long it is. Buckets are powers of two (``int.bit_length``): coarse enough to be
    seen often in a small training set.
    """
    # str.count with bounds scans the window in place (slicing it would copy up to LAYOUT_WINDOW characters)
    end = min(len(text), LAYOUT_WINDOW)
    n_lines = text.count("\n", 0, end) + 1
    last = end - 1
    while last >= 0 and text[last].isspace():
        last -= 1
    ends = sum(text.count(p, 0, end) for p in _SENTENCE_ENDS) + (last >= 0 and text[last] in _FINAL_ENDS)
    return [
        f"__c{len(text).bit_length()}",
        f"__l{min(n_lines, 64).bit_length()}",
        f"__cpl{(end // n_lines).bit_length()}",
        f"__ep{min(5, 5 * ends // n_lines)}",
    ]


def _sample(text: str, max_chars: int | None) -> str:
    """The text read as words: all of it, or for a longer document its first ``max_chars / 2`` characters and
    ``max_chars / 2`` from its middle. The head alone is often navigation and titles on good and bad pages alike;
    the middle shows the body, and the cost stays that of ``max_chars`` characters."""
    if max_chars is None or len(text) <= max_chars:
        return text
    half = max_chars // 2
    mid = max(half, (len(text) - half) // 2)
    return text[:half] + "\n" + text[mid : mid + half]


def normalize(text: str, scheme: str = DEFAULT_SCHEME, max_chars: int | None = DEFAULT_MAX_CHARS) -> str:
    """The single line a fastText model is trained on or scores, for ``text`` under ``scheme``.

    The result never contains a line break (fastText reads one example per line). Empty or whitespace-only
    text gives ``""`` (or layout tokens only, under ``curate-layout``).
    """
    if scheme == "dclm":
        head = text if max_chars is None else text[:max_chars]
        return " ".join(head.strip().splitlines())
    if scheme not in ("curate", "curate-layout"):
        raise ValueError(f"unknown normalisation scheme {scheme!r} (known: {', '.join(SCHEMES)})")
    text = text.strip()
    words = _sample(text, max_chars)
    # splitlines() also cuts at \r, \v, \f and the Unicode line separators: fastText must see none of them, and a
    # line break is the one piece of layout worth a word, so each run of them becomes one token __nl__.
    # Punctuation becomes words of its own ("end." -> "end ."): fastText splits on whitespace only, and "|", "»",
    # "..." or "©" are signals of boilerplate that would otherwise hide inside rare glued tokens.
    words = " __nl__ ".join(filter(str.strip, split_punctuation(words.lower()).splitlines()))
    if scheme == "curate":
        return words
    # the layout tokens go three times: repeated, they weigh like a few words in a document of hundreds, and with
    # word bigrams they also pair with each other
    tokens = " ".join(layout_tokens(text))
    return f"{words} {tokens} {tokens} {tokens}"
