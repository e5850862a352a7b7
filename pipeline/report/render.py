"""``report.json`` -> ``report.md`` and ``index.html`` (one self-contained file: inline CSS and SVG, no script).

The HTML loads nothing: no font, no stylesheet, no image, no JavaScript; every plot is inline SVG drawn in Python
(``svg.py``). Every string that came from data (document text, ids, URLs, sources, reasons) is HTML-escaped.
"""

from __future__ import annotations

from html import escape

from pipeline.report import svg
from pipeline.report.chinchilla import human_amount
from pipeline.report.extraction import extraction_html, extraction_markdown
from pipeline.report.languages import languages_html, languages_markdown
from pipeline.report.render_training import training_html, training_markdown

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:16px 24px;color:#222}
h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:right}
th{background:#f6f6f6}td.l,th.l{text-align:left}.ok{color:#2a7d2a}.bad{color:#b00020}
.grid{display:flex;flex-wrap:wrap;gap:12px}.muted{color:#666}.big{font-size:16px}
pre{white-space:pre-wrap;word-break:break-word;background:#f8f8f8;padding:8px;margin:4px 0 12px;max-height:16em;
overflow:auto;font-size:12px}details{margin:4px 0}summary{cursor:pointer}
"""


def _n(value) -> str:
    return "–" if value is None else f"{value:,}"


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _bytes(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} B"


def _epochs(x: float | None) -> str:
    return "–" if x is None else f"{x:,.2f}"


def _table(headers: list[str], rows: list[list[str]], left: int = 1) -> str:
    head = "".join(f'<th class="{"l" if i < left else ""}">{escape(h)}</th>' for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f'<td class="{"l" if i < left else ""}">{c}</td>' for i, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def headline(report: dict) -> str:
    c = report["chinchilla"]
    kept = report["totals"]["kept"]
    return (
        f"{kept['tokens']:,} tokens ({report['tokenizer']['name']}) in {kept['documents']:,} documents: "
        f"compute-optimal for a {c['optimal_parameters_label']}-parameter model "
        f"({c['tokens_per_parameter']:g} tokens per parameter)."
    )


# -- HTML ------------------------------------------------------------------------------------------------------
def _funnel_html(report: dict) -> str:
    sources = report["sources"]
    funnel = report["funnel"]
    rows = []
    for row in funnel:
        d = row.get("dropped")
        rows.append(
            [
                escape(row["stage"]),
                _n(row["documents"]),
                _n(row["tokens"]),
                _bytes(row["bytes"]),
                _n(d["documents"]) if d else "",
                _n(d["tokens"]) if d else "",
                _pct(row["tokens"] / funnel[0]["tokens"]) if funnel[0]["tokens"] else "",
            ]
        )
    table = _table(
        ["after stage", "documents", "tokens", "bytes", "dropped docs", "dropped tokens", "tokens left"], rows
    )
    per_source = []
    for src in sources:
        first, last = funnel[0]["by_source"][src], funnel[-1]["by_source"][src]
        per_source.append(
            [
                escape(src),
                _n(first["documents"]),
                _n(last["documents"]),
                _n(first["tokens"]),
                _n(last["tokens"]),
                _pct(last["tokens"] / first["tokens"]) if first["tokens"] else "",
            ]
        )
    by_source = _table(["source", "docs in", "docs kept", "tokens in", "tokens kept", "tokens kept %"], per_source)
    plots = "".join(
        svg.stacked_hbars(
            f"{what} after each stage, by source",
            [(row["stage"], {s: row["by_source"][s][key] for s in sources}) for row in funnel],
            sources,
            fmt=_bytes if key == "bytes" else svg.human,
        )
        for what, key in (("Tokens", "tokens"), ("Documents", "documents"), ("Bytes", "bytes"))
    )
    return f"<h2>Funnel</h2>{table}{by_source}<div>{plots}</div>"


def _reasons_html(report: dict) -> str:
    rows = [
        [
            escape(r["stage"]),
            escape(str(r["reason"])),
            _n(r["documents"]),
            _n(r["tokens"]),
            _bytes(r["bytes"]),
            _pct(r["share_of_input_tokens"]),
        ]
        for r in report["drop_reasons"]
    ]
    if not rows:
        return "<h2>Drop reasons</h2><p>No document was dropped.</p>"
    plot = svg.stacked_hbars(
        "Tokens dropped, by reason",
        [(f"{r['stage']}: {r['reason']}", {"tokens": r["tokens"]}) for r in report["drop_reasons"][:15]],
        ["tokens"],
    )
    return (
        "<h2>Drop reasons, ranked by tokens removed</h2>"
        + _table(["stage", "reason", "documents", "tokens", "bytes", "of input tokens"], rows, left=2)
        + plot
    )


def _chinchilla_html(report: dict) -> str:
    c = report["chinchilla"]
    models = [
        [
            escape(m["label"]),
            human_amount(m["optimal_tokens"]),
            f"{m['corpus_multiple']:,.3g}×",
            _epochs(m["epochs_for_optimal"]),
        ]
        for m in c["models"]
    ]
    budgets = [[escape(b["label"]), _epochs(b["epochs"]), escape(b["verdict"] or "")] for b in c["budgets"]]
    return (
        "<h2>Chinchilla budgets</h2>"
        f'<p class="big">This corpus is compute-optimal for a <b>{escape(c["optimal_parameters_label"])}</b>'
        f"-parameter model ({c['corpus_tokens']:,} tokens at {c['tokens_per_parameter']:g} tokens per parameter, "
        "Hoffmann et al. 2022).</p>"
        + _table(["model size", "compute-optimal tokens", "corpus / optimal", "epochs needed"], models)
        + "<p>Over-trained budgets, as small models are trained today:</p>"
        + _table(["token budget", "epochs of this corpus", "repetition"], budgets)
        + f'<p class="muted">{escape(c["reference"])}</p>'
    )


def _mixture_html(report: dict) -> str:
    sources = report["sources"]
    mix = report["mixture"]
    rows = [
        [
            escape(s),
            _n(mix[s]["documents"]),
            _n(mix[s]["tokens"]),
            _bytes(mix[s]["bytes"]),
            _pct(mix[s]["share_documents"]),
            _pct(mix[s]["share_tokens"]),
            _pct(mix[s]["share_bytes"]),
        ]
        for s in sources
    ]
    plot = svg.stacked_hbars(
        "Share of the final mixture",
        [(what, {s: 100 * mix[s][f"share_{what}"] for s in sources}) for what in ("documents", "tokens", "bytes")],
        sources,
        fmt=lambda v: f"{v:.1f}%",
    )
    return (
        "<h2>Final mixture</h2>"
        + _table(["source", "documents", "tokens", "bytes", "docs %", "tokens %", "bytes %"], rows)
        + plot
    )


def _quality_html(report: dict) -> str:
    plots = []
    order = sorted(report["histograms"], key=lambda k: (k != "token_count", k))
    for name in order:
        h = report["histograms"][name]
        groups = {g: v["counts"] for g, v in h["groups"].items()}
        title = "Document length in tokens" if name == "token_count" else name
        plots.append(svg.histogram(title, h["edges"], groups, log2=h["scale"] == "log2"))
    rows = []
    for name in order:
        for g, v in report["histograms"][name]["groups"].items():
            rows.append([escape(name), g, _n(v["n"]), f"{v['mean']:.4g}", f"{v['min']:.4g}", f"{v['max']:.4g}"])
    extra = []
    for label, d in report["dedup"].items():
        sizes = d["cluster_sizes"]
        extra.append(svg.vbars(f"Dedup cluster sizes ({label})", [str(k) for k in sizes], list(sizes.values())))
    pii = report["pii"]["by_type"]
    if pii:
        extra.append(svg.vbars("PII found, by type", list(pii), list(pii.values())))
    dedup_rows = [
        [escape(label), _n(d["clusters"]), _n(d["duplicates_removed"]), _n(d["largest_cluster"]), escape(d["from"])]
        for label, d in report["dedup"].items()
    ]
    notes = []
    notes.append(
        _table(["dedup stage", "clusters", "duplicates removed", "largest cluster", "from"], dedup_rows)
        if dedup_rows
        else '<p class="muted">No dedup clusters recorded in this output.</p>'
    )
    notes.append(
        _table(["PII type", "found"], [[escape(k), _n(v)] for k, v in pii.items()])
        if pii
        else '<p class="muted">No PII counts recorded in this output.</p>'
    )
    return (
        "<h2>Quality</h2>"
        f'<div class="grid">{"".join(plots)}</div>'
        + _table(["column", "group", "documents", "mean", "min", "max"], rows, left=2)
        + f'<h2>Dedup and PII</h2><div class="grid">{"".join(extra)}</div>'
        + "".join(notes)
    )


def _examples_html(report: dict) -> str:
    parts = [
        "<h2>Examples</h2><p class='muted'>First documents of each group, cut short; PII replaced by its type "
        f"(detector: {escape(str(report['pii'].get('examples_detector', {}).get('from', 'defaults')))}).</p>"
    ]
    for group, examples in report["examples"].items():
        title = "kept" if group == "kept" else f"dropped by {group}"
        parts.append(f"<h3>{escape(title)}</h3>")
        for i, e in enumerate(examples):
            head = f"{e['source']} · {e['id']} · {e['token_count']} tokens" + (
                f" · {e['reason']}" if e["reason"] else ""
            )
            url = f"<div class='muted'>{escape(e['url'])}</div>" if e.get("url") else ""
            parts.append(
                f"<details{' open' if i == 0 else ''}><summary>{escape(head)}</summary>{url}"
                f"<pre>{escape(e['text'])}</pre></details>"
            )
    return "".join(parts)


def _reconciliation_html(report: dict) -> str:
    rec = report["reconciliation"]
    rows = []
    for c in rec["checks"]:
        where = "stats.json" if "stats.json" in c else "manifest.json"
        ok = '<span class="ok">ok</span>' if c["ok"] else '<span class="bad">MISMATCH</span>'
        rows.append([escape(c["what"]), _n(c["report"]), _n(c[where]), where, ok])
    status = {
        True: '<span class="ok">all agree</span>',
        False: '<span class="bad">mismatches found</span>',
        None: '<span class="muted">nothing to check against (no stats.json, no manifest.json)</span>',
    }[rec["ok"]]
    return f"<h2>Reconciliation: {status}</h2>" + _table(["what", "report", "other", "file", ""], rows)


def render_html(report: dict) -> str:
    t = report["tokenizer"]
    totals = report["totals"]
    title = f"Curate report: {report.get('recipe') or report['output']}"
    summary = (
        f"<p class='big'>{escape(headline(report))}</p>"
        f"<p>Input {_n(totals['input']['documents'])} documents, {_n(totals['input']['tokens'])} tokens, "
        f"{_bytes(totals['input']['bytes'])}; kept {_n(totals['kept']['documents'])} documents, "
        f"{_n(totals['kept']['tokens'])} tokens, {_bytes(totals['kept']['bytes'])}"
        f"{'; bad input ' + _n(totals['bad_input']) if totals.get('bad_input') else ''}.</p>"
        f"<p class='muted'>Tokenizer {escape(t['name'])} (no special tokens; counts from the {escape(t['from'])}; "
        f"{t['rows_counted_by_report']:,} rows counted by the report). Output {escape(report['output'])}, "
        f"report created {escape(report['created'])}.</p>"
    )
    body = "".join(
        [
            f"<h1>{escape(title)}</h1>",
            summary,
            _chinchilla_html(report),
            training_html(report),
            _funnel_html(report),
            extraction_html(report, _table),
            _reasons_html(report),
            _mixture_html(report),
            languages_html(report, _table),
            _quality_html(report),
            _examples_html(report),
            _reconciliation_html(report),
        ]
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'; "
        'img-src data:">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>{body}</body></html>\n"
    )


# -- Markdown --------------------------------------------------------------------------------------------------
def _md_cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _md_table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def render_markdown(report: dict) -> str:
    c = report["chinchilla"]
    funnel = report["funnel"]
    out = [f"# Curate report: {report.get('recipe') or report['output']}\n", headline(report) + "\n"]
    out.append(
        f"Tokenizer `{report['tokenizer']['name']}` (no special tokens). Open `index.html` for the plots and examples.\n"
    )
    out.append("## Chinchilla budgets\n")
    out.append(
        _md_table(
            ["model size", "compute-optimal tokens", "corpus / optimal", "epochs needed"],
            [
                [
                    m["label"],
                    human_amount(m["optimal_tokens"]),
                    f"{m['corpus_multiple']:.3g}x",
                    _epochs(m["epochs_for_optimal"]),
                ]
                for m in c["models"]
            ],
        )
    )
    out.append(
        _md_table(
            ["token budget", "epochs of this corpus", "repetition"],
            [[b["label"], _epochs(b["epochs"]), b["verdict"] or ""] for b in c["budgets"]],
        )
    )
    out.append(training_markdown(report))
    out.append("## Funnel\n")
    out.append(
        _md_table(
            ["after stage", "documents", "tokens", "bytes", "dropped docs", "dropped tokens"],
            [
                [
                    r["stage"],
                    f"{r['documents']:,}",
                    f"{r['tokens']:,}",
                    f"{r['bytes']:,}",
                    f"{r['dropped']['documents']:,}" if "dropped" in r else "",
                    f"{r['dropped']['tokens']:,}" if "dropped" in r else "",
                ]
                for r in funnel
            ],
        )
    )
    if report.get("extraction"):
        out.append(extraction_markdown(report, _md_table))
    out.append("## Drop reasons (by tokens removed)\n")
    out.append(
        _md_table(
            ["stage", "reason", "documents", "tokens", "of input tokens"],
            [
                [r["stage"], r["reason"], f"{r['documents']:,}", f"{r['tokens']:,}", _pct(r["share_of_input_tokens"])]
                for r in report["drop_reasons"]
            ],
        )
    )
    out.append("## Final mixture\n")
    mix = report["mixture"]
    out.append(
        _md_table(
            ["source", "documents", "tokens", "tokens %"],
            [[s, f"{mix[s]['documents']:,}", f"{mix[s]['tokens']:,}", _pct(mix[s]["share_tokens"])] for s in mix],
        )
    )
    if report.get("languages"):
        out.append(languages_markdown(report, _md_table))
    if report["dedup"]:
        out.append("## Dedup\n")
        out.append(
            _md_table(
                ["stage", "clusters", "duplicates removed", "largest cluster"],
                [[k, d["clusters"], d["duplicates_removed"], d["largest_cluster"]] for k, d in report["dedup"].items()],
            )
        )
    if report["pii"]["by_type"]:
        out.append("## PII found\n")
        out.append(_md_table(["type", "found"], [[k, v] for k, v in report["pii"]["by_type"].items()]))
    rec = report["reconciliation"]
    verdict = {True: "all agree", False: "MISMATCHES", None: "nothing to check against"}[rec["ok"]]
    out.append(f"## Reconciliation: {verdict}\n")
    bad = [ch for ch in rec["checks"] if not ch["ok"]]
    out.append(
        f"{len(rec['checks'])} checks against stats.json and manifest.json"
        + (": " + "; ".join(ch["what"] for ch in bad) if bad else ", all equal.")
        + "\n"
    )
    return "\n".join(out)
