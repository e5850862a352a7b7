"""The report works from whatever the output holds: no token_count stage, nothing kept, files missing, bad text."""

from __future__ import annotations

import json
import shutil

import duckdb
from conftest import SAMPLES, load_json, run_curate, write_recipe
from datatrove.data import Document
from datatrove.pipeline.tokens.counter import TokensCounter

from pipeline.report import write_report
from pipeline.tokens.token_count import TokenCounter, TokenCountParams
from pipeline.tokens.tokenizer import count_tokens, load_tokenizer, resolve_tokenizer

C4 = {"name": "c4", "format": "jsonl", "path": str(SAMPLES / "jsonl")}
RP1 = {"name": "rp1", "format": "redpajama-v1", "path": str(SAMPLES / "redpajama-v1")}


def run(tmp_path, stages, sources=(C4, RP1), name="r"):
    out = tmp_path / name
    recipe = write_recipe(
        tmp_path / f"{name}.yaml",
        {
            "name": name,
            "sources": list(sources),
            "stages": stages,
            "output": {"path": str(out)},
            "executor": {"tasks": 1},
        },
    )
    assert run_curate("run", recipe) == 0
    return out


def texts(out, sub):
    files = sorted((out / sub).glob("part-*.parquet"))
    if not files:
        return []
    paths = ", ".join(f"'{f}'" for f in files)
    return [t for (t,) in duckdb.sql(f"SELECT text FROM read_parquet([{paths}])").fetchall()]


def test_without_token_count_stage_the_report_counts_with_gpt2(tmp_path):
    out = run(tmp_path, [{"length_filter": {"min_words": 200}}])
    report = load_json(out / "report" / "report.json")
    assert report["tokenizer"]["name"] == "gpt2" and report["tokenizer"]["from"] == "report"
    gpt2 = load_tokenizer("gpt2")
    kept, dropped = texts(out, "data"), texts(out, "removed/length_filter")
    assert kept and dropped
    assert report["totals"]["kept"]["tokens"] == sum(count_tokens(gpt2, kept))
    assert report["totals"]["input"]["tokens"] == sum(count_tokens(gpt2, kept + dropped))
    assert report["tokenizer"]["rows_counted_by_report"] == len(kept) + len(dropped)
    assert report["reconciliation"]["ok"]


def test_nothing_kept_and_files_missing(tmp_path):
    out = run(tmp_path, [{"token_count": {}}, {"length_filter": {"min_words": 10**9}}])
    report = load_json(out / "report" / "report.json")
    assert report["totals"]["kept"] == {"documents": 0, "tokens": 0, "bytes": 0}
    assert report["totals"]["input"]["tokens"] > 0
    assert report["chinchilla"]["budgets"][0]["epochs"] is None
    assert "Chinchilla" in (out / "report" / "index.html").read_text()
    # without stats.json and manifest.json: same numbers, nothing to reconcile with
    (out / "stats.json").unlink()
    (out / "manifest.json").unlink()
    bare, _ = write_report(str(out), show_progress=False)
    assert bare["funnel"][0]["tokens"] == report["funnel"][0]["tokens"]
    assert bare["reconciliation"] == {"ok": None, "checks": []}
    assert bare["missing"] == ["stats.json", "manifest.json"]
    assert "nothing to check against" in (out / "report" / "report.md").read_text()


def test_dedup_stats_file_is_preferred_and_bad_text_is_counted(tmp_path):
    (tmp_path / "in").mkdir()
    hostile = ["", " \n\t ", "\x00\x01\x02" * 3000, "ÿþ\ufffd" * 5000, "語" * 20000, "x" * 300_000]
    (tmp_path / "in" / "a.jsonl").write_text(
        "".join(json.dumps({"id": f"h{i}", "text": t}) + "\n" for i, t in enumerate(hostile))
    )
    out = run(
        tmp_path,
        [{"token_count": {"batch_size": 2}}, {"length_filter": {"max_chars": 20000}}],
        sources=[{"name": "junk", "format": "jsonl", "path": str(tmp_path / "in")}],
    )
    report = load_json(out / "report" / "report.json")
    stats = load_json(out / "stats.json")
    gpt2 = load_tokenizer("gpt2")
    survivors = texts(out, "data") + texts(out, "removed/length_filter")
    assert len(survivors) == stats["documents_read"] >= 4
    assert report["totals"]["input"]["tokens"] == sum(count_tokens(gpt2, survivors))
    assert report["reconciliation"]["ok"]
    # a dedup stage's own statistics, when present, are what the report shows
    work = out / "work" / "minhash"
    work.mkdir(parents=True)
    (work / "dedup_stats.json").write_text(json.dumps({"cluster_sizes": {"2": 5, "7": 1}}))
    rebuilt, _ = write_report(str(out), show_progress=False)
    assert rebuilt["dedup"]["minhash"]["cluster_sizes"] == {"2": 5, "7": 1}
    assert rebuilt["dedup"]["minhash"]["duplicates_removed"] == 5 + 6
    shutil.rmtree(work)


def test_stage_counts_equal_datatrove_tokens_counter():
    """Curate's stage against datatrove's TokensCounter (the anchor) with the same tokenizer file."""
    rows = [
        json.loads(line)
        for f in sorted((SAMPLES / "redpajama-v1").glob("*.jsonl"))
        for line in f.read_text().splitlines()
    ]
    assert len(rows) > 20

    def docs():
        return [Document(text=r["text"], id=str(i), metadata={"source": "rp1"}) for i, r in enumerate(rows)]

    anchor = TokensCounter(resolve_tokenizer("gpt2").path, count_eos_token=False)
    theirs = [d.metadata["token_count"] for d in anchor.run(iter(docs()))]
    ours = [d.metadata["token_count"] for d in TokenCounter(TokenCountParams(batch_size=5)).run(iter(docs()))]
    assert ours == theirs and sum(ours) > 10_000
