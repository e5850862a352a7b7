"""``decontaminate``: drop documents that share a long word n-gram with an evaluation item (benchmark leakage).

Drops a document when any of its n-grams (13 words by default), normalised as lm-evaluation-harness and GPT-3 did
(ASCII lower case, punctuation deleted, split on whitespace: ``pipeline/decont/ngrams.py``), is also an n-gram of
an item of one of the evaluation sets the recipe names. Keeps everything else unchanged. The reason is
``contaminated:<benchmark>`` (the first benchmark, in recipe order, whose item matched), and the ledger row
records every matched item (``decontaminate.items``, ``<benchmark>/<item>``) and the first matching n-gram as it
reads after normalisation (``decontaminate.ngram``), so a removal can be checked by eye.

Why documents and not spans: a model that saw a benchmark's question next to its answer can repeat it from the
rest of the page; dropping the page is what GPT-3's and datatrove's decontamination do.

The index is built once per run, before any document is read, by a one-task phase (``BuildNgramIndex``), and
every task memory-maps it (``pipeline/decont/index.py``).
"""

from __future__ import annotations

import os
from typing import Literal

import pyarrow as pa
from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter
from pydantic import Field, PositiveInt, field_validator, model_validator

from pipeline.decont.index import BuildNgramIndex, EvalSpec, NgramIndex
from pipeline.recipe_paths import RecipePath
from pipeline.registry import Phase, PreparedStage, StageContext, StageParams, register_stage

ITEMS = "decontaminate.items"
NGRAM = "decontaminate.ngram"
REASON_PREFIX = "contaminated:"


class EvalSetParams(StageParams):
    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")  # names the ledger reason: contaminated:<name>
    path: RecipePath  # file, folder, glob or fsspec URL: JSON lines, Parquet or plain text (one item per line)
    fields: list[str] = Field(default_factory=lambda: ["text"], min_length=1)  # the item's text fields
    id_field: str | None = None  # names items in the ledger; default "<file>:<line or row>"
    format: Literal["infer", "jsonl", "parquet", "text"] = "infer"

    @field_validator("path")
    @classmethod
    def _exists(cls, value: str) -> str:
        if "://" not in value and not any(c in value for c in "*?[") and not os.path.exists(value):
            raise ValueError(f"no such file or folder: {value}")
        return value


class DecontaminateParams(StageParams):
    eval: list[EvalSetParams] = Field(min_length=1)
    ngram: PositiveInt = 13

    @model_validator(mode="after")
    def _unique(self) -> DecontaminateParams:
        names = [e.name for e in self.eval]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"eval: names must be unique; repeated: {', '.join(dupes)}")
        return self


class Decontaminate(BaseFilter):
    name = "🧪 decontaminate"

    def __init__(self, work_dir: str):
        super().__init__()
        self.work_dir = work_dir
        self._index: NgramIndex | None = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_index": None}  # each task maps the index itself

    def output_columns(self) -> dict[str, pa.DataType]:
        return {ITEMS: pa.list_(pa.string()), NGRAM: pa.string()}

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        if self._index is None:
            self._index = NgramIndex(self.work_dir)
        items, ngram = self._index.matches(doc.text or "")
        if not items:
            return True
        index = self._index
        benchmark = index.benchmark[min(items)]  # items are numbered in recipe order of the evaluation sets
        doc.metadata[ITEMS] = [f"{index.benchmark[i]}/{index.item[i]}" for i in items]
        doc.metadata[NGRAM] = ngram
        self.stat_update(f"contaminated_items/{benchmark}", value=len(items))
        return False, f"{REASON_PREFIX}{benchmark}"


@register_stage("decontaminate", DecontaminateParams)
def build_decontaminate(params: DecontaminateParams, ctx: StageContext) -> PreparedStage:
    """Drop documents sharing a 13-word n-gram (lm-eval-harness normalisation) with an evaluation item."""
    specs = [EvalSpec(e.name, e.path, tuple(e.fields), e.id_field, e.format) for e in params.eval]
    return PreparedStage(
        prepare=[Phase("index", [BuildNgramIndex(specs, params.ngram, ctx.work_dir)], tasks=1)],
        step=Decontaminate(ctx.work_dir),
    )
