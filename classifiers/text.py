"""Text normalisation for fastText quality models: the one function used both to train and to score.

A fastText model only sees whitespace tokens, and it scores best on text prepared exactly as its training text
was. So the scheme is part of the model: it is written in the model card at training time and read back at
scoring time, and both sides call :func:`normalize`.

Schemes:

* ``dclm``: DCLM's own preparation (``" ".join(text.strip().splitlines())``), to score with DCLM's published
  ``openhermes_reddit_eli5_vs_rw`` model or any model trained the DCLM way. Case and punctuation are kept.
* ``curate``: lower-cased, each line break kept as the token ``__nl__`` (so bigrams see line structure: menus,
  lists of links and cookie banners are runs of short lines), only the first ``max_chars`` characters as words,
  and a few *layout tokens* computed cheaply on the whole document (length, number of lines, characters per
  line, share of lines that end like a sentence: the signals of the C4 and Gopher heuristic filters). The
  layout tokens let a small linear model use those signals without a second model, and reading only the head of
  long documents bounds the cost of scoring one document, which is what makes corpus-scale scoring fast.
"""

from __future__ import annotations

SCHEMES = ("curate", "dclm")
DEFAULT_SCHEME = "curate"
DEFAULT_MAX_CHARS = 1000

_SENTENCE_ENDS = (".\n", "!\n", "?\n", '"\n', "”\n")
_FINAL_ENDS = (".", "!", "?", '"', "”")


def layout_tokens(total_chars: int, head: str) -> list[str]:
    """Bucketed layout signals as tokens: ``__c`` the document's length, then from the head ``__l`` lines,
    ``__cpl`` characters per line and ``__ep`` the share of lines ending like a sentence (in fifths).

    Only the length covers the whole document (``len`` is free); the rest is counted on the head, so the cost
    of a document is bounded however long it is. Buckets are powers of two (``int.bit_length``): coarse enough
    to be seen often in a small training set.
    """
    n_lines = head.count("\n") + 1
    ends = sum(head.count(p) for p in _SENTENCE_ENDS) + (head[-1:] in _FINAL_ENDS)
    return [
        f"__c{total_chars.bit_length()}",
        f"__l{n_lines.bit_length()}",
        f"__cpl{(len(head) // n_lines).bit_length()}",
        f"__ep{min(5, 5 * ends // n_lines)}",
    ]


def normalize(text: str, scheme: str = DEFAULT_SCHEME, max_chars: int | None = DEFAULT_MAX_CHARS) -> str:
    """The single line a fastText model is trained on or scores, for ``text`` under ``scheme``.

    The result never contains a line break (fastText reads one example per line). Empty or whitespace-only
    text gives ``""`` (``dclm``) or layout tokens only (``curate``).
    """
    if scheme == "dclm":
        head = text if max_chars is None else text[:max_chars]
        return " ".join(head.strip().splitlines())
    if scheme != "curate":
        raise ValueError(f"unknown normalisation scheme {scheme!r} (known: {', '.join(SCHEMES)})")
    head = (text if max_chars is None else text[:max_chars]).strip()
    tokens = " ".join(layout_tokens(len(text), head))
    # splitlines() also cuts at \r, \v, \f and the Unicode line separators: fastText must see none of them, and a
    # line break is the one piece of layout worth a word, so each becomes the token __nl__
    words = " __nl__ ".join(head.lower().splitlines())
    # the layout tokens go three times: repeated, they weigh like a few words in a document of hundreds, and with
    # word bigrams they also pair with each other
    return f"{words} {tokens} {tokens} {tokens}"
