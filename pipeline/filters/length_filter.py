"""``length_filter``: keep documents whose word, character and line counts lie within bounds.

Drops a document whose text is shorter or longer than the user's bounds, with the reason naming the bound it
broke (``too_few_words``, ``too_many_chars``, ...). Words are whitespace-separated tokens and lines are
``\\n``-separated, which is cheap and tokenizer-independent, so it can run first and spare later stages the
obvious junk (empty pages, megabyte-long dumps). With ``language`` set, words are that language's words as
datatrove's word tokenizer splits them (jieba for Chinese, ...), shared with the other filters; ``language: auto``
takes each document's language from ``language_filter``, and ``thresholds`` reads bounds per language from a file
``curate calibrate`` wrote (see ``thresholds.py``).
"""

from __future__ import annotations

import pyarrow as pa
from datatrove.data import Document
from pydantic import NonNegativeInt

from pipeline.filters.thresholds import LanguageAwareFilter, UnconfiguredAction
from pipeline.filters.word_analysis import analyze
from pipeline.recipe_paths import RecipePathOrName
from pipeline.registry import StageContext, StageParams, register_stage


class LengthParams(StageParams):
    min_words: NonNegativeInt | None = None
    max_words: NonNegativeInt | None = None
    min_chars: NonNegativeInt | None = None
    max_chars: NonNegativeInt | None = None
    min_lines: NonNegativeInt | None = None
    max_lines: NonNegativeInt | None = None
    language: str | None = None  # None: whitespace-separated words; a language (or auto): its word tokenizer
    thresholds: RecipePathOrName | None = None  # a file written by `curate calibrate`
    unconfigured_language: UnconfiguredAction = "keep"
    record_signals: bool = False


class LengthFilter(LanguageAwareFilter):
    name = "📏 Length"
    stage_name = "length_filter"

    def __init__(self, params: LengthParams, label: str = "length_filter"):
        super().__init__(params, label)

    def signal_types(self) -> dict[str, pa.DataType]:
        return dict.fromkeys(("words", "chars", "lines"), pa.int64())

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        p = self.document_params(doc)
        if p is None:
            return self.unconfigured()
        text = doc.text
        words = len(text.split()) if p.language is None else analyze(text, p.language).n_words
        counts = {"words": words, "chars": len(text), "lines": text.count("\n") + 1 if text else 0}
        if self.params.record_signals:
            for key, value in counts.items():
                doc.metadata[f"{self.label}.{key}"] = value
        for key, low, high in (
            ("words", p.min_words, p.max_words),
            ("chars", p.min_chars, p.max_chars),
            ("lines", p.min_lines, p.max_lines),
        ):
            if low is not None and counts[key] < low:
                return False, f"too_few_{key}"
            if high is not None and counts[key] > high:
                return False, f"too_many_{key}"
        return True


@register_stage("length_filter", LengthParams)
def build_length_filter(params: LengthParams, ctx: StageContext) -> LengthFilter:
    """Keep documents whose word, character and line counts lie within the given bounds."""
    return LengthFilter(params, label=ctx.label)
