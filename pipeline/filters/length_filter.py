"""``length_filter``: keep documents whose word, character and line counts lie within bounds.

Drops a document whose text is shorter or longer than the user's bounds, with the reason naming the bound it
broke (``too_few_words``, ``too_many_chars``, ...). Words are whitespace-separated tokens and lines are
``\\n``-separated, which is cheap and tokenizer-independent, so it can run first and spare later stages the
obvious junk (empty pages, megabyte-long dumps).
"""

from __future__ import annotations

import pyarrow as pa
from datatrove.data import Document
from pydantic import NonNegativeInt

from pipeline.filters.signal_filter import SignalFilter
from pipeline.registry import StageContext, StageParams, register_stage


class LengthParams(StageParams):
    min_words: NonNegativeInt | None = None
    max_words: NonNegativeInt | None = None
    min_chars: NonNegativeInt | None = None
    max_chars: NonNegativeInt | None = None
    min_lines: NonNegativeInt | None = None
    max_lines: NonNegativeInt | None = None
    record_signals: bool = False


class LengthFilter(SignalFilter):
    name = "📏 Length"

    def __init__(self, params: LengthParams, label: str = "length_filter"):
        super().__init__(params, label)

    def signal_types(self) -> dict[str, pa.DataType]:
        return dict.fromkeys(("words", "chars", "lines"), pa.int64())

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        text = doc.text
        counts = {"words": len(text.split()), "chars": len(text), "lines": text.count("\n") + 1 if text else 0}
        if self.params.record_signals:
            for key, value in counts.items():
                doc.metadata[f"{self.label}.{key}"] = value
        p = self.params
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
