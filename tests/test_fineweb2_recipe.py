"""The shipped ``fineweb2`` recipe: one run over real multilingual pages, filtered per document language.

Runs ``curate run fineweb2`` on its shipped samples (Common Crawl pages in Chinese, Russian, German, Dutch,
Spanish and English; readability pages in Japanese, Chinese, French, ...) and checks against the output alone:
every kept or dropped document carries a language, the Chinese pages were judged with FineWeb-2's Chinese settings
(the decisions equal datatrove's filters built for ``cmn_Hani`` on the same text), and the report's per-language
funnel adds up to the rows on disk.
"""

from __future__ import annotations

from collections import Counter

from conftest import load_json, read_rows, run_curate
from datatrove.data import Document


def test_fineweb2_recipe_routes_each_language_and_reports_it(tmp_path):
    out = tmp_path / "out"
    assert run_curate("run", "fineweb2", "--output", str(out), "--tasks", "1", "--workers", "1") == 0
    kept = read_rows(out / "data")
    dropped = {p.name: read_rows(p) for p in (out / "removed").iterdir()}
    assert all(r["language"] for r in kept)
    languages = Counter(r["language"] for r in kept)
    assert {"zh", "ja", "de", "ru", "en"} <= set(languages) | {r["language"] for rows in dropped.values() for r in rows}

    # Chinese pages met FineWeb-2's Chinese rules: the first rule datatrove's filters (built as FineWeb-2's script
    # builds them) break is the reason in the ledger, and kept pages break none
    from test_filters_parity_multilingual import datatrove_filters, outcome

    reference = datatrove_filters("cmn_Hani")
    order = ["gopher_repetition", "fineweb_quality", "gopher_quality"]
    zh_rows = [(r, None) for r in kept if r["language"] == "zh"]
    zh_rows += [(r, stage) for stage, rows in dropped.items() for r in rows if r["language"] == "zh"]
    assert len(zh_rows) >= 5
    for row, stage in zh_rows:
        if stage == "language_filter":
            continue
        verdicts = [(s, outcome(reference[s].filter(Document(text=row["text"], id="x")))) for s in order]
        failing = [(s, v) for s, v in verdicts if v is not None]
        if stage is None:
            assert not failing, (row["id"], failing)
        else:
            assert failing and failing[0] == (stage, row["reason"]), (row["id"], failing, stage, row["reason"])

    report = load_json(out / "report" / "report.json")
    by_language = {r["language"]: r for r in report["languages"]}
    assert sum(r["input"]["documents"] for r in report["languages"]) == report["totals"]["input"]["documents"]
    for language, n in languages.items():
        assert by_language[language]["kept"]["documents"] == n
    zh_dropped = Counter(stage for stage, rows in dropped.items() for r in rows if r["language"] == "zh")
    assert {k: v["documents"] for k, v in by_language["zh"]["dropped_by_stage"].items()} == dict(zh_dropped)
