"""Cheap document signals that a quality model's signal head weighs beside the fastText score.

A fastText model reads words; what it sees poorly is the *shape* of a document: how long it is, whether its lines
end like sentences, how long its words are, how much of it is shouted in capitals, how often the commonest
English function words occur. Those are the signals the C4, Gopher and RedPajama-V2 heuristics threshold, and on
human quality judgements they add to the text model what it cannot learn from a few hundred examples (see
``bench/RESULTS.md``, "Quality classifier").

Every signal but the length is counted over the first ``WINDOW`` characters, with C-speed ``bytes`` scans
(``count``, ``translate``), so a document costs the same few microseconds however long it is: the classifier
must score tens of thousands of documents per second per core.
"""

from __future__ import annotations

import math

SIGNAL_NAMES = ("log_chars", "sentence_end_share", "mean_word_length", "uppercase_share", "function_word_share")
WINDOW = 2000  # characters the counted signals look at

_UPPER = bytes(range(ord("A"), ord("Z") + 1))
_ENDS_TO_DOT = bytes.maketrans(b"!?", b"..")  # ".\n", "!\n" and "?\n" all become ".\n": one count, not three
_FINAL_ENDS = (".", "!", "?", '"', "\u201d")
# the two commonest English words (Gopher's stop-word rule asks for two of its eight), counted between spaces;
# counting "of" and "to" as well cost two more scans and did not help (bench/RESULTS.md)
_FUNCTION_WORDS = (b" the ", b" and ")


def document_signals(text: str) -> tuple[float, ...]:
    """The signals named by :data:`SIGNAL_NAMES`, in that order, for one document.

    * ``log_chars``: ``log(1 + characters)`` of the stripped document (its whole length: free).
    * ``sentence_end_share``: share of lines ending in ``.``, ``!`` or ``?`` (the last line also in a quote mark),
      capped at 1 (C4's and Gopher's line rules).
    * ``mean_word_length``: bytes other than spaces and line breaks, per space- or line-separated word (Gopher's
      word-length rule).
    * ``uppercase_share``: share of bytes that are ASCII capitals (menus, headlines and spam shout).
    * ``function_word_share``: occurrences of " the " and " and " (any case) per word: running English prose
      has many, lists of links and product grids few (Gopher's stop-word rule).

    All but the first over the first :data:`WINDOW` characters, counted on UTF-8 bytes; an empty document gives
    zeros for the shares.
    """
    text = text.strip()
    head = text[:WINDOW]
    raw = head.encode("utf-8", "surrogatepass")
    n_bytes = len(raw)
    if not n_bytes:
        return (0.0, 0.0, 0.0, 0.0, 0.0)
    n_lines = raw.count(b"\n") + 1
    # spaces and line breaks separate words (single-byte counts are the fastest scan there is; tabs and runs of
    # spaces are rare enough in extracted web text not to matter for a ratio)
    gaps = raw.count(b" ") + n_lines - 1
    non_space = n_bytes - gaps
    n_words = gaps + 1
    ends = raw.translate(_ENDS_TO_DOT).count(b".\n") + (head[-1] in _FINAL_ENDS)
    lower = raw.lower()
    function_words = sum(lower.count(w) for w in _FUNCTION_WORDS)
    return (
        math.log1p(len(text)),
        min(1.0, ends / n_lines),
        non_space / n_words,
        (n_bytes - len(raw.translate(None, _UPPER))) / n_bytes,
        function_words / n_words,
    )
