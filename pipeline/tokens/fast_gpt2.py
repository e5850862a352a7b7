"""GPT-2 token counts with OpenAI's ``tiktoken``, built from the shipped ``tokenizer.json`` (no download).

On real web text tiktoken encodes GPT-2 several times faster than Hugging Face ``tokenizers``
(``bench/RESULTS.md``) and stays linear on hostile input (a megabyte without a space). Its ``gpt2`` encoding
normally downloads OpenAI's files; here the same ranks are read from Curate's shipped ``tokenizer.json``: in GPT-2
a token's id *is* its merge rank, and each vocabulary string maps back to bytes through GPT-2's byte-to-unicode
table. ``tests/test_tokens_gpt2.py`` checks that these ranks equal the ones tiktoken builds from OpenAI's own
files, and that the counts equal the ``tokenizers`` ones. Used only when ``tiktoken`` is installed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from bytes to printable characters (from OpenAI's ``encoder.py``)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs), strict=True))


def ranks_from_tokenizer_json(serialized: str) -> dict[bytes, int]:
    data = json.loads(serialized)
    special = {t["content"] for t in data.get("added_tokens", [])}  # <|endoftext|>: never produced by merges
    # each character back to its byte, as one C pass per token: translate to code points below 256, then latin-1
    to_bytes = {ord(c): b for b, c in bytes_to_unicode().items()}
    return {
        token.translate(to_bytes).encode("latin-1"): rank
        for token, rank in data["model"]["vocab"].items()
        if token not in special
    }


@lru_cache(maxsize=2)
def tiktoken_encoding(serialized: str):
    import tiktoken  # noqa: PLC0415 - optional speed-up
    from tiktoken_ext.openai_public import r50k_pat_str  # noqa: PLC0415 - GPT-2's pre-tokenizer regex

    return tiktoken.Encoding(
        "gpt2-curate", pat_str=r50k_pat_str, mergeable_ranks=ranks_from_tokenizer_json(serialized), special_tokens={}
    )


def tiktoken_counter(serialized: str) -> Callable[[list[str]], list[int]] | None:
    """A counter backed by tiktoken for GPT-2's tokenizer.json, or None if tiktoken is not installed."""
    try:
        encoding = tiktoken_encoding(serialized)
    except ImportError:
        return None

    encode = encoding.encode_ordinary

    def count(texts: list[str]) -> list[int]:
        # one text after another in this thread: a task already has its core (workers = cores), and tiktoken's
        # thread pool only adds hand-off cost there (0.81 against 0.98 CPU-s on the e2e benchmark's 13 MB)
        return [len(encode(text)) for text in texts]

    return count
