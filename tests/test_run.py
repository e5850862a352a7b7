"""The quickstart end to end: shards, drop ledger, manifest, stats that reconcile, loaders, resume after SIGKILL."""

from __future__ import annotations

import hashlib
import os
import random
import time

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest
from conftest import (
    REPO,
    SAMPLES,
    kill_run_when,
    load_json,
    output_ids,
    read_rows,
    run_curate,
    unfinished_tasks_with_shards,
    write_recipe,
)


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory):
    out = tmp_path_factory.mktemp("qs") / "out"
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        assert run_curate("run", "recipes/quickstart.yaml", "--output", out) == 0
    finally:
        os.chdir(cwd)
    return out


def test_quickstart_writes_shards_manifest_and_stats(quickstart):
    out = quickstart
    manifest = load_json(out / "manifest.json")
    stats = load_json(out / "stats.json")
    shards = manifest["data"]["shards"]
    assert shards and all(s["path"].startswith("data/part-") for s in shards)
    for s in shards:
        path = out / s["path"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == s["sha256"]
        assert path.stat().st_size == s["bytes"]
        meta = pq.ParquetFile(path).metadata
        assert meta.num_rows == s["rows"]
        assert meta.row_group(0).column(0).compression == "ZSTD"
    assert not list(out.rglob("*.tmp"))
    # every source of the recipe produced documents, with its original fields kept
    assert set(stats["sources"]) == {
        "fineweb_edu_sample",
        "dclm_sample",
        "redpajama_v1_sample",
        "redpajama_v2_sample",
        "c4_jsonl",
    }
    assert all(s["read"] > 0 for s in stats["sources"].values())


def test_counts_reconcile(quickstart):
    out = quickstart
    stats = load_json(out / "stats.json")
    kept, removed = output_ids(out)
    assert stats["bad_input"] == 0  # the shipped samples are clean
    assert stats["documents_read"] == len(kept) + len(removed) and stats["reconciled"]
    assert len(set(kept)) == len(kept) and not set(kept) & set(removed)
    flowing = stats["documents_read"]
    for stage in stats["stages"]:  # each stage takes what the one before kept
        assert stage["in"] == flowing and stage["kept"] == stage["in"] - stage["dropped"], stage["stage"]
        assert sum(stage["dropped_by_reason"].values()) == stage["dropped"], stage["stage"]
        ledger = read_rows(out / "removed" / stage["stage"], ["id"]) if stage["dropped"] else []
        assert len(ledger) == stage["dropped"], stage["stage"]
        flowing = stage["kept"]
    assert flowing == len(kept)
    ledger = read_rows(out / "removed" / "length_filter", ["id", "reason", "length_filter.words"])
    assert ledger and all(r["reason"] == "too_few_words" and r["length_filter.words"] < 50 for r in ledger)
    for name, s in stats["sources"].items():
        assert s["read"] == s["kept"] + s["dropped"], name


def test_output_loads_with_datasets_polars_duckdb(quickstart):
    import datasets

    files = sorted(str(p) for p in (quickstart / "data").glob("*.parquet"))
    n = load_json(quickstart / "manifest.json")["data"]["rows"]
    ds = datasets.load_dataset("parquet", data_files=files, split="train")
    assert ds.num_rows == n and {"id", "text", "source", "url", "metadata", "attributes"} <= set(ds.column_names)
    assert pl.read_parquet(files).height == n
    assert duckdb.sql(f"select count(*) from read_parquet({files})").fetchall()[0][0] == n
    signals = duckdb.sql(
        f"select json_extract(metadata, '$.quality_signals.ccnet_length[0][2]')::int as l, json_extract(metadata, '$.length')::int as m "
        f"from read_parquet({files}) where source = 'redpajama_v2_sample'"
    ).fetchall()
    assert signals and all(a == b for a, b in signals)


def test_rerun_resumes_without_rewriting(quickstart, capsys):
    before = load_json(quickstart / "manifest.json")["data"]["shards"]
    assert run_curate("run", REPO / "recipes/quickstart.yaml", "--output", quickstart) == 0
    after = load_json(quickstart / "manifest.json")["data"]["shards"]
    assert [s["sha256"] for s in before] == [s["sha256"] for s in after]
    # a different task count would mix two jobs' files: refused, with the way out named
    assert run_curate("run", REPO / "recipes/quickstart.yaml", "--output", quickstart, "--tasks", "3") == 2
    assert "--overwrite" in capsys.readouterr().err


def test_shard_caps(tmp_path):
    recipe = write_recipe(
        tmp_path / "r.yaml",
        {
            "name": "caps",
            "sources": [{"name": "dclm", "format": "dclm", "path": str(SAMPLES / "dclm")}],
            "output": {"path": str(tmp_path / "bytes"), "shard_max_bytes": "40KB"},
        },
    )
    assert run_curate("run", recipe) == 0
    shards = load_json(tmp_path / "bytes" / "manifest.json")["data"]["shards"]
    assert len(shards) > 2 and all(s["bytes"] <= 40_000 for s in shards)
    assert [s["path"] for s in shards] == [f"data/part-00000-{i:05d}.parquet" for i in range(len(shards))]
    assert sum(s["rows"] for s in shards) == 51
    assert run_curate("run", recipe, "--output", tmp_path / "rows", "--limit", "25") == 0
    recipe.write_text(recipe.read_text().replace("shard_max_bytes: 40KB", "shard_max_rows: 10"))
    assert run_curate("run", recipe, "--output", tmp_path / "rows10") == 0
    rows = [s["rows"] for s in load_json(tmp_path / "rows10" / "manifest.json")["data"]["shards"]]
    assert rows == [10, 10, 10, 10, 10, 1]
    assert load_json(tmp_path / "rows" / "stats.json")["documents_read"] == 25


def _big_input(root, files: int = 6, docs: int = 2500):
    """Real sample texts repeated under unique ids: enough work for a kill to land mid-run."""
    import json

    files_ = sorted((SAMPLES / "fineweb-edu").glob("*.parquet"))
    texts = [t for f in files_ for t in pq.read_table(f, columns=["text"]).column(0).to_pylist()]
    root.mkdir()
    for f in range(files):
        with open(root / f"part{f}.jsonl", "w") as out:
            for i in range(docs):
                out.write(json.dumps({"id": f"f{f}-{i}", "text": texts[(f * docs + i) % len(texts)] + f" #{i}"}) + "\n")


def _recipe(tmp_path, out_name: str):
    return write_recipe(
        tmp_path / f"{out_name}.yaml",
        {
            "name": "killable",
            "sources": [{"name": "big", "format": "jsonl", "path": str(tmp_path / "in")}],
            "stages": [{"length_filter": {"min_words": 250}}],
            "output": {"path": str(tmp_path / out_name), "shard_max_rows": 400},
            "executor": {"tasks": 6, "workers": 2},
        },
    )


def test_sigkill_midway_then_rerun_gives_the_same_documents(tmp_path):
    _big_input(tmp_path / "in")
    assert run_curate("run", _recipe(tmp_path, "clean")) == 0
    clean_kept, clean_removed = output_ids(tmp_path / "clean")

    recipe = _recipe(tmp_path, "killed")
    out = tmp_path / "killed"
    rng = random.Random(int(os.environ.get("CURATE_KILL_SEED", time.time())))
    kills, partial_tasks = 0, 0

    for _attempt in range(4):
        # killed at a random moment while some task has shards on disk but has not finished: the state a resume
        # must clean up (a kill timed by the clock alone sometimes fell between tasks on a busy machine)
        if kill_run_when(recipe, lambda: bool(unfinished_tasks_with_shards(out)), max_delay=0.1, rng=rng):
            kills += 1
        partial_tasks += len(unfinished_tasks_with_shards(out))  # tasks cut off with shards already on disk
    assert kills >= 1, "the run finished before it could be killed"
    assert partial_tasks >= 1, "no kill landed while a task had written part of its output"
    assert run_curate("run", recipe) == 0
    kept, removed = output_ids(out)
    assert sorted(kept) == sorted(clean_kept) and len(kept) == len(set(kept))
    assert sorted(removed) == sorted(clean_removed)
    assert not list(out.rglob("*.tmp"))
    stats = load_json(out / "stats.json")
    assert stats["documents_read"] == 6 * 2500 == len(kept) + len(removed)


def test_inspect_output_and_inputs(quickstart, capsys):
    assert run_curate("inspect", quickstart, "-n", "1") == 0
    out = capsys.readouterr().err
    n = load_json(quickstart / "manifest.json")["data"]["rows"]
    assert f"{n} rows" in out and "length_filter.words: int64" in out
    assert run_curate("inspect", SAMPLES / "dclm") == 0
    assert "JSON lines:" in capsys.readouterr().err
    assert run_curate("inspect", SAMPLES / "fineweb-edu") == 0
    assert "Parquet: 2 file(s), 40 rows" in capsys.readouterr().err
    assert run_curate("inspect", quickstart / "nope") == 2


def test_ledger_without_text_still_accounts_for_every_document(tmp_path):
    recipe = write_recipe(
        tmp_path / "r.yaml",
        {
            "name": "notext",
            "sources": [{"name": "rp1", "format": "redpajama-v1", "path": str(SAMPLES / "redpajama-v1")}],
            "stages": [{"length_filter": {"min_words": 400}}],
            "output": {"path": str(tmp_path / "out"), "write_removed_text": False},
        },
    )
    assert run_curate("run", recipe) == 0
    ledger = read_rows(tmp_path / "out" / "removed" / "length_filter", ["id", "text", "reason"])
    assert ledger and all(r["text"] is None and r["reason"] == "too_few_words" for r in ledger)
    assert load_json(tmp_path / "out" / "stats.json")["reconciled"]
