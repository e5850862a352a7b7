"""``curate calibrate``: propose filter thresholds for a language or domain from a reference corpus.

FineWeb-2 set its per-language thresholds by looking at each filter signal's distribution on reference text in
the language and picking cut-offs by hand; it published the values, not a tool. This does that computation:

1. Every document of the reference corpus (text the user trusts: Wikipedia, hand-picked pages) and of the target
   corpus (what is to be filtered) goes through ``gopher_repetition``, ``fineweb_quality``, ``gopher_quality`` and
   ``length_filter`` with ``record_signals``, with the language's word tokenizer. Each filter sees the document
   as it comes (not the output of the previous one), so each signal is measured on the same text.
2. For every threshold parameter, the signal it bounds is cut at the reference quantile that keeps ``keep`` of the
   reference on its own: the ``keep`` quantile for an upper bound (``dup_line_frac``, ``top_2_gram`` ...), the
   ``1 - keep`` quantile for a lower bound (``line_punct_thr``, ``max_non_alpha_words_ratio`` which bounds the
   share of alphabetic words from below, ``min_stop_words``). Values are rounded outwards (3 decimals, or whole
   numbers where the parameter is an integer), so the share kept is never below ``keep``. Where the quantile of
   an upper bound is 0 and 0 would switch the rule off (datatrove's convention), the smallest positive reference
   value is taken instead.
3. Stop words: the language's list (FineWeb-2's, or Gopher's English list) unless ``stop_words`` > 0 asks for the
   words found in the most reference documents (FineWeb-2's lists are of that kind).
   With ``chain_keep`` the per-threshold share is instead the smallest one whose thresholds together keep
   ``chain_keep`` of the reference (bisection on the reference's signals).
4. The proposed settings are run as filters over both corpora: the report gives, per threshold, the share of each
   corpus it keeps alone, and per stage and for the whole chain the share both keep. The thresholds file holds
   ``languages: {<code>: {<stage>: {...}}}`` (what ``thresholds: <file>`` reads) and this report under
   ``calibration``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from datatrove.data import Document

from pipeline.filters.languages import fineweb2_configs, resolve_language

STAGES = ("gopher_repetition", "fineweb_quality", "gopher_quality", "length_filter")


@dataclass(frozen=True)
class Bound:
    stage: str
    parameter: str  # "top_n_grams:2" for one entry of a list parameter
    signal: str
    upper: bool  # True: the rule drops values above; False: below
    integer: bool = False
    zero_disables: bool = True  # datatrove skips a rule whose threshold is 0 / None


BOUNDS = (
    Bound("gopher_repetition", "dup_para_frac", "dup_para_frac", True),
    Bound("gopher_repetition", "dup_para_char_frac", "dup_para_char_frac", True),
    Bound("gopher_repetition", "dup_line_frac", "dup_line_frac", True),
    Bound("gopher_repetition", "dup_line_char_frac", "dup_line_char_frac", True),
    *(Bound("gopher_repetition", f"top_n_grams:{n}", f"top_{n}_gram", True, zero_disables=False) for n in (2, 3, 4)),
    *(
        Bound("gopher_repetition", f"dup_n_grams:{n}", f"duplicated_{n}_n_grams", True, zero_disables=False)
        for n in range(5, 11)
    ),
    Bound("fineweb_quality", "line_punct_thr", "line_punct_ratio", False, zero_disables=False),
    Bound("fineweb_quality", "short_line_thr", "short_line_ratio", True, zero_disables=False),
    Bound("fineweb_quality", "char_duplicates_ratio", "char_dup_ratio", True, zero_disables=False),
    Bound("fineweb_quality", "new_line_ratio", "list_ratio", True, zero_disables=False),
    Bound("gopher_quality", "min_doc_words", "doc_words", False, integer=True),
    Bound("gopher_quality", "min_avg_word_length", "avg_word_length", False, integer=True),
    Bound("gopher_quality", "max_avg_word_length", "avg_word_length", True, integer=True),
    Bound("gopher_quality", "max_symbol_word_ratio", "symbol_word_ratio", True),
    Bound("gopher_quality", "max_bullet_lines_ratio", "bullet_lines_ratio", True),
    Bound("gopher_quality", "max_ellipsis_lines_ratio", "end_ellipsis_lines_ratio", True),
    Bound("gopher_quality", "max_non_alpha_words_ratio", "alpha_words_ratio", False),
    Bound("gopher_quality", "min_stop_words", "stop_words", False, integer=True),
    Bound("length_filter", "min_words", "words", False, integer=True),
    Bound("length_filter", "min_chars", "chars", False, integer=True),
    Bound("length_filter", "min_lines", "lines", False, integer=True),
)


def _build(stage: str, params: dict[str, Any]):
    from pipeline.registry import StageContext, get_stage

    spec = get_stage(stage)
    ctx = StageContext(name=stage, label=stage, output_dir="", work_dir="", tasks=1)
    return spec.factory(spec.params.model_validate(params), ctx)


def known_stop_words(code: str) -> list[str] | None:
    """FineWeb-2's stop words for the language; None: the filter's default (Gopher's English list)."""
    config = fineweb2_configs().get(code)
    return None if config is None else list(config["stopwords"])


def frequent_words(texts: Iterable[str], language: str, n: int) -> list[str]:
    """The ``n`` alphabetic words found in the most documents (ties: the more frequent overall, then by text)."""
    from pipeline.filters.word_analysis import analyze

    documents: Counter[str] = Counter()
    occurrences: Counter[str] = Counter()
    for text in texts:
        words = [w for w in analyze(text, language).words if any(ch.isalpha() for ch in w)]
        occurrences.update(words)
        documents.update(set(words))
    ranked = sorted(documents, key=lambda w: (-documents[w], -occurrences[w], w))
    return ranked[:n]


def measure(texts: list[str], language: str, stop_words: list[str] | None) -> dict[str, np.ndarray]:
    """``<stage>.<signal>`` -> values over ``texts`` (NaN where a signal is undefined)."""
    filters = {}
    for stage in STAGES:
        params: dict[str, Any] = {"language": language, "record_signals": True}
        if stage == "gopher_quality" and stop_words is not None:
            params["stop_words"] = stop_words
        filters[stage] = _build(stage, params)
    columns: dict[str, list[float]] = {}
    for text in texts:
        for stage_filter in filters.values():
            doc = Document(text=text, id="calibrate")
            stage_filter.filter(doc)
            for key, value in doc.metadata.items():
                columns.setdefault(key, []).append(math.nan if value is None else float(value))
        hashes = columns.get("gopher_quality.hash_word_ratio", [math.nan])[-1]
        ellipses = columns.get("gopher_quality.ellipsis_word_ratio", [math.nan])[-1]
        columns.setdefault("gopher_quality.symbol_word_ratio", []).append(max(hashes, ellipses))
    return {k: np.asarray(v, dtype=np.float64) for k, v in columns.items()}


def propose(bound: Bound, values: np.ndarray, keep: float) -> float | int | None:
    """The threshold keeping at least ``keep`` of ``values`` on its own (None: no defined value)."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    q = float(np.quantile(values, keep if bound.upper else 1 - keep, method="higher" if bound.upper else "lower"))
    if bound.upper and q == 0 and bound.zero_disables:
        positive = values[values > 0]
        q = float(positive.min()) if positive.size else 0.0
    if bound.integer:
        return int(math.ceil(q) if bound.upper else math.floor(q))
    return (math.ceil(q * 1000) / 1000) if bound.upper else (math.floor(q * 1000) / 1000)


def kept_alone(bound: Bound, values: np.ndarray, threshold: float | int | None) -> float:
    """Share of documents this threshold keeps on its own, by the filter's own comparison (NaN: kept)."""
    if threshold is None or (bound.zero_disables and not threshold) or values.size == 0:
        return 1.0
    with np.errstate(invalid="ignore"):
        dropped = values > threshold if bound.upper else values < threshold
    return float(1 - np.count_nonzero(dropped) / values.size)


def settings_from(proposed: dict[Bound, Any], stop_words: list[str] | None) -> dict[str, dict[str, Any]]:
    """The stage parameters of a thresholds file from the proposed values."""
    settings: dict[str, dict[str, Any]] = {stage: {} for stage in STAGES}
    lists: dict[tuple[str, str], list[list]] = {}
    for bound, value in proposed.items():
        if ":" in bound.parameter:
            name, n = bound.parameter.split(":")
            if value is not None:
                lists.setdefault((bound.stage, name), []).append([int(n), value])
        else:
            settings[bound.stage][bound.parameter] = value
    for (stage, name), entries in lists.items():
        settings[stage][name] = entries
    if stop_words is not None:
        settings["gopher_quality"]["stop_words"] = stop_words
    return settings


def chain_kept(texts: list[str], language: str, settings: dict[str, dict[str, Any]]) -> dict[str, list[bool]]:
    """Per stage, which documents the proposed settings keep (each stage on the document as given)."""
    out = {}
    for stage in STAGES:
        stage_filter = _build(stage, {"language": language, **settings[stage]})
        out[stage] = [stage_filter.filter(Document(text=t, id="calibrate")) is True for t in texts]
    return out


def estimated_chain_keep(signals: dict[str, np.ndarray], keep: float) -> float:
    """Share of the documents that every threshold proposed at ``keep`` keeps (from the signals alone)."""
    kept: np.ndarray | None = None
    for bound in BOUNDS:
        values = signals.get(f"{bound.stage}.{bound.signal}", np.array([]))
        threshold = propose(bound, values, keep)
        if values.size == 0 or threshold is None or (bound.zero_disables and not threshold):
            continue
        with np.errstate(invalid="ignore"):
            ok = ~(values > threshold if bound.upper else values < threshold)
        kept = ok if kept is None else kept & ok
    return 1.0 if kept is None else float(kept.mean())


def keep_for_chain(signals: dict[str, np.ndarray], chain_keep: float) -> float:
    """The smallest per-threshold share (bisection) whose thresholds together keep ``chain_keep`` of the reference."""
    low, high = chain_keep, 1.0
    if estimated_chain_keep(signals, low) >= chain_keep:
        return low
    for _ in range(30):
        middle = (low + high) / 2
        if estimated_chain_keep(signals, middle) >= chain_keep:
            high = middle
        else:
            low = middle
    return high


def calibrate(
    reference: list[str],
    target: list[str],
    language: str,
    keep: float = 0.95,
    stop_words: int = 0,
    chain_keep: float | None = None,
) -> dict[str, Any]:
    """The thresholds file's content: proposed settings for ``language`` and the report of what they keep.

    ``keep``: the share of the reference each threshold keeps on its own; ``chain_keep`` instead: the share all of
    them keep together (the per-threshold share is then found by bisection on the reference's signals).
    """
    for name, share in (("keep", keep), ("chain_keep", chain_keep)):
        if share is not None and not 0 < share <= 1:
            raise ValueError(f"{name} must be in (0, 1], got {share}")
    if not reference:
        raise ValueError("the reference corpus has no documents")
    code = resolve_language(language)
    words = frequent_words(reference, code, stop_words) if stop_words > 0 else known_stop_words(code)
    ref_signals = measure(reference, code, words)
    tgt_signals = measure(target, code, words) if target else {}
    if chain_keep is not None:
        keep = keep_for_chain(ref_signals, chain_keep)
    proposed: dict[Bound, Any] = {}
    rows = []
    for bound in BOUNDS:
        key = f"{bound.stage}.{bound.signal}"
        value = propose(bound, ref_signals.get(key, np.array([])), keep)
        proposed[bound] = value
        rows.append(
            {
                "stage": bound.stage,
                "parameter": bound.parameter,
                "signal": bound.signal,
                "bound": "upper" if bound.upper else "lower",
                "value": value,
                "reference_kept": round(kept_alone(bound, ref_signals.get(key, np.array([])), value), 4),
                "target_kept": round(kept_alone(bound, tgt_signals.get(key, np.array([])), value), 4)
                if target
                else None,
            }
        )
    settings = settings_from(proposed, words)
    report: dict[str, Any] = {"keep": keep, "chain_keep": chain_keep, "thresholds": rows, "stages": {}, "chain": {}}
    for name, texts in (("reference", reference), ("target", target)):
        if not texts:
            continue
        kept = chain_kept(texts, code, settings)
        for stage, flags in kept.items():
            report["stages"].setdefault(stage, {})[f"{name}_kept"] = round(sum(flags) / len(flags), 4)
        all_kept = [all(flags) for flags in zip(*kept.values(), strict=True)]
        report["chain"][f"{name}_kept"] = round(sum(all_kept) / len(all_kept), 4)
        report["chain"][f"{name}_documents"] = len(texts)
    return {"languages": {code: settings}, "calibration": report}


def markdown_report(result: dict[str, Any], reference: str, target: str | None) -> str:
    """The calibration report as a Markdown table."""
    (code,) = result["languages"]
    report = result["calibration"]
    lines = [
        f"# Thresholds for {code} calibrated on {reference}",
        "",
        f"Each threshold keeps at least {report['keep']:.2%} of the reference on its own"
        + (f" (chosen so that together they keep {report['chain_keep']:.0%})" if report.get("chain_keep") else "")
        + (f"; target: {target}." if target else "."),
        "",
        "| stage | parameter | signal | bound | value | reference kept | target kept |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report["thresholds"]:
        target_kept = "" if r["target_kept"] is None else f"{r['target_kept']:.1%}"
        lines.append(
            f"| {r['stage']} | {r['parameter']} | {r['signal']} | {r['bound']} | {r['value']} | "
            f"{r['reference_kept']:.1%} | {target_kept} |"
        )
    lines += ["", "| stage | reference kept | target kept |", "|---|---|---|"]
    for stage, shares in [*report["stages"].items(), ("whole chain", report["chain"])]:
        target_kept = f"{shares['target_kept']:.1%}" if "target_kept" in shares else ""
        lines.append(f"| {stage} | {shares['reference_kept']:.1%} | {target_kept} |")
    return "\n".join(lines) + "\n"
