"""``fineweb_quality``: FineWeb's own line-level rules (Penedo et al. 2024), as datatrove's ``FineWebQualityFilter``.

Drops pages where too few lines end in terminal punctuation (``line_punct_ratio``), too many lines are short
(``short_line_ratio``), too many characters sit in duplicated lines (``char_dup_ratio``) or there are too many
newlines per word (``list_ratio``): the navigation menus, lists and boilerplate that Gopher's and C4's rules let
through. Same parameters, defaults and reasons as datatrove's filter.

Faster than datatrove, same decisions: the word count comes from the shared cached tokenization
(``word_analysis``), which after ``c4_quality`` rewrote the text costs a dict lookup per word instead of a new
spaCy pass. With ``record_signals`` the four ratios are kept as ``<label>.<reason>`` columns.

``language`` picks datatrove's word tokenizer (a FineWeb-2 code such as ``cmn_Hani`` or a language-ID label such
as ``zh``; ``auto``: each document's language from ``language_filter``), and ``thresholds: fineweb2`` loads
FineWeb-2's settings for the language, as its pipeline script gives them to datatrove (see ``thresholds.py``).
"""

from __future__ import annotations

import pyarrow as pa
from datatrove.data import Document
from datatrove.pipeline.filters.gopher_repetition_filter import find_duplicates
from datatrove.utils.text import TERMINAL_PUNCTUATION

from pipeline.filters.thresholds import LanguageAwareFilter, UnconfiguredAction
from pipeline.filters.word_analysis import analyze
from pipeline.recipe_paths import RecipePathOrName
from pipeline.registry import StageContext, StageParams, register_stage

SIGNALS = ("line_punct_ratio", "short_line_ratio", "char_dup_ratio", "list_ratio")


class FineWebQualityParams(StageParams):
    line_punct_thr: float = 0.12
    line_punct_exclude_zero: bool = False
    stop_chars: tuple[str, ...] | None = None
    short_line_thr: float = 0.67
    short_line_length: int = 30
    char_duplicates_ratio: float = 0.01
    new_line_ratio: float = 0.3
    language: str = "eng"
    thresholds: RecipePathOrName | None = None  # "fineweb2", or a file written by `curate calibrate`
    unconfigured_language: UnconfiguredAction = "keep"  # with language: auto, a language without settings
    record_signals: bool = False


class FineWebQualityFilter(LanguageAwareFilter):
    name = "🍷 FineWeb Quality"
    stage_name = "fineweb_quality"

    def __init__(self, params: FineWebQualityParams, label: str = "fineweb_quality"):
        super().__init__(params, label)

    def signal_types(self) -> dict[str, pa.DataType]:
        return dict.fromkeys(SIGNALS, pa.float64())

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        p = self.document_params(doc)
        if p is None:
            return self.unconfigured()
        record = self.params.record_signals
        signals: dict[str, float | None] = {}
        verdict = self._evaluate(p, doc.text, signals, stop_early=not record)
        if record:
            for name in SIGNALS:
                doc.metadata[f"{self.label}.{name}"] = signals.get(name)
        return True if verdict is None else (False, verdict)

    def _evaluate(
        self, p: FineWebQualityParams, text: str, signals: dict[str, float | None], stop_early: bool
    ) -> str | None:
        stop_chars = p.stop_chars if p.stop_chars is not None else tuple(TERMINAL_PUNCTUATION)
        lines = [line for line in text.split("\n") if line.strip() != ""]
        if not lines:
            return "empty"
        verdict: str | None = None

        ratio = sum(1 for line in lines if line.endswith(stop_chars)) / len(lines)
        signals["line_punct_ratio"] = ratio
        if ratio < p.line_punct_thr and not (ratio == 0 and p.line_punct_exclude_zero):
            verdict = "line_punct_ratio"
            if stop_early:
                return verdict

        ratio = sum(1 for line in lines if len(line) <= p.short_line_length) / len(lines)
        signals["short_line_ratio"] = ratio
        if ratio > p.short_line_thr and verdict is None:
            verdict = "short_line_ratio"
            if stop_early:
                return verdict

        ratio = find_duplicates(lines)[1] / len(text.replace("\n", ""))
        signals["char_dup_ratio"] = ratio
        if ratio > p.char_duplicates_ratio and verdict is None:
            verdict = "char_dup_ratio"
            if stop_early:
                return verdict

        n_words = analyze(text, p.language).n_words
        ratio = text.count("\n") / n_words if n_words else 0.0
        signals["list_ratio"] = ratio
        if ratio > p.new_line_ratio and verdict is None:
            verdict = "list_ratio"
        return verdict


@register_stage("fineweb_quality", FineWebQualityParams)
def build_fineweb_quality(params: FineWebQualityParams, ctx: StageContext) -> FineWebQualityFilter:
    """Drop list-like, boilerplate-heavy pages by FineWeb's line rules (datatrove's FineWebQualityFilter)."""
    return FineWebQualityFilter(params, label=ctx.label)
