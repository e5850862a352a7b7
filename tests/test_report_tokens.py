"""The report's token numbers, recounted independently, and its reconciliation with stats.json and the Parquet output.

Two real runs on the shipped samples: ``token_count`` first (every ledger row carries its count) and last (rows
dropped before it are counted by the report). In both, OpenAI's tiktoken, an independent GPT-2 implementation,
recounts every kept and dropped document read back with DuckDB, and must give the report's funnel exactly.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import duckdb
import pytest
import tiktoken
import tiktoken.load
import tiktoken_ext.openai_public as openai_public
from conftest import SAMPLES, load_json, run_curate, write_recipe
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from pipeline.tokens.gpt2_build import openai_files

SOURCES = [
    {"name": "fineweb_edu", "format": "fineweb-edu", "path": str(SAMPLES / "fineweb-edu")},
    {"name": "dclm", "format": "dclm", "path": str(SAMPLES / "dclm")},
    {"name": "rp1", "format": "redpajama-v1", "path": str(SAMPLES / "redpajama-v1")},
    {"name": "rp2", "format": "redpajama-v2", "path": str(SAMPLES / "redpajama-v2")},
    {"name": "c4", "format": "jsonl", "path": str(SAMPLES / "jsonl")},
]
FILTERS = [
    {"length_filter": {"min_words": 120, "record_signals": True}},
    {"length_filter": {"max_chars": 15000}},
]


def run(tmp_path, name: str, stages: list[dict], tasks: int = 2):
    out = tmp_path / name
    recipe = write_recipe(
        tmp_path / f"{name}.yaml",
        {
            "name": name,
            "sources": SOURCES,
            "stages": stages,
            "output": {"path": str(out), "shard_max_rows": 40},
            "executor": {"kind": "local", "tasks": tasks, "workers": 1},
        },
    )
    assert run_curate("run", recipe) == 0
    return out


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report_tokens")
    return {
        "first": run(tmp, "first", [{"token_count": {}}, *FILTERS]),
        "last": run(tmp, "last", [*FILTERS, {"token_count": {"batch_size": 7}}]),
    }


@pytest.fixture(scope="module")
def openai_gpt2() -> tiktoken.Encoding:
    encoder_json, vocab_bpe = openai_files()
    ranks = tiktoken.load.data_gym_to_mergeable_bpe_ranks(str(vocab_bpe), str(encoder_json))
    return tiktoken.Encoding(
        "gpt2", pat_str=openai_public.r50k_pat_str, mergeable_ranks=ranks, special_tokens={}, explicit_n_vocab=50256
    )


def rows(out, sub: str, columns: str = "source, text") -> list[tuple]:
    files = sorted((out / sub).glob("part-*.parquet"))
    if not files:
        return []
    paths = ", ".join(f"'{f}'" for f in files)
    return duckdb.sql(f"SELECT {columns} FROM read_parquet([{paths}], union_by_name=true)").fetchall()


def recount(out, encode) -> tuple[dict, dict]:
    """Tokens and bytes per source: kept, and dropped per ledger label."""
    kept: dict[str, Counter] = defaultdict(Counter)
    for src, text in rows(out, "data"):
        kept[src]["documents"] += 1
        kept[src]["tokens"] += len(encode(text))
        kept[src]["bytes"] += len(text.encode())
    dropped: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for ledger in sorted((out / "removed").iterdir()):
        for src, text in rows(out, f"removed/{ledger.name}"):
            dropped[ledger.name][src]["documents"] += 1
            dropped[ledger.name][src]["tokens"] += len(encode(text))
            dropped[ledger.name][src]["bytes"] += len(text.encode())
    return kept, dropped


@pytest.mark.parametrize("which", ["first", "last"])
def test_independent_recount_gives_the_reports_funnel(outputs, openai_gpt2, which):
    out = outputs[which]
    report = load_json(out / "report" / "report.json")
    assert report["tokenizer"]["name"] == "gpt2"
    if which == "first":
        assert report["tokenizer"]["rows_counted_by_report"] == 0
    else:  # the ledgers of the two filters before token_count have no counts: the report counted them
        n_dropped = sum(len(rows(out, f"removed/{d.name}", "id")) for d in (out / "removed").iterdir())
        assert n_dropped > 10 and report["tokenizer"]["rows_counted_by_report"] == n_dropped

    kept, dropped = recount(out, openai_gpt2.encode_ordinary)
    sources = [s["name"] for s in SOURCES]
    funnel = {row["stage"]: row for row in report["funnel"]}
    # input = kept + everything any stage dropped, per source
    for src in sources:
        expected = Counter(kept[src])
        for label in dropped:
            expected.update(dropped[label][src])
        assert funnel["input"]["by_source"][src] == {k: expected[k] for k in ("documents", "tokens", "bytes")}
    # after each stage: the previous row minus what that stage dropped
    previous = funnel["input"]
    for label in report["stages"]:
        row = funnel[label]
        for src in sources:
            d = dropped.get(label, {}).get(src, Counter())
            assert row["dropped_by_source"][src] == {k: d[k] for k in ("documents", "tokens", "bytes")}
            for k in ("documents", "tokens", "bytes"):
                assert row["by_source"][src][k] == previous["by_source"][src][k] - d[k]
        previous = row
    # the last row is the output
    for src in sources:
        assert report["funnel"][-1]["by_source"][src] == {k: kept[src][k] for k in ("documents", "tokens", "bytes")}
        assert report["mixture"][src]["tokens"] == kept[src]["tokens"]
    total = sum(kept[s]["tokens"] for s in sources)
    assert report["totals"]["kept"]["tokens"] == total == report["chinchilla"]["corpus_tokens"]
    assert total > 50_000
    reasons = {(r["stage"], r["reason"]): r["tokens"] for r in report["drop_reasons"]}
    assert reasons[("length_filter", "too_few_words")] == sum(c["tokens"] for c in dropped["length_filter"].values())


def test_report_reconciles_with_stats_manifest_and_parquet(outputs):
    for out in outputs.values():
        report = load_json(out / "report" / "report.json")
        stats = load_json(out / "stats.json")
        manifest = load_json(out / "manifest.json")
        assert report["reconciliation"]["ok"], [c for c in report["reconciliation"]["checks"] if not c["ok"]]
        (n_kept, tokens_column) = rows(out, "data", "count(*), sum(token_count)")[0]
        assert report["totals"]["kept"]["documents"] == n_kept == stats["kept"] == manifest["data"]["rows"]
        assert report["totals"]["kept"]["tokens"] == tokens_column
        assert report["totals"]["input"]["documents"] == stats["documents_read"]
        for src, s in stats["sources"].items():
            assert report["funnel"][0]["by_source"][src]["documents"] == s["read"]
            assert report["funnel"][-1]["by_source"][src]["documents"] == s["kept"]
        by_stage = {row["stage"]: row for row in report["funnel"]}
        for s in stats["stages"]:
            assert by_stage[s["stage"]]["dropped"]["documents"] == s["dropped"]
            assert by_stage[s["stage"]]["documents"] == s["kept"]
        # the token_count stage's own counters (datatrove stats) equal the funnel where it ran
        tc = next(s for s in stats["stages"] if s["stage"] == "token_count")
        before = report["funnel"][[r["stage"] for r in report["funnel"]].index("token_count") - 1]
        assert tc["counters"]["tokens"] == before["tokens"]
        for src, t in before["by_source"].items():
            assert tc["counters"].get(f"tokens/{src}", 0) == t["tokens"]


def test_report_command_rebuilds_the_same_numbers_with_options(outputs):
    out = outputs["first"]
    before = load_json(out / "report" / "report.json")
    code = run_curate(
        "report", out, "--model-sizes", "50M,0.1B", "--budgets", "2T", "--tokens-per-parameter", "25", "--no-progress"
    )
    assert code == 0
    after = load_json(out / "report" / "report.json")
    assert after["funnel"] == before["funnel"] and after["drop_reasons"] == before["drop_reasons"]
    c = after["chinchilla"]
    tokens = after["totals"]["kept"]["tokens"]
    assert [m["parameters"] for m in c["models"]] == [5e7, 1e8]
    assert c["models"][1]["optimal_tokens"] == 25 * 1e8
    assert c["models"][1]["corpus_multiple"] == pytest.approx(tokens / 2.5e9)
    assert c["optimal_parameters"] == pytest.approx(tokens / 25)
    assert c["budgets"][0]["epochs"] == pytest.approx(2e12 / tokens)
    assert (out / "report" / "index.html").stat().st_size > 10_000
    assert "## Funnel" in (out / "report" / "report.md").read_text()
    assert run_curate("report", out.parent / "does-not-exist") == 2


def test_any_tokenizer_json_is_used_and_named(tmp_path):
    """A user's own tokenizer.json: the counts are that tokenizer's, and report.json names its path."""
    corpus = [line for f in sorted((SAMPLES / "jsonl").glob("*")) for line in f.read_text().splitlines()]
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=300, special_tokens=["[UNK]"]))
    path = tmp_path / "mine" / "tokenizer.json"
    path.parent.mkdir()
    tok.save(str(path))
    out = tmp_path / "out"
    recipe = write_recipe(
        tmp_path / "r.yaml",
        {
            "name": "own",
            "sources": [SOURCES[4], SOURCES[2]],
            "stages": [{"length_filter": {"min_words": 120}}, {"token_count": {"tokenizer": str(path.parent)}}],
            "output": {"path": str(out)},
            "executor": {"tasks": 1},
        },
    )
    assert run_curate("run", recipe) == 0
    report = load_json(out / "report" / "report.json")
    assert report["tokenizer"]["name"] == str(path.resolve())
    reference = Tokenizer.from_file(str(path))
    texts = [t for (_, t) in rows(out, "data")] + [t for (_, t) in rows(out, "removed/length_filter")]
    assert report["totals"]["input"]["tokens"] == sum(len(reference.encode(t).ids) for t in texts)
    assert report["reconciliation"]["ok"]


def test_bad_tokenizer_is_a_recipe_error(tmp_path):
    recipe = write_recipe(
        tmp_path / "bad.yaml",
        {
            "name": "bad",
            "sources": [SOURCES[4]],
            "stages": [{"token_count": {"tokenizer": str(tmp_path / "nope.json")}}],
            "output": {"path": str(tmp_path / "o")},
        },
    )
    assert run_curate("validate", recipe) == 2
