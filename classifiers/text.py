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

_SENTENCE_ENDS = (".\n", "!\n", "?\n", '"\n', ".”\n")


def layout_tokens(text: str) -> list[str]:
    """Bucketed layout signals of a stripped text, as tokens: ``__c`` length, ``__l`` lines, ``__cpl`` characters
    per line, ``__ep`` share of lines ending with sentence punctuation (in fifths).

    Each count is a C-speed ``len``/``str.count`` scan, so the tokens cost a few microseconds even on long pages.
    Buckets are powers of two (``int.bit_length``), coarse enough to be seen often in small training sets.
    """
    n_chars = len(text)
    n_lines = text.count("\n") + 1
    ends = sum(text.count(p) for p in _SENTENCE_ENDS) + (text[-1:] in '.!?"”')
    return [
        f"__c{n_chars.bit_length()}",
        f"__l{min(n_lines, 1 << 12).bit_length()}",
        f"__cpl{(n_chars // n_lines).bit_length()}",
        f"__ep{min(5, 5 * ends // n_lines)}",
    ]


def normalize(text: str, scheme: str = DEFAULT_SCHEME, max_chars: int | None = DEFAULT_MAX_CHARS) -> str:
    """The single line a fastText model is trained on or scores, for ``text`` under ``scheme``.

    The result never contains a line break (fastText reads one example per line) and is never empty for a
    non-empty scheme output; empty or whitespace-only text gives ``""`` (``dclm``) or layout tokens only.
    """
    if scheme == "dclm":
        head = text if max_chars is None else text[:max_chars]
        return " ".join(head.strip().splitlines())
    if scheme != "curate":
        raise ValueError(f"unknown normalisation scheme {scheme!r} (known: {', '.join(SCHEMES)})")
    text = text.strip()
    head = text if max_chars is None else text[:max_chars]
    # splitlines() would also cut at \r, \x0b, \x1c.. and the Unicode separators: fastText must see none of them
    # and a line break is the only layout worth a token, so everything else becomes a plain space.
    head = " __nl__ ".join(head.lower().splitlines())
    tokens = layout_tokens(text)
    # the layout tokens go three times: with word bigrams each one also forms pairs with its neighbours, and
    # repeating them gives them the weight of a few words in a document of hundreds
    return f"{head} {' '.join(tokens)} {' '.join(tokens)} {' '.join(tokens)}"
