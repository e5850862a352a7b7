"""The extraction part of the funnel: for each source read from WARC files, pages read, dropped by URL-level stages
before extraction, extracted, and why the rest were not (``not_html``, ``undecodable``, ``empty``, ``timeout``,
``error``, ``crashed``).

Built from the output alone: ``stats.json`` (pages read per source, the ``extract`` step's ``extracted/<source>``
counters) and the drop ledger (``removed/extract/`` and the ledgers of the stages before it, by source and
reason). Empty when the run read no WARC source.
"""

from __future__ import annotations

from collections import Counter
from html import escape

LABEL = "extract"


def build_extraction(stats: dict | None, scan, stages: list[str]) -> dict:
    """``{"sources": {name: {...}}, "total": {...}}``, or ``{}`` when nothing was extracted."""
    if LABEL not in stages:
        return {}
    stage = next((s for s in (stats or {}).get("stages", []) if s["stage"] == LABEL), {})
    counters = stage.get("counters", {})
    before = stages[: stages.index(LABEL)]
    names = {k.split("/", 1)[1] for k in counters if k.startswith("extracted/")}
    names |= {src for (label, src, _) in scan.dropped if label == LABEL}
    out: dict[str, dict] = {}
    for src in sorted(names):
        reasons = Counter()
        for (label, s, reason), t in scan.dropped.items():
            if label == LABEL and s == src:
                reasons[reason] += t.documents
        dropped_before = sum(t.documents for (label, s, _), t in scan.dropped.items() if s == src and label in before)
        extracted = int(counters.get(f"extracted/{src}", 0))
        read = (stats or {}).get("sources", {}).get(src, {}).get("read")
        out[src] = {
            "pages_read": read,
            "dropped_before_extraction": dropped_before,
            "pages_extracted_from": extracted + sum(reasons.values()),
            "extracted": extracted,
            "not_extracted": dict(reasons.most_common()),
        }
    total: dict = {"pages_read": 0, "dropped_before_extraction": 0, "pages_extracted_from": 0, "extracted": 0}
    reasons = Counter()
    for row in out.values():
        for key in total:
            total[key] += row[key] or 0
        reasons.update(row["not_extracted"])
    total["not_extracted"] = dict(reasons.most_common())
    return {"stages_before": before, "sources": out, "total": total}


def _rows(extraction: dict) -> list[list]:
    rows = []
    for name, r in [*extraction["sources"].items(), ("all", extraction["total"])]:
        why = ", ".join(f"{k} {v:,}" for k, v in r["not_extracted"].items()) or "none"
        rows.append(
            [
                name,
                f"{r['pages_read']:,}" if r["pages_read"] is not None else "–",
                f"{r['dropped_before_extraction']:,}",
                f"{r['pages_extracted_from']:,}",
                f"{r['extracted']:,}",
                why,
            ]
        )
    return rows


HEADERS = ["source", "pages read", "dropped by URL before", "pages at extraction", "extracted", "not extracted (why)"]


def extraction_html(report: dict, table) -> str:
    ex = report.get("extraction")
    if not ex:
        return ""
    rows = [[escape(c) for c in r] for r in _rows(ex)]
    before = ", ".join(ex["stages_before"]) or "none"
    return (
        "<h2>Extraction (HTML to text)</h2>"
        f"<p class='muted'>Pages of WARC sources; stages before extraction: {escape(before)}.</p>"
        + table(HEADERS, rows)
    )


def extraction_markdown(report: dict, md_table) -> str:
    ex = report.get("extraction")
    if not ex:
        return ""
    return "## Extraction (HTML to text)\n\n" + md_table(HEADERS, _rows(ex))
