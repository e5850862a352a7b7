"""The report's per-language breakdown: documents, tokens and bytes per language at the input, per stage, kept.

A document's language is the ``language`` column ``language_filter`` wrote (the lid.176 label, or GlotLID's code);
documents no stage labelled (dropped before language ID, or a run without it) are counted under ``(none)``. A
language's input is what was kept plus what every stage dropped; the funnel then subtracts each stage's drops in
recipe order, as the main funnel does per source.
"""

from __future__ import annotations

from html import escape

from pipeline.report.scan import Scan, Tally

NONE = "(none)"


def build_languages(scan: Scan, stages: list[str]) -> list[dict]:
    """One row per language, most kept tokens first; empty when no shard has a language column."""
    if not scan.has_language:
        return []
    names = set(scan.kept_by_language) | {language for _, language in scan.dropped_by_language}
    kept_total = sum(t.tokens for t in scan.kept_by_language.values())
    rows = []
    for language in names:
        kept = scan.kept_by_language.get(language, Tally())
        total = Tally(kept.documents, kept.tokens, kept.bytes)
        dropped = {}
        for label in stages:
            d = scan.dropped_by_language.get((label, language))
            if d is not None and d.documents:
                dropped[label] = d.as_dict()
                total.add(d.documents, d.tokens, d.bytes)
        rows.append(
            {
                "language": language if language is not None else NONE,
                "input": total.as_dict(),
                "dropped_by_stage": dropped,
                "kept": kept.as_dict(),
                "kept_share_of_input_tokens": kept.tokens / total.tokens if total.tokens else 0.0,
                "share_of_kept_tokens": kept.tokens / kept_total if kept_total else 0.0,
            }
        )
    return sorted(rows, key=lambda r: (-r["kept"]["tokens"], -r["input"]["tokens"], r["language"]))


def _stage_drops(row: dict) -> str:
    return ", ".join(f"{label} {d['documents']:,}" for label, d in row["dropped_by_stage"].items())


def languages_html(report: dict, table) -> str:
    rows = report.get("languages") or []
    if not rows:
        return ""
    body = [
        [
            escape(r["language"]),
            f"{r['input']['documents']:,}",
            f"{r['input']['tokens']:,}",
            f"{r['kept']['documents']:,}",
            f"{r['kept']['tokens']:,}",
            f"{100 * r['kept_share_of_input_tokens']:.1f}%",
            f"{100 * r['share_of_kept_tokens']:.1f}%",
            escape(_stage_drops(r)),
        ]
        for r in rows
    ]
    headers = [
        "language",
        "input docs",
        "input tokens",
        "kept docs",
        "kept tokens",
        "tokens kept",
        "of output",
        "dropped by",
    ]
    return "<h2>By language</h2>" + table(headers, body)


def languages_markdown(report: dict, md_table) -> str:
    rows = report.get("languages") or []
    if not rows:
        return ""
    return "## By language\n\n" + md_table(
        ["language", "input docs", "input tokens", "kept docs", "kept tokens", "tokens kept", "dropped by"],
        [
            [
                r["language"],
                f"{r['input']['documents']:,}",
                f"{r['input']['tokens']:,}",
                f"{r['kept']['documents']:,}",
                f"{r['kept']['tokens']:,}",
                f"{100 * r['kept_share_of_input_tokens']:.1f}%",
                _stage_drops(r),
            ]
            for r in rows
        ],
    )
