"""``quality_classifier``: score each document with a fastText quality model; keep by threshold or top fraction.

Writes ``quality_score`` (P(good) under the model, in [0, 1]) on every document, then:

* ``threshold: t``: keeps documents with ``quality_score >= t``, drops the rest as ``below_quality_threshold``.
* ``keep_top_fraction: f``: keeps the best ``ceil(f * N)`` documents of the **whole** run (DCLM kept the top 10%
  of its pool), ties broken by document id, so the same documents are kept whatever the number of tasks; the
  rest are dropped as ``below_top_fraction``. This needs every score first, so the stage is multi-phase
  (see :mod:`classifiers.top_fraction`).
* neither: only scores, keeps everything (for choosing a threshold later from the output).

``model:`` is a fastText ``.bin`` trained by ``curate classifier train`` (its card says how to normalise text) or
any DCLM-style model (``__label__hq``; scored with DCLM's own text preparation unless told otherwise); without
it the default model shipped in ``data/models/quality/`` is used. Documents are scored in batches through one
call into fastText's C++ per batch.
"""

from __future__ import annotations

from typing import Literal

import pyarrow as pa
from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter
from pydantic import Field, PositiveInt, model_validator

from classifiers.fasttext_model import FastTextQualityModel
from classifiers.top_fraction import ScoreCollector, TopFractionApply, TopFractionCut
from pipeline.recipe_paths import RecipeFile
from pipeline.registry import MultiPhaseStage, Phase, StageContext, StageParams, register_stage
from pipeline.resources import data_path

DEFAULT_MODEL = data_path("models", "quality", "quality_fasttext.bin")
SCORE_KEY = "quality_score"
DROP_REASON = "below_quality_threshold"


class QualityClassifierParams(StageParams):
    model: RecipeFile | None = None  # path to a fastText .bin; None: the shipped default model
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    keep_top_fraction: float | None = Field(default=None, gt=0.0, le=1.0)
    batch_size: PositiveInt = 1024
    # override what the model card says (or the DCLM defaults for a model without a card)
    normalization: Literal["curate", "curate-layout", "dclm"] | None = None
    max_chars: PositiveInt | None = None
    positive_label: str | None = None

    @model_validator(mode="after")
    def _one_rule(self) -> QualityClassifierParams:
        if self.threshold is not None and self.keep_top_fraction is not None:
            raise ValueError("give either 'threshold' or 'keep_top_fraction', not both")
        return self

    def model_path(self) -> str:
        return self.model or str(DEFAULT_MODEL)


class QualityScoreFilter(BaseFilter):
    """Score documents in batches; with a threshold, drop those below it."""

    name = "🏅 Quality classifier"

    def __init__(self, params: QualityClassifierParams, threshold: float | None = None, exclusion_writer=None):
        super().__init__(exclusion_writer, batch_size=params.batch_size)
        self.params = params
        self.threshold = threshold
        self._model: FastTextQualityModel | None = None
        # load (and so validate) the model now, so a bad path fails when the recipe is built, not mid-run; then
        # forget it: executors copy and pickle steps before running them, and the C++ model can be neither
        self.model  # noqa: B018
        self._model = None

    @property
    def model(self) -> FastTextQualityModel:
        if self._model is None:
            p = self.params
            self._model = FastTextQualityModel.load(p.model_path(), p.normalization, p.max_chars, p.positive_label)
        return self._model

    def __getstate__(self):  # executors pickle steps to send them to workers: the C++ model is reloaded there
        state = self.__dict__.copy()
        state["_model"] = None
        return state

    def output_columns(self) -> dict[str, pa.DataType]:
        return {SCORE_KEY: pa.float64()}

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        return self.filter_batch([doc])[0]

    def filter_batch(self, batch: list[Document]) -> list[bool | tuple[bool, str]]:
        scores = self.model.score([doc.text for doc in batch])
        results: list[bool | tuple[bool, str]] = []
        for doc, score in zip(batch, scores, strict=True):
            doc.metadata[SCORE_KEY] = float(score)
            keep = self.threshold is None or score >= self.threshold
            results.append(True if keep else (False, DROP_REASON))
        return results


@register_stage("quality_classifier", QualityClassifierParams)
def build_quality_classifier(
    params: QualityClassifierParams, ctx: StageContext
) -> QualityScoreFilter | MultiPhaseStage:
    """Score documents with a fastText quality model (quality_score); keep by threshold or global top fraction."""
    if params.keep_top_fraction is None:
        return QualityScoreFilter(params, threshold=params.threshold)
    return MultiPhaseStage(
        collect=[QualityScoreFilter(params), ScoreCollector(ctx.work_dir, SCORE_KEY)],
        global_phases=[
            Phase(name=f"{ctx.label}_cut", steps=[TopFractionCut(ctx.work_dir, params.keep_top_fraction)], tasks=1)
        ],
        apply=[TopFractionApply(ctx.work_dir, SCORE_KEY)],
    )
