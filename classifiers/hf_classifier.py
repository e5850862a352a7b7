"""``hf_classifier``: score documents with a Hugging Face sequence-classification model from a local folder.

Covers the FineWeb-Edu classifier's layout: a regression head (``num_labels == 1``) whose raw output is the
``score``, with ``int_score = int(round(max(0, min(score, 5))))``, keeping ``int_score >= 3`` as FineWeb-Edu did.
A classification head (``num_labels >= 2``) gives ``score`` = the softmax probability of ``positive_label``
(default: the last label) and no ``int_score``.

Writes ``<score_key>`` (and ``<int_score_key>`` for a regression head) on every document; drops documents with
``int_score < min_int_score`` (``below_min_int_score``) or ``score < threshold`` (``below_hf_threshold``).
Documents are tokenised and run in batches, truncated to ``max_length`` tokens (as FineWeb-Edu did), on the GPU
when there is one, else the CPU. The model is read from a local path only: nothing is downloaded.
torch and transformers are the optional extra ``curate[hf]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pyarrow as pa
from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter
from pydantic import PositiveInt, field_validator

from pipeline.recipe_paths import RecipePath
from pipeline.registry import StageContext, StageParams, register_stage


class HFClassifierParams(StageParams):
    model: RecipePath  # local folder with config.json, weights and tokenizer files
    score_key: str = "hf_score"
    int_score_key: str = "hf_int_score"
    min_int_score: int | None = 3  # regression heads: FineWeb-Edu kept int_score >= 3
    threshold: float | None = None
    positive_label: str | int | None = None  # classification heads: label name or index; default the last
    batch_size: PositiveInt = 32
    max_length: PositiveInt = 512
    device: Literal["auto", "cpu", "cuda"] = "auto"

    @field_validator("model")
    @classmethod
    def _local_folder(cls, value: str) -> str:
        if not (Path(value) / "config.json").is_file():
            raise ValueError(f"{value!r} is not a local model folder with a config.json (nothing is downloaded)")
        return value


def int_score(score: float) -> int:
    """FineWeb-Edu's integer score: the raw regression output clipped to [0, 5] and rounded."""
    return int(round(max(0, min(score, 5))))


class HFClassifierFilter(BaseFilter):
    name = "🤗 HF classifier"
    _requires_dependencies = ["torch", "transformers"]

    def __init__(self, params: HFClassifierParams, exclusion_writer=None):
        super().__init__(exclusion_writer, batch_size=params.batch_size)
        self.params = params
        self._model = None
        self._tokenizer = None
        self._device = None

    def __getstate__(self):  # executors pickle steps for their workers: the model is loaded again there
        state = self.__dict__.copy()
        state.update(_model=None, _tokenizer=None, _device=None)
        return state

    def output_columns(self) -> dict[str, pa.DataType]:
        return {self.params.score_key: pa.float64(), self.params.int_score_key: pa.int64()}

    def _load(self) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        p = self.params
        if p.device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        else:
            device = p.device
        self._tokenizer = AutoTokenizer.from_pretrained(p.model, local_files_only=True)
        model = AutoModelForSequenceClassification.from_pretrained(p.model, local_files_only=True)
        self._model = model.to(device).eval()
        self._device = device
        self._regression = model.config.num_labels == 1
        self._positive = None
        if not self._regression:
            label2id = {str(k): int(v) for k, v in (model.config.label2id or {}).items()}
            if p.positive_label is None:
                self._positive = model.config.num_labels - 1
            elif isinstance(p.positive_label, int):
                self._positive = p.positive_label
            elif p.positive_label in label2id:
                self._positive = label2id[p.positive_label]
            else:
                raise ValueError(f"positive_label {p.positive_label!r} not in the model's labels {sorted(label2id)}")

    def score_texts(self, texts: list[str]) -> list[float]:
        """Raw scores of a batch: regression output, or P(positive label)."""
        import torch

        if self._model is None:
            self._load()
        # a tokenizer walks the whole string even when it truncates: cut absurdly long texts first (a token is
        # rarely longer than 32 characters, so no text loses anything the model would have seen)
        limit = self.params.max_length * 32
        texts = [t[:limit] for t in texts]
        inputs = self._tokenizer(
            texts, truncation=True, max_length=self.params.max_length, padding=True, return_tensors="pt"
        ).to(self._device)
        with torch.inference_mode():
            logits = self._model(**inputs).logits.float()
        if self._regression:
            return logits[:, 0].cpu().tolist()
        return torch.softmax(logits, dim=-1)[:, self._positive].cpu().tolist()

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        return self.filter_batch([doc])[0]

    def filter_batch(self, batch: list[Document]) -> list[bool | tuple[bool, str]]:
        p = self.params
        scores = self.score_texts([doc.text for doc in batch])
        results: list[bool | tuple[bool, str]] = []
        for doc, score in zip(batch, scores, strict=True):
            doc.metadata[p.score_key] = float(score)
            if self._regression:
                doc.metadata[p.int_score_key] = int_score(score)
                if p.min_int_score is not None and doc.metadata[p.int_score_key] < p.min_int_score:
                    results.append((False, "below_min_int_score"))
                    continue
            if p.threshold is not None and score < p.threshold:
                results.append((False, "below_hf_threshold"))
                continue
            results.append(True)
        return results


@register_stage("hf_classifier", HFClassifierParams)
def build_hf_classifier(params: HFClassifierParams, ctx: StageContext) -> HFClassifierFilter:
    """Score documents with a local Hugging Face classifier (FineWeb-Edu layout: keep int_score >= 3)."""
    return HFClassifierFilter(params)
