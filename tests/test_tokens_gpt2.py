"""The shipped GPT-2 tokenizer is GPT-2's: identical token ids to OpenAI's tiktoken on real and adversarial text."""

from __future__ import annotations

import gzip
import hashlib
import inspect
import json
import re

import pytest
import tiktoken
import tiktoken.load
import tiktoken_ext.openai_public as openai_public
from conftest import REPO, SHARED
from tokenizers import Tokenizer

from pipeline.tokens.fast_gpt2 import ranks_from_tokenizer_json
from pipeline.tokens.gpt2_build import build_gpt2_tokenizer, openai_files
from pipeline.tokens.tokenizer import (
    TokenizerError,
    count_tokens,
    counter_for,
    load_tokenizer,
    resolve_tokenizer,
)

SHIPPED = REPO / "data" / "tokenizers" / "gpt2" / "tokenizer.json"

ADVERSARIAL = [
    "",
    " ",
    "\n\n\n",
    "   leading and trailing   ",
    "It's they're we've I'm you'll he'd 'S 'T",
    "CamelCaseWordsAndALLCAPS and numbers 1234567890 3.14159 1,000,000",
    "émigré naïve façade Ångström",
    "中文分词测试，日本語のテキスト、한국어 텍스트",
    "مرحبا بالعالم — עברית",
    "emoji 😀👍🏽👨‍👩‍👧‍👦 flags 🇫🇷",
    "tabs\tand\r\nwindows\rnewlines\u2028\u2029",
    "control \x00\x01\x1f\x7f chars",
    "combining e\u0301 a\u0308 ﬁ ligature",
    "<|endoftext|> is plain text here",
    "https://example.com/path?q=1&x=%20#frag user@example.org",
    "    def f(x):\n        return x ** 2  # code\n",
    "a" * 5000,
    "!!!???...,,,;;;" * 50,
    "\ud800 lone surrogate".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
]


def real_texts() -> list[str]:
    texts: list[str] = []
    for name in ("cleaneval-gold-dev.jsonl.gz", "cleaneval-justext-dev.jsonl.gz"):
        with gzip.open(SHARED / "web" / name, "rt", encoding="utf-8") as f:
            texts += [json.loads(line)["text"] for line in f][:120]
    for name in ("mozilla-readability.jsonl", "olmo-c4.jsonl"):
        with open(SHARED / "web" / name, encoding="utf-8") as f:
            texts += [json.loads(line)["text"] for line in f]
    for path in sorted((SHARED / "web" / "data-juicer-redpajama").glob("*.jsonl")):
        texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()]
    with open(SHARED / "pii" / "presidio-synthetic-synth_dataset_v2.json", encoding="utf-8") as f:
        texts += [row["full_text"] for row in json.load(f)[:300]]
    return texts


@pytest.fixture(scope="module")
def openai_gpt2() -> tiktoken.Encoding:
    """OpenAI's own encoder (tiktoken), built from the same two files, after checking they are OpenAI's."""
    encoder_json, vocab_bpe = openai_files()
    pinned = inspect.getsource(openai_public.gpt2)
    bpe_hash = re.search(r'vocab_bpe_hash="([0-9a-f]{64})"', pinned).group(1)
    json_hash = re.search(r'encoder_json_hash="([0-9a-f]{64})"', pinned).group(1)
    assert hashlib.sha256(vocab_bpe.read_bytes()).hexdigest() == bpe_hash
    assert hashlib.sha256(encoder_json.read_bytes()).hexdigest() == json_hash
    ranks = tiktoken.load.data_gym_to_mergeable_bpe_ranks(str(vocab_bpe), str(encoder_json))
    return tiktoken.Encoding(
        "gpt2",
        pat_str=openai_public.r50k_pat_str,
        mergeable_ranks=ranks,
        special_tokens={"<|endoftext|>": 50256},
        explicit_n_vocab=50257,
    )


@pytest.fixture(scope="module")
def shipped() -> Tokenizer:
    return load_tokenizer("gpt2")


def test_shipped_file_is_what_the_builder_makes_from_openais_files():
    rebuilt = build_gpt2_tokenizer(*openai_files())
    assert json.loads(rebuilt.to_str()) == json.loads(SHIPPED.read_text(encoding="utf-8"))


