"""Token ids for training: a document's tokens followed by the tokenizer's end-of-document token.

GPT-2 (the shipped ``tokenizer.json``) is encoded with OpenAI's ``tiktoken`` built from the same ranks
(``pipeline/tokens/fast_gpt2.py``: identical ids, several times faster), any other ``tokenizer.json`` with
``tokenizers``' ``encode_batch_fast``. Special-token strings inside a document are encoded as the plain text they
are (tiktoken's ``encode_ordinary``), so a page quoting ``<|endoftext|>`` cannot end a document early.

The end-of-document token is the tokenizer's own: ``<|endoftext|>`` for GPT-2; for a ``tokenizer.json`` the
``eos_token`` of the ``tokenizer_config.json`` beside it, else ``<|endoftext|>`` or ``</s>`` if the vocabulary has
one; ``output.tokens.eos_token`` overrides. Ids are stored as ``uint16`` when the vocabulary has fewer than 65,500
entries (Megatron-LM's rule), else ``int32``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from pipeline.tokens.tokenizer import TokenizerError, _gpt2_fingerprint, load_tokenizer, resolve_tokenizer

MEGATRON_UINT16_LIMIT = 65500


def default_eos(spec_path: str | None, vocab: dict[str, int]) -> str:
    if spec_path:
        config = Path(spec_path).parent / "tokenizer_config.json"
        if config.is_file():
            eos = json.loads(config.read_text(encoding="utf-8")).get("eos_token")
            if isinstance(eos, dict):
                eos = eos.get("content")
            if isinstance(eos, str) and eos in vocab:
                return eos
    for candidate in ("<|endoftext|>", "</s>", "<eos>", "<|end_of_text|>"):
        if candidate in vocab:
            return candidate
    raise TokenizerError("the tokenizer names no end-of-document token; set output.tokens.eos_token")


class TokenEncoder:
    """Encodes batches of texts to arrays of ids, each ending with the end-of-document id."""

    def __init__(self, tokenizer: str = "gpt2", eos_token: str | None = None, threads: int = 4):
        self._arg = tokenizer
        self.spec = resolve_tokenizer(tokenizer)
        self._tokenizer = load_tokenizer(self.spec)
        self.name = self.spec.name
        self.vocab_size = self._tokenizer.get_vocab_size()
        vocab = self._tokenizer.get_vocab()
        self.eos_token = eos_token or default_eos(self.spec.path if self.spec.kind == "file" else None, vocab)
        eos_id = self._tokenizer.token_to_id(self.eos_token)
        if eos_id is None:
            raise TokenizerError(f"end-of-document token {self.eos_token!r} is not in the tokenizer's vocabulary")
        self.eos_id = int(eos_id)
        self.dtype = np.dtype(np.uint16 if self.vocab_size < MEGATRON_UINT16_LIMIT else np.int32)
        self.threads = threads
        self._fast = None
        serialized = self._tokenizer.to_str()
        if hashlib.sha256(serialized.encode()).hexdigest() == _gpt2_fingerprint():
            try:
                from pipeline.tokens.fast_gpt2 import tiktoken_encoding  # noqa: PLC0415

                self._fast = tiktoken_encoding(serialized)
            except ImportError:
                self._fast = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_fast": None, "_tokenizer": None, "_reload": True}

    def __setstate__(self, state: dict) -> None:
        state.pop("_reload", None)
        self.__dict__.update(state)
        fresh = TokenEncoder(self._arg, self.eos_token, self.threads)
        self._tokenizer, self._fast = fresh._tokenizer, fresh._fast

    @property
    def backend(self) -> str:
        return "tiktoken" if self._fast is not None else "tokenizers"

    def encode(self, texts: list[str]) -> list[np.ndarray]:
        if not texts:
            return []
        if self._fast is not None:
            lists = self._fast.encode_ordinary_batch(texts, num_threads=self.threads)
        else:
            lists = [e.ids for e in self._tokenizer.encode_batch_fast(texts, add_special_tokens=False)]
        out = []
        for ids in lists:
            arr = np.empty(len(ids) + 1, dtype=self.dtype)
            arr[:-1] = ids
            arr[-1] = self.eos_id
            out.append(arr)
        return out
