"""HTML and Markdown for the report's training sections (``training.py``): contamination and training tokens."""

from __future__ import annotations

from html import escape

from pipeline.report import svg
from pipeline.report.chinchilla import human_amount


def _contamination_rows(report: dict) -> list[list]:
    rows = []
    for label, stage in (report.get("contamination") or {}).items():
        for name, b in stage["benchmarks"].items():
            rows.append(
                [
                    label,
                    name,
                    b["items"],
                    b["items_found"],
                    b["documents_removed"],
                    b["tokens_removed"],
                    b["items_shorter_than_ngram"],
                ]
            )
    return rows


CONTAMINATION_HEADERS = [
    "stage",
    "benchmark",
    "items",
    "items found in corpus",
    "documents removed",
    "tokens removed",
    "items too short",
]
SOURCE_HEADERS = [
    "source",
    "target share",
    "achieved share",
    "target tokens",
    "tokens written",
    "tokens available",
    "epochs",
    "max epochs",
]


def _source_rows(t: dict, fmt_pct, fmt_n) -> list[list]:
    rows = []
    for name, s in t["sources"].items():
        target = s.get("target_share")
        rows.append(
            [
                name,
                fmt_pct(target) if target is not None else "–",
                fmt_pct(s["written_share"]),
                fmt_n(s.get("target_tokens")),
                fmt_n(s["written_tokens"]),
                fmt_n(s["available_tokens"]),
                f"{s['epochs']:.2f}",
                s.get("max_epochs", "–"),
            ]
        )
    return rows


def _budget_line(t: dict) -> str:
    c = t["chinchilla"]
    target = f" (target {t['target_tokens']:,})" if t.get("target_tokens") else ""
    return (
        f"{t['written_tokens']:,} training tokens (end-of-document tokens included){target} in {t['shards']} {t['format']} shard(s), "
        f"{t['unique_tokens']:,} of them unique ({t['repeated_tokens']:,} in repeated copies); "
        f"compute-optimal for a {c['optimal_parameters_label']}-parameter model at "
        f"{c['tokens_per_parameter']:g} tokens per parameter. Repeated first by: {t.get('score') or 'none'}."
    )


def training_html(report: dict) -> str:
    from pipeline.report.render import _n, _pct, _table  # noqa: PLC0415 - shared cell formatting

    parts = []
    rows = _contamination_rows(report)
    if rows:
        cells = [[escape(str(r[0])), escape(str(r[1]))] + [_n(v) for v in r[2:]] for r in rows]
        parts.append(
            "<h2>Benchmark contamination</h2><p>Documents sharing a word n-gram (lm-eval-harness normalisation) "
            "with an evaluation item were removed.</p>" + _table(CONTAMINATION_HEADERS, cells, left=2)
        )
    t = report.get("training_tokens")
    if t:
        cells = [[escape(str(r[0]))] + [escape(str(v)) for v in r[1:]] for r in _source_rows(t, _pct, _n)]
        hist = t["copies_histogram"]
        plot = svg.vbars("Documents by copies in the training tokens", list(hist), list(hist.values()))
        status = "" if t["consistent"] else '<p class="bad">The shards hold a different token count than planned.</p>'
        parts.append(
            "<h2>Training tokens</h2>"
            f"<p class='big'>{escape(_budget_line(t))}</p>{status}"
            + _table(SOURCE_HEADERS, cells)
            + plot
            + _table(["copies", "documents"], [[escape(k), _n(v)] for k, v in hist.items()])
            + f"<p class='muted'>Tokenizer {escape(str(t['tokenizer']))}, end of document "
            f"{escape(str(t['eos_token']))}, {escape(str(t['dtype']))}; budgets beside the Chinchilla table above "
            f"({human_amount(t['written_tokens'])} tokens).</p>"
        )
    return "".join(parts)


def training_markdown(report: dict) -> str:
    from pipeline.report.render import _md_table, _pct  # noqa: PLC0415

    out = []
    rows = _contamination_rows(report)
    if rows:
        out.append("## Benchmark contamination\n")
        out.append(_md_table(CONTAMINATION_HEADERS, [[f"{v:,}" if isinstance(v, int) else v for v in r] for r in rows]))
    t = report.get("training_tokens")
    if t:
        out.append("## Training tokens\n")
        out.append(_budget_line(t) + "\n")
        out.append(_md_table(SOURCE_HEADERS, _source_rows(t, _pct, lambda v: "–" if v is None else f"{v:,}")))
        out.append(_md_table(["copies", "documents"], [[k, v] for k, v in t["copies_histogram"].items()]))
    return "\n".join(out)
