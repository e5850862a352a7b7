"""``redpajama_v2_signals``: keep RedPajama-V2 documents by thresholds on the quality signals they ship with.

RedPajama-V2 publishes, next to each document, ~40 precomputed quality signals (CCNet, Gopher, C4, ML and
repetition measures) as ``{name: [[start, end, score], ...]}``: a document-level signal is one span over the
whole text, a ``rps_lines_*`` signal has one span per line. The RPv2 reader keeps them in
``doc.metadata["original"]["quality_signals"]``. This stage applies the user's bounds to them and never
recomputes anything, so a 30-trillion-token corpus is filtered at the cost of reading numbers.

Each rule is ``{signal: {min: x, max: y, aggregate: ...}}`` (bounds inclusive). ``aggregate`` turns the spans
into one number: ``value`` (default; the single document-level span), or ``mean`` / ``sum`` / ``min`` / ``max``
over the spans (for the line-level signals). A document breaking a rule is dropped with the reason
``<signal>_below_min`` or ``<signal>_above_max``; one without the signal (absent or null score) is kept, or
dropped as ``<signal>_missing`` with ``on_missing: drop``. Rules run in the order written. With
``record_signals`` the aggregated values are kept as ``<label>.<signal>`` columns.
"""

from __future__ import annotations

import math
from typing import Literal

import orjson
import pyarrow as pa
from datatrove.data import Document
from pydantic import model_validator

from pipeline.filters.signal_filter import SignalFilter
from pipeline.registry import StageContext, StageParams, register_stage

Aggregate = Literal["value", "mean", "sum", "min", "max"]


class SignalRule(StageParams):
    min: float | None = None
    max: float | None = None
    aggregate: Aggregate = "value"


class RedPajamaV2SignalsParams(StageParams):
    thresholds: dict[str, SignalRule]
    on_missing: Literal["keep", "drop"] = "keep"
    signals_field: str = "quality_signals"  # key inside doc.metadata["original"] (or doc.metadata)
    record_signals: bool = False

    @model_validator(mode="after")
    def _check_rules(self) -> RedPajamaV2SignalsParams:
        if not self.thresholds:
            raise ValueError("redpajama_v2_signals: give at least one signal in thresholds")
        for name, rule in self.thresholds.items():
            if rule.min is None and rule.max is None:
                raise ValueError(f"redpajama_v2_signals: signal {name!r} needs min and/or max")
            if name.startswith("rps_lines_") and rule.aggregate == "value":
                raise ValueError(
                    f"redpajama_v2_signals: {name!r} has one span per line: set aggregate to mean, sum, min or max"
                )
        return self


def aggregate_spans(spans: object, how: str) -> float | None:
    """One number from RPv2 spans ``[[start, end, score], ...]``; None when absent, malformed or null."""
    if not isinstance(spans, list) or not spans:
        return None
    scores = []
    for span in spans:
        if not isinstance(span, (list, tuple)) or len(span) != 3:
            return None
        score = span[2]
        if score is None or isinstance(score, bool) or not isinstance(score, (int, float)) or math.isnan(score):
            return None
        scores.append(float(score))
    if how == "value":
        return scores[0] if len(scores) == 1 else None
    if how == "mean":
        return math.fsum(scores) / len(scores)
    if how == "sum":
        return math.fsum(scores)
    return min(scores) if how == "min" else max(scores)


class RedPajamaV2SignalsFilter(SignalFilter):
    name = "🧮 RedPajama-V2 signals"

    def __init__(self, params: RedPajamaV2SignalsParams, label: str = "redpajama_v2_signals"):
        super().__init__(params, label)

    def signal_types(self) -> dict[str, pa.DataType]:
        return dict.fromkeys(self.params.thresholds, pa.float64())

    def _signals(self, doc: Document) -> dict:
        field = self.params.signals_field
        original = doc.metadata.get("original")
        found = original.get(field) if isinstance(original, dict) else None
        if found is None:
            found = doc.metadata.get(field)
        if isinstance(found, (str, bytes)):
            try:
                found = orjson.loads(found)
            except orjson.JSONDecodeError:
                found = None
        return found if isinstance(found, dict) else {}

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        p = self.params
        signals = self._signals(doc)
        verdict: str | None = None
        for name, rule in p.thresholds.items():
            value = aggregate_spans(signals.get(name), rule.aggregate)
            if p.record_signals:
                doc.metadata[f"{self.label}.{name}"] = value
            if verdict is None:
                if value is None:
                    self.stat_update(f"missing_{name}")
                    if p.on_missing == "drop":
                        verdict = f"{name}_missing"
                elif rule.min is not None and value < rule.min:
                    verdict = f"{name}_below_min"
                elif rule.max is not None and value > rule.max:
                    verdict = f"{name}_above_max"
                if verdict is not None and not p.record_signals:
                    break
        return True if verdict is None else (False, verdict)


@register_stage("redpajama_v2_signals", RedPajamaV2SignalsParams)
def build_redpajama_v2_signals(params: RedPajamaV2SignalsParams, ctx: StageContext) -> RedPajamaV2SignalsFilter:
    """Keep RedPajama-V2 documents whose precomputed quality signals lie within the given bounds."""
    return RedPajamaV2SignalsFilter(params, label=ctx.label)
