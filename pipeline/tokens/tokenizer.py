"""Loading the tokenizer that token counts are made with, offline by default.

A tokenizer is named by a *spec*:

* ``gpt2`` (the default): GPT-2's byte-level BPE, shipped as package data in
  ``pipeline/data/tokenizers/gpt2/tokenizer.json`` (built once from OpenAI's files by
  ``pipeline/tokens/gpt2_build.py``, a development tool); nothing else is needed at run time.
* a path to a ``tokenizer.json`` (or to a folder holding one): any Hugging Face ``tokenizers`` tokenizer.
* anything else is taken as a Hugging Face Hub id (``HuggingFaceTB/SmolLM2-135M``) and fetched with
  ``Tokenizer.from_pretrained``; this needs network access and fails with a clear message offline.

The *name* recorded in ``report.json`` is ``gpt2``, the absolute path of the ``tokenizer.json``, or the hub id.
Counts never include special tokens: the tokens a document contributes to training, without BOS/EOS. A special
token's *string* inside a document (a page quoting ``<|endoftext|>``) is counted as the plain text it is, as
tiktoken's ``encode_ordinary`` does, so a document can never inject a control token.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tokenizers import Tokenizer

from pipeline.resources import data_path

SHIPPED = {"gpt2": data_path("tokenizers", "gpt2", "tokenizer.json")}
DEFAULT_TOKENIZER = "gpt2"


class TokenizerError(ValueError):
    """The spec names no tokenizer that can be loaded here."""


@dataclass(frozen=True)
class TokenizerSpec:
    """Where a tokenizer comes from: ``kind`` is ``builtin``, ``file`` or ``hub``; ``name`` goes in reports."""

    kind: str
    name: str
    path: str | None = None


def resolve_tokenizer(spec: str | None) -> TokenizerSpec:
    """Decide what ``spec`` names, without loading it (cheap; used to validate recipes)."""
    spec = (spec or DEFAULT_TOKENIZER).strip()
    if spec in SHIPPED:
        return TokenizerSpec("builtin", spec, str(SHIPPED[spec]))
    path = Path(os.path.expanduser(spec))
    if path.is_dir():
        path = path / "tokenizer.json"
        if not path.is_file():
            raise TokenizerError(f"tokenizer {spec!r}: the folder holds no tokenizer.json")
    if path.suffix == ".json" or path.is_file() or spec.startswith((".", "/", "~")):
        if not path.is_file():
            raise TokenizerError(f"tokenizer {spec!r}: no such file")
        return TokenizerSpec("file", str(path.resolve()), str(path.resolve()))
    if spec.count("/") == 1 and all(spec.split("/")):
        return TokenizerSpec("hub", spec)
    raise TokenizerError(
        f"tokenizer {spec!r}: expected 'gpt2', a path to a tokenizer.json, or a Hugging Face hub id like 'org/name'"
    )


def plain_text_mode(tokenizer: Tokenizer) -> Tokenizer:
    """Make special-token strings in the text encode as ordinary text (not as the special token)."""
    tokenizer.encode_special_tokens = True
    return tokenizer


# builtin name -> fingerprint of the tokenizer as loaded, recorded at its first load in the process, so that
# ``counter_for`` recognises GPT-2 without loading a second copy only to fingerprint it (0.14 CPU-s)
_BUILTIN_FINGERPRINTS: dict[str, str] = {}


def load_tokenizer(spec: str | TokenizerSpec | None = None) -> Tokenizer:
    resolved = spec if isinstance(spec, TokenizerSpec) else resolve_tokenizer(spec)
    tokenizer = plain_text_mode(_load(resolved))
    if resolved.kind == "builtin" and resolved.name not in _BUILTIN_FINGERPRINTS:
        _BUILTIN_FINGERPRINTS[resolved.name] = fingerprint(tokenizer)
    return tokenizer


def tokenizer_from_str(serialized: str) -> Tokenizer:
    return plain_text_mode(Tokenizer.from_str(serialized))


def _load(spec: str | TokenizerSpec | None) -> Tokenizer:
    resolved = spec if isinstance(spec, TokenizerSpec) else resolve_tokenizer(spec)
    if resolved.kind == "builtin":
        if resolved.path and Path(resolved.path).is_file():
            return Tokenizer.from_file(resolved.path)
        raise TokenizerError(f"tokenizer {resolved.name!r}: the shipped {resolved.path} is missing (reinstall curate)")
    if resolved.kind == "file":
        try:
            return Tokenizer.from_file(resolved.path)
        except Exception as e:  # noqa: BLE001 - tokenizers raises a bare Exception on a bad file
            raise TokenizerError(f"tokenizer {resolved.path}: not a tokenizers tokenizer.json ({e})") from e
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        raise TokenizerError(f"tokenizer {resolved.name!r} is a hub id but HF_HUB_OFFLINE=1; pass a tokenizer.json")
    try:
        return Tokenizer.from_pretrained(resolved.name)
    except Exception as e:  # noqa: BLE001 - network errors, missing repos: one clear message
        raise TokenizerError(f"tokenizer {resolved.name!r}: could not load it from the hub ({e})") from e


class SerializedTokenizer:
    """A tokenizer's serialized form (``text``) and its sha256 (its ``fingerprint``), for callers that need both.

    Not a tuple or a dataclass on purpose: a step holding one is written to datatrove's ``executor.json``, which
    would copy GPT-2's 2 MB of JSON there; this prints (and is written) as its sha256.
    """

    __slots__ = ("text", "sha256")

    def __init__(self, text: str):
        self.text = text
        self.sha256 = hashlib.sha256(text.encode()).hexdigest()

    def __repr__(self) -> str:
        return f"<serialized tokenizer sha256={self.sha256}>"


def serialized_form(tokenizer: Tokenizer) -> SerializedTokenizer:
    return SerializedTokenizer(tokenizer.to_str())


def fingerprint(tokenizer: Tokenizer) -> str:
    """sha256 of the tokenizer's serialized form: two counts are comparable only if these match."""
    return serialized_form(tokenizer).sha256


def _gpt2_fingerprint() -> str:
    if "gpt2" not in _BUILTIN_FINGERPRINTS:
        load_tokenizer("gpt2")
    return _BUILTIN_FINGERPRINTS["gpt2"]


def counter_for(
    tokenizer: Tokenizer, serialized: SerializedTokenizer | None = None
) -> Callable[[list[str]], list[int]]:
    """The fastest exact counter for ``tokenizer``: tiktoken when it is GPT-2's and tiktoken is installed.

    ``serialized`` is the tokenizer's ``serialized_form`` when the caller has it already (serializing GPT-2's
    vocabulary and merges costs 20 ms each time).
    """
    form = serialized or serialized_form(tokenizer)
    serialized, sha = form.text, form.sha256
    if sha == _gpt2_fingerprint():
        from pipeline.tokens.fast_gpt2 import tiktoken_counter  # noqa: PLC0415

        fast = tiktoken_counter(serialized)
        if fast is not None:
            return fast
    return lambda texts: count_tokens(tokenizer, texts)


def count_tokens(tokenizer: Tokenizer, texts: Sequence[str]) -> list[int]:
    """Token counts of ``texts`` (no special tokens), encoded as one parallel batch."""
    if not texts:
        return []
    encodings = tokenizer.encode_batch_fast(list(texts), add_special_tokens=False)
    return [len(e) for e in encodings]
