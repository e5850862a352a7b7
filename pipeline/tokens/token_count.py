"""``token_count``: write each document's token count with a real tokenizer (GPT-2's by default, offline).

Keeps and changes nothing; adds ``token_count`` (int64): the number of tokens of ``doc.text`` without special
tokens, so the sum over ``OUTPUT/data/`` is the corpus's training tokens for that tokenizer. Documents are encoded
in batches and passed on in their original order: GPT-2 with OpenAI's ``tiktoken`` when it is installed
(several times faster, identical counts: ``pipeline/tokens/fast_gpt2.py``), any other tokenizer with
``tokenizers``' ``encode_batch_fast`` (Rust, parallel, no offsets).

Where to put it: it counts the text as it is at its place in the recipe. Put it *first* and every drop ledger
carries ``token_count`` too, so ``curate report`` reads the whole token funnel from the output without counting
anything; but a later stage that rewrites text (PII scrubbing) makes the kept documents' counts describe the text
before the rewrite. Put it *last* and the counts describe the final text; ``curate report`` then counts the
ledger documents itself with the same tokenizer (a copy of which this stage saves as
``OUTPUT/work/<label>/tokenizer.json``).

Per task it also counts ``tokens`` and ``tokens/<source>`` in datatrove's stats, so ``stats.json`` shows them.
"""

from __future__ import annotations

import os

import orjson
import pyarrow as pa
from datatrove.data import Document, DocumentsPipeline
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep
from pydantic import Field, ValidationInfo, field_validator

from pipeline.document import SOURCE
from pipeline.recipe_paths import RECIPE_DIR, RecipePathOrName, resolve_path
from pipeline.registry import StageContext, StageParams, register_stage
from pipeline.tokens.tokenizer import (
    SerializedTokenizer,
    TokenizerError,
    counter_for,
    load_tokenizer,
    resolve_tokenizer,
    serialized_form,
)

TOKEN_COUNT = "token_count"
TOKENIZER_FILE = "tokenizer.json"
INFO_FILE = "token_count.json"


class TokenCountParams(StageParams):
    tokenizer: RecipePathOrName = (
        "gpt2"  # 'gpt2', a path to a tokenizer.json (or its folder), or a hub id (needs network)
    )
    batch_size: int = Field(default=512, ge=1, le=100_000)

    @field_validator("tokenizer")
    @classmethod
    def _known(cls, value: str, info: ValidationInfo) -> str:
        try:
            resolve_tokenizer(value)
        except TokenizerError as e:
            where = resolve_path(value, (info.context or {}).get(RECIPE_DIR))
            raise ValueError(f"{e}" + (f" (looked for {where})" if where != value else "")) from e
        return value


class TokenCounter(PipelineStep):
    type = "🔢 - TOKENS"
    name = "🔢 Token count"

    def __init__(self, params: TokenCountParams, work_dir: str | None = None, label: str = "token_count"):
        super().__init__()
        self.params = params
        self.spec = resolve_tokenizer(params.tokenizer)
        self.work_dir = work_dir
        self.label = label
        self._tokenizer = None
        self._counter = None
        self._serialized: SerializedTokenizer | None = None

    def __getstate__(self) -> dict:
        # executors pickle steps to ship them to tasks: the tokenizer is loaded again there, not shipped
        return {**self.__dict__, "_tokenizer": None, "_counter": None, "_serialized": None}

    def output_columns(self) -> dict[str, pa.DataType]:
        return {TOKEN_COUNT: pa.int64()}

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            self._tokenizer = load_tokenizer(self.spec)
        return self._tokenizer

    @property
    def serialized(self) -> SerializedTokenizer:
        """The tokenizer's serialized form and sha256: made once for the counter and the saved copy."""
        if self._serialized is None:
            self._serialized = serialized_form(self.tokenizer)
        return self._serialized

    @property
    def counter(self):
        if self._counter is None:
            self._counter = counter_for(self.tokenizer, self.serialized)
        return self._counter

    def save_tokenizer(self) -> None:
        """Keep the exact tokenizer beside the output, so the report can count ledger text the same way."""
        if not self.work_dir:
            return
        folder = get_datafolder(self.work_dir)
        if folder.exists(INFO_FILE):
            return
        info = {
            "tokenizer": self.spec.name,
            "kind": self.spec.kind,
            "sha256": self.serialized.sha256,
            "vocab_size": self.tokenizer.get_vocab_size(),
            "special_tokens": False,
        }
        tmp = f".{os.getpid()}.tmp"
        for name, payload in ((TOKENIZER_FILE, self.serialized.text.encode()), (INFO_FILE, orjson.dumps(info))):
            with folder.open(name + tmp, "wb") as f:
                f.write(payload)
            folder.mv(name + tmp, name)

    def _count(self, batch: list[Document]) -> list[Document]:
        with self.track_time(unit="batch"):
            counts = self.counter([d.text for d in batch])
        for doc, n in zip(batch, counts, strict=True):
            doc.metadata[TOKEN_COUNT] = n
            self.stat_update("tokens", value=n)
            self.stat_update(f"tokens/{doc.metadata.get(SOURCE)}", value=n)
        return batch

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if rank == 0:
            self.save_tokenizer()
        batch: list[Document] = []
        for doc in data:
            self.stat_update("total")
            batch.append(doc)
            if len(batch) >= self.params.batch_size:
                yield from self._count(batch)
                batch = []
        if batch:
            yield from self._count(batch)


@register_stage("token_count", TokenCountParams)
def build_token_count(params: TokenCountParams, ctx: StageContext) -> TokenCounter:
    """Write each document's token count (GPT-2 BPE by default, offline; any tokenizer.json; hub ids online)."""
    return TokenCounter(params, work_dir=ctx.work_dir, label=ctx.label)
