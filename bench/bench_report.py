"""``curate report`` on a run's output against the least a user would run by hand: one DuckDB query per folder.

Builds an output with ``curate run`` (real web text from ../shared/data, repeated up to --docs; ``token_count``
then a length filter, so there is a ledger), then times, one after the other on the same output:

* anchor: DuckDB, ``SELECT source, count(*), sum(token_count), sum(octet_length(text)) ... GROUP BY source`` over
  ``data/`` and over each ``removed/<stage>/`` (the bare funnel numbers, nothing else);
* curate: ``build_report`` (funnel, reasons, histograms, examples, reconciliation) plus writing the three files.

The two must agree on the documents, tokens and bytes kept per source. Throughput is in rows per second.

    python bench/bench_report.py --docs 4000
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys

from common import BENCH_OUT, REPO, real_texts, report, timed

sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=4000)
    args = parser.parse_args()

    import duckdb
    import yaml

    from pipeline.cli import main as curate
    from pipeline.report import write_report

    root = BENCH_OUT / "report"
    shutil.rmtree(root, ignore_errors=True)
    (root / "in").mkdir(parents=True)
    texts = real_texts()
    with open(root / "in" / "docs.jsonl", "w") as f:
        for i in range(args.docs):
            f.write(json.dumps({"id": str(i), "text": texts[i % len(texts)]}) + "\n")
    recipe = {
        "name": "bench-report",
        "sources": [{"name": "web", "format": "jsonl", "path": str(root / "in")}],
        "stages": [{"token_count": {}}, {"length_filter": {"min_words": 300, "record_signals": True}}],
        "output": {"path": str(root / "out")},
        "executor": {"tasks": 2, "workers": 2},
    }
    (root / "r.yaml").write_text(yaml.safe_dump(recipe))
    assert curate(["run", str(root / "r.yaml"), "--overwrite"]) == 0
    out = root / "out"
    folders = [out / "data", *sorted((out / "removed").iterdir())]
    rows = {}

    def run_duckdb() -> int:
        n = 0
        for folder in folders:
            result = duckdb.sql(
                f"SELECT source, count(*), sum(token_count), sum(octet_length(encode(text))) "
                f"FROM read_parquet('{folder}/part-*.parquet') GROUP BY source"
            ).fetchall()
            rows[folder.name] = {r[0]: (r[1], r[2], r[3]) for r in result}
            n += sum(r[1] for r in result)
        return n

    built = {}

    def run_curate() -> int:
        built["report"], _ = write_report(str(out), show_progress=False)
        return built["report"]["totals"]["input"]["documents"]

    anchor = timed(run_duckdb, repeat=2)
    ours = timed(run_curate, repeat=2)
    report("report over data/ + removed/ (rows/s)", "rows", "duckdb group-by", anchor, ours)
    kept = built["report"]["mixture"]["web"]
    assert rows["data"]["web"] == (kept["documents"], kept["tokens"], kept["bytes"]), (rows["data"], kept)
    print(f"  kept: {kept['documents']:,} documents, {kept['tokens']:,} tokens, {kept['bytes']:,} bytes (both agree)")


if __name__ == "__main__":
    main()
