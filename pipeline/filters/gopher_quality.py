"""``gopher_quality``: drop documents that do not look like natural-language prose (Gopher's quality rules).

Same rules, parameter names, defaults and drop reasons as datatrove's ``GopherQualityFilter`` (the one FineWeb
ran): word count bounds, mean word length, ``#`` and ellipsis to word ratios, share of bullet lines and of lines
ending in an ellipsis, share of words with a letter, and a minimum number of English stop words. Pages failing
these are menus, tables of numbers, code, keyword lists or link farms.

Faster than datatrove, same decisions: the counts come from the shared cached tokenization (``word_analysis``),
which keeps per-chunk tallies so each word is examined once per process, not once per document. With
``record_signals`` the measures are kept as ``<label>.<signal>`` columns (``gopher_quality.stop_words``, ...).
Where datatrove would divide by zero (no words, no lines: only possible with ``min_doc_words`` disabled) the
ratio is taken as 0 instead of crashing.

``language`` picks datatrove's word tokenizer (a FineWeb-2 code such as ``cmn_Hani`` or a language-ID label such
as ``zh``; ``auto``: each document's language from ``language_filter``), and ``thresholds: fineweb2`` loads
FineWeb-2's settings for the language, as its pipeline script gives them to datatrove (see ``thresholds.py``).
"""

from __future__ import annotations

import pyarrow as pa
from datatrove.data import Document
from datatrove.pipeline.filters.gopher_quality_filter import STOP_WORDS

from pipeline.filters.thresholds import LanguageAwareFilter, UnconfiguredAction
from pipeline.filters.word_analysis import analyze
from pipeline.recipe_paths import RecipePathOrName
from pipeline.registry import StageContext, StageParams, register_stage

SIGNALS: dict[str, pa.DataType] = {
    "doc_words": pa.int64(),  # words with at least one non-punctuation character
    "avg_word_length": pa.float64(),
    "hash_word_ratio": pa.float64(),
    "ellipsis_word_ratio": pa.float64(),
    "bullet_lines_ratio": pa.float64(),
    "end_ellipsis_lines_ratio": pa.float64(),
    "alpha_words_ratio": pa.float64(),
    "stop_words": pa.int64(),  # distinct stop words present
}


class GopherQualityParams(StageParams):
    min_doc_words: int | None = 50
    max_doc_words: int | None = 100000
    min_avg_word_length: int | None = 3
    max_avg_word_length: int | None = 10
    max_symbol_word_ratio: float | None = 0.1
    max_bullet_lines_ratio: float | None = 0.9
    max_ellipsis_lines_ratio: float | None = 0.3
    max_non_alpha_words_ratio: float | None = 0.8
    min_stop_words: int | None = 2
    stop_words: list[str] | None = None
    language: str = "eng"
    thresholds: RecipePathOrName | None = None  # "fineweb2", or a file written by `curate calibrate`
    unconfigured_language: UnconfiguredAction = "keep"  # with language: auto, a language without settings
    record_signals: bool = False


def _ratio(count: float, total: int) -> float:
    return count / total if total else 0.0


class GopherQualityFilter(LanguageAwareFilter):
    name = "🥇 Gopher Quality"
    stage_name = "gopher_quality"

    def __init__(self, params: GopherQualityParams, label: str = "gopher_quality"):
        super().__init__(params, label)
        self._stop_words: dict[int, frozenset[str]] = {}  # per language's parameters (kept alive by settings)

    def stop_words(self, p: GopherQualityParams) -> frozenset[str]:
        if id(p) not in self._stop_words:
            self._stop_words[id(p)] = frozenset(STOP_WORDS if p.stop_words is None else p.stop_words)
        return self._stop_words[id(p)]

    def signal_types(self) -> dict[str, pa.DataType]:
        return dict(SIGNALS)

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        p = self.document_params(doc)
        if p is None:
            return self.unconfigured()
        record = self.params.record_signals
        signals: dict[str, float | int | None] = {}
        verdict = self._evaluate(p, doc.text, signals, stop_early=not record)
        if record:
            for name in SIGNALS:
                doc.metadata[f"{self.label}.{name}"] = signals.get(name)
        return True if verdict is None else (False, verdict)

    def _evaluate(self, p: GopherQualityParams, text: str, signals: dict, stop_early: bool) -> str | None:
        analysis = analyze(text, p.language)
        verdict: str | None = None

        def fail(reason: str) -> bool:
            nonlocal verdict
            if verdict is None:
                verdict = reason
            return stop_early

        n_words = analysis.n_words
        n_non_symbol = analysis.n_non_symbol_words
        signals["doc_words"] = n_non_symbol
        if p.min_doc_words and n_non_symbol < p.min_doc_words and fail("gopher_short_doc"):
            return verdict
        if p.max_doc_words and n_non_symbol > p.max_doc_words and fail("gopher_long_doc"):
            return verdict

        # np.mean of an empty list is nan, and every comparison with nan is False: same here
        avg = analysis.non_symbol_chars / n_non_symbol if n_non_symbol else float("nan")
        signals["avg_word_length"] = avg if n_non_symbol else None
        if p.min_avg_word_length and avg < p.min_avg_word_length and fail("gopher_below_avg_threshold"):
            return verdict
        if p.max_avg_word_length and avg > p.max_avg_word_length and fail("gopher_above_avg_threshold"):
            return verdict

        hash_ratio = _ratio(text.count("#"), n_words)
        signals["hash_word_ratio"] = hash_ratio
        if p.max_symbol_word_ratio and hash_ratio > p.max_symbol_word_ratio and fail("gopher_too_many_hashes"):
            return verdict
        ellipsis_ratio = _ratio(text.count("...") + text.count("…"), n_words)
        signals["ellipsis_word_ratio"] = ellipsis_ratio
        if p.max_symbol_word_ratio and ellipsis_ratio > p.max_symbol_word_ratio and fail("gopher_too_many_ellipsis"):
            return verdict

        lines = text.splitlines()
        stripped = [s.lstrip() for s in lines]
        bullets = _ratio(sum(s.startswith("•") or s.startswith("-") for s in stripped), len(lines))
        signals["bullet_lines_ratio"] = bullets
        if p.max_bullet_lines_ratio and bullets > p.max_bullet_lines_ratio and fail("gopher_too_many_bullets"):
            return verdict
        stripped = [s.rstrip() for s in lines]
        end_ellipsis = _ratio(sum(s.endswith("...") or s.endswith("…") for s in stripped), len(lines))
        signals["end_ellipsis_lines_ratio"] = end_ellipsis
        if (
            p.max_ellipsis_lines_ratio
            and end_ellipsis > p.max_ellipsis_lines_ratio
            and fail("gopher_too_many_end_ellipsis")
        ):
            return verdict

        alpha = _ratio(analysis.n_alpha_words, n_words)
        signals["alpha_words_ratio"] = alpha
        if p.max_non_alpha_words_ratio and alpha < p.max_non_alpha_words_ratio and fail("gopher_below_alpha_threshold"):
            return verdict

        stop_words = analysis.count_present(self.stop_words(p))
        signals["stop_words"] = stop_words
        if p.min_stop_words and stop_words < p.min_stop_words and fail("gopher_enough_stop_words"):
            return verdict
        return verdict


@register_stage("gopher_quality", GopherQualityParams)
def build_gopher_quality(params: GopherQualityParams, ctx: StageContext) -> GopherQualityFilter:
    """Drop documents that fail Gopher's prose-quality rules (datatrove's GopherQualityFilter)."""
    return GopherQualityFilter(params, label=ctx.label)
