"""What the heuristic filters keep per whitespace-free chunk of a text: its tokens and the facts Gopher counts.

``word_analysis`` (spaCy's tokens) and ``segmenters`` (jieba's, SudachiPy's, whitespace tokens) cache one
``ChunkInfo`` per distinct chunk; a document's analysis is then sums and joins over its chunks' entries, each one
C-level pass (``operator.itemgetter`` maps), without a Python loop per word.
"""

from __future__ import annotations

import operator
from functools import partial
from typing import NamedTuple

from datatrove.utils.text import PUNCTUATION_SET


class ChunkInfo(NamedTuple):
    """The tokens of one whitespace-free chunk and the per-word facts Gopher's rules count."""

    tokens: tuple[str, ...]
    n_non_symbol: int  # tokens with at least one character outside datatrove's PUNCTUATION_SET
    non_symbol_chars: int  # summed length of those tokens
    n_alpha: int  # tokens with at least one alphabetic character
    sentence_kinds: str = ""  # per token, for spaCy's sentencizer: P sentence punctuation, N other word, o else
    # " ".join(tokens): a document's " ".join(words) is the chunks' joined forms joined by spaces (one C pass,
    # no list of every word); for a one-token chunk it is that token, so it costs no memory
    joined: str = ""


# ``ChunkInfo(...)`` goes through the NamedTuple's Python-level ``__new__``; a crawl's new chunks are built by the
# hundred thousand, so the hot paths build the same object with ``tuple.__new__`` directly (in C)
new_info = partial(tuple.__new__, ChunkInfo)


def chunk_info(tokens: tuple[str, ...], sentence_kinds: str = "") -> ChunkInfo:
    n_non_symbol = non_symbol_chars = n_alpha = 0
    for word in tokens:
        if any(ch not in PUNCTUATION_SET for ch in word):
            n_non_symbol += 1
            non_symbol_chars += len(word)
        if any(ch.isalpha() for ch in word):
            n_alpha += 1
    return new_info((tokens, n_non_symbol, non_symbol_chars, n_alpha, sentence_kinds, " ".join(tokens)))


TOKENS = operator.itemgetter(0)
N_NON_SYMBOL = operator.itemgetter(1)
NON_SYMBOL_CHARS = operator.itemgetter(2)
N_ALPHA = operator.itemgetter(3)
JOINED = operator.itemgetter(5)