def test_same_ids_as_tiktoken_on_real_text(openai_gpt2, shipped):
    texts = real_texts()
    assert len(texts) > 600
    ours = shipped.encode_batch(texts, add_special_tokens=False)
    mismatches = [
        i for i, (t, e) in enumerate(zip(texts, ours, strict=True)) if openai_gpt2.encode_ordinary(t) != e.ids
    ]
    assert not mismatches, f"{len(mismatches)} texts tokenized differently, first: {texts[mismatches[0]][:200]!r}"
    total = sum(len(e.ids) for e in ours)
    assert total > 500_000  # a real amount of text was compared
    assert count_tokens(shipped, texts) == [len(e.ids) for e in ours]


def test_same_ids_as_tiktoken_on_adversarial_text(openai_gpt2, shipped):
    for text in ADVERSARIAL:
        assert shipped.encode(text, add_special_tokens=False).ids == openai_gpt2.encode_ordinary(text), text[:40]
    assert shipped.decode(openai_gpt2.encode_ordinary(ADVERSARIAL[9])) == ADVERSARIAL[9]


def test_bad_input_never_crashes(openai_gpt2, shipped):
    junk = bytes(range(256)).decode("latin-1") * 400 + "x" * 200_000 + "\x00" * 1000
    assert count_tokens(shipped, [junk, "", " " * 10]) == [
        len(openai_gpt2.encode_ordinary(junk)),
        0,
        len(openai_gpt2.encode_ordinary(" " * 10)),
    ]


def test_specs_resolve_and_fail_clearly(tmp_path, monkeypatch):
    assert resolve_tokenizer(None).name == "gpt2"
    assert resolve_tokenizer(str(SHIPPED)).kind == "file"
    assert resolve_tokenizer(str(SHIPPED.parent)).name == str(SHIPPED.resolve())
    assert resolve_tokenizer("HuggingFaceTB/SmolLM2-135M").kind == "hub"
    with pytest.raises(TokenizerError, match="no such file"):
        resolve_tokenizer(str(tmp_path / "missing" / "tokenizer.json"))
    with pytest.raises(TokenizerError, match="holds no tokenizer.json"):
        resolve_tokenizer(str(tmp_path))
    with pytest.raises(TokenizerError, match="expected 'gpt2'"):
        resolve_tokenizer("gpt-2")
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(TokenizerError, match="not a tokenizers tokenizer.json"):
        load_tokenizer(str(bad))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(TokenizerError, match="HF_HUB_OFFLINE"):
        load_tokenizer("HuggingFaceTB/SmolLM2-135M")


def test_tiktoken_counter_built_from_the_shipped_file_is_exact(openai_gpt2, shipped):
    """The fast path: tiktoken with ranks read from the shipped tokenizer.json, no download."""
    assert ranks_from_tokenizer_json(shipped.to_str()) == openai_gpt2._mergeable_ranks
    fast = counter_for(shipped)
    assert fast.__module__ == "pipeline.tokens.fast_gpt2"
    texts = real_texts() + ADVERSARIAL
    assert fast(texts) == count_tokens(shipped, texts)
    other = Tokenizer.from_str(shipped.to_str().replace('"<|endoftext|>"', '"<|end|>"'))
    assert counter_for(other).__module__ != "pipeline.tokens.fast_gpt2"  # any other tokenizer: tokenizers


def test_a_loaded_token_counter_writes_a_small_executor_json():
    """datatrove writes every step's attributes to ``executor.json`` (again for each later phase that depends on
    the run): the token counter's serialized GPT-2 (2 MB of JSON) is written as its sha256 only."""
    from datatrove.executor.base import ExecutorJSONEncoder

    from pipeline.tokens.token_count import TokenCounter, TokenCountParams
    from pipeline.tokens.tokenizer import fingerprint

    step = TokenCounter(TokenCountParams())
    assert step.counter(["Hello world"]) == [2]
    written = json.dumps(step, cls=ExecutorJSONEncoder)
    assert len(written) < 20_000
    assert fingerprint(step.tokenizer) in written
