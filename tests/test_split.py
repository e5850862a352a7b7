"""Big files split across tasks: one JSON-lines file and one Parquet file read by 4 tasks give what 1 task gives.

The inputs are built from real web text (../shared/data/web: paragraphs recombined into 200,000 short documents),
with lines that have no id (their ids are derived from the line number, so a byte-range reader that got the line
numbers wrong would change them), blank lines and damaged lines (the bad-input ledger must name the same lines).
"""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import (
    kill_run_when,
    load_json,
    load_web_corpus,
    output_ids,
    read_rows,
    run_curate,
    unfinished_tasks_with_shards,
    write_recipe,
)

from pipeline.readers.corpus_reader import CorpusReader, plan_units
from pipeline.readers.files import iter_jsonl
from pipeline.recipe import SourceConfig

LINES = 200_000
DAMAGED = (1_234, 77_777, 150_001)  # 1-based line numbers of corrupt lines


def _paragraphs() -> list[str]:
    paras = []
    for _, text in load_web_corpus():
        paras += [p.strip() for p in text.split("\n") if len(p.split()) >= 3]
    return paras


@pytest.fixture(autouse=True)
def _no_report(monkeypatch):
    """The HTML report (tokenizing every kept document) is not what these tests are about: skip it."""
    import pipeline.cli

    monkeypatch.setattr(pipeline.cli, "_report_after_run", lambda output_dir: None)


PARQUET_ROWS, ROW_GROUPS = 50_000, 16
SMALL_LINES = 30_000  # the reader-level tests read the first lines only, several times


@pytest.fixture(scope="module")
def big_inputs(tmp_path_factory) -> Path:
    """``jsonl/big.jsonl`` (200,000 lines), ``parquet/big.parquet`` (50,000 rows in 16 row groups) and
    ``small/small.jsonl`` (the first 30,000 lines)."""
    root = tmp_path_factory.mktemp("split")
    paras = _paragraphs()
    rng = random.Random(13)
    rows, lines = [], []
    for n in range(1, LINES + 1):
        if n in DAMAGED:
            lines.append('{"text": "cut off in the midd\n')
            continue
        if n % 5000 == 0:
            lines.append("\n")
            continue
        text = " ".join(rng.choice(paras) for _ in range(rng.randint(1, 2)))[:300]
        row = {"text": text} if n % 3 else {"id": f"doc-{n}", "text": text}
        rows.append(row)
        lines.append(json.dumps(row) + "\n")
    for name, part in (("jsonl/big.jsonl", lines), ("small/small.jsonl", lines[:SMALL_LINES])):
        (root / name).parent.mkdir()
        with open(root / name, "w") as f:
            f.writelines(part)
    (root / "parquet").mkdir()
    rows = rows[:PARQUET_ROWS]
    table = pa.table({"id": [r.get("id") for r in rows], "text": [r["text"] for r in rows]})
    pq.write_table(table, root / "parquet" / "big.parquet", row_group_size=PARQUET_ROWS // ROW_GROUPS)
    assert pq.ParquetFile(root / "parquet" / "big.parquet").num_row_groups == ROW_GROUPS
    return root


def _recipe(path: Path, source: dict, out: Path, tasks: int) -> Path:
    return write_recipe(
        path,
        {
            "name": "split",
            "sources": [source],
            "stages": [{"length_filter": {"min_words": 30}}],
            "output": {"path": str(out), "shard_max_rows": 40_000},
            "executor": {"tasks": tasks, "workers": 2},
        },
    )


def _read_by_task(out: Path) -> dict[int, int]:
    """Documents each task's reader read, from datatrove's per-task stats files."""
    by_task = {}
    for path in sorted((out / "logs" / "00_documents" / "stats").glob("*.json")):
        steps = json.loads(path.read_text())
        reader = next(s for s in steps if s["name"] == "reader")
        value = reader["stats"].get("documents", 0)
        by_task[int(path.stem)] = value["total"] if isinstance(value, dict) else value
    return by_task


def _bad_input(out: Path) -> list[tuple]:
    rows = []
    for f in sorted((out / "bad_input").glob("part-*.jsonl")):
        rows += [tuple(json.loads(line).values()) for line in f.read_text().splitlines()]
    return sorted(rows)


def _runs(root: Path, kind: str, tmp: Path) -> tuple[Path, Path]:
    """The same source run with ``tasks: 1`` and ``tasks: 4``."""
    source = {"name": "big", "format": kind, "path": str(root / kind)}
    one, four = tmp / "one", tmp / "four"
    assert run_curate("run", _recipe(tmp / "one.yaml", source, one, 1)) == 0
    assert run_curate("run", _recipe(tmp / "four.yaml", source, four, 4)) == 0
    return one, four


@pytest.fixture(scope="module")
def jsonl_runs(big_inputs, tmp_path_factory) -> tuple[Path, Path]:
    import pipeline.cli

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline.cli, "_report_after_run", lambda output_dir: None)
        return _runs(big_inputs, "jsonl", tmp_path_factory.mktemp("jsonl_runs"))


def _check_same_output(one: Path, four: Path, kind: str, documents: int) -> None:
    read = _read_by_task(four)
    assert sorted(read) == [0, 1, 2, 3]
    assert all(n > documents / 4 * 0.8 for n in read.values()), read  # every task read a fair share
    assert sum(read.values()) == documents and _read_by_task(one) == {0: documents}

    kept1, removed1 = output_ids(one)
    kept4, removed4 = output_ids(four)
    assert removed1 and kept1
    assert sorted(kept4) == sorted(kept1) and len(set(kept4)) == len(kept4)
    assert sorted(removed4) == sorted(removed1)
    assert f"big/big.{kind}/{2 if kind == 'jsonl' else 0}" in set(kept1) | set(removed1)  # a derived id
    stats1, stats4 = load_json(one / "stats.json"), load_json(four / "stats.json")
    assert stats4["documents_read"] == stats1["documents_read"] == documents == len(kept1) + len(removed1)
    assert stats4["input_files"] == stats1["input_files"] == 1
    assert stats4["bad_input"] == stats1["bad_input"]
    assert _bad_input(four) == _bad_input(one)
    rows1 = {r["id"]: r["text"] for r in read_rows(one / "data", ["id", "text"])}
    rows4 = {r["id"]: r["text"] for r in read_rows(four / "data", ["id", "text"])}
    assert rows1 == rows4


def test_one_big_jsonl_file_is_shared_by_four_tasks(jsonl_runs):
    one, four = jsonl_runs
    _check_same_output(one, four, "jsonl", LINES - len(DAMAGED) - LINES // 5000)
    # the damaged lines are named by their line in the whole file, whichever task read them
    assert [r[2] for r in _bad_input(four)] == sorted(f"line {n}" for n in DAMAGED)
    assert load_json(four / "stats.json")["bad_input"] == len(DAMAGED)


def test_one_parquet_file_with_row_groups_is_shared_by_four_tasks(big_inputs, tmp_path):
    one, four = _runs(big_inputs, "parquet", tmp_path)
    _check_same_output(one, four, "parquet", PARQUET_ROWS)
    plan = plan_units([SourceConfig(name="big", format="parquet", path=str(big_inputs / "parquet"))], 4)
    spans = [u.span for units in plan.tasks for u in units]
    assert [(s.unit, s.end - s.start) for s in spans] == [("row_groups", ROW_GROUPS // 4)] * 4


def test_documents_and_read_order_do_not_depend_on_the_task_count(big_inputs):
    """Reader level: every document, its id, text and read-order key, for 1, 3 and 7 tasks; a limit stays exact."""
    cfg = SourceConfig(name="s", format="jsonl", path=str(big_inputs / "small"))

    def read(world_size: int, source: SourceConfig = cfg) -> list[tuple]:
        docs = []
        for rank in range(world_size):
            docs += [
                (d.id, d.metadata["read_order"], d.text) for d in CorpusReader([source]).run(None, rank, world_size)
            ]
        return docs

    whole = read(1)
    assert len(whole) == SMALL_LINES - sum(n <= SMALL_LINES for n in DAMAGED) - SMALL_LINES // 5000
    assert read(3) == whole == read(7)  # tasks read consecutive byte ranges in file order
    plan = plan_units([cfg], 3)
    spans = [u.span for units in plan.tasks for u in units]
    assert all(s is not None and s.unit == "bytes" for s in spans) and len(spans) == 3
    limited = cfg.model_copy(update={"limit": 1001})
    assert len(read(3, limited)) == 1001 and len(read(1, limited)) == 1001


def test_compressed_streams_are_not_split(big_inputs, tmp_path):
    import gzip
    import shutil

    small = big_inputs / "small" / "small.jsonl"
    with open(small, "rb") as f, gzip.open(tmp_path / "small.jsonl.gz", "wb", 1) as g:
        shutil.copyfileobj(f, g)
    shutil.copy(small, tmp_path / "other.jsonl")
    plan = plan_units([SourceConfig(name="g", format="jsonl", path=str(tmp_path))], 4)
    units = [[(u.file.rsplit("/", 1)[-1], u.span is None) for u in t] for t in plan.tasks]
    assert units[0] == [("small.jsonl.gz", True)]  # whole, on a task of its own; the plain file shared by the rest
    assert [f for t in units[1:] for f, whole in t] == ["other.jsonl"] * 3 and not any(
        w for t in units[1:] for _, w in t
    )
    # byte ranges cover a file with no line read twice or skipped, wherever they are cut
    fs = plan.roots[0][0]
    size = os.path.getsize(small)
    whole = [(r.index, r.data) for r in iter_jsonl(fs, str(small)) if hasattr(r, "index")]
    cuts = [0, 1, 17, size // 3, size // 3 + 1, size - 2, size]
    parts = [
        (r.index, r.data)
        for a, b in zip(cuts, cuts[1:], strict=False)
        for r in iter_jsonl(fs, str(small), byte_range=(a, b))
        if hasattr(r, "index")
    ]
    assert parts == whole


def test_sigkill_while_tasks_read_parts_then_rerun(big_inputs, jsonl_runs, tmp_path):
    _, clean = jsonl_runs
    clean_kept, clean_removed = output_ids(clean)
    out = tmp_path / "killed"
    source = {"name": "big", "format": "jsonl", "path": str(big_inputs / "jsonl")}
    recipe = _recipe(tmp_path / "killed.yaml", source, out, 4)
    killed = kill_run_when(recipe, lambda: bool(unfinished_tasks_with_shards(out)), max_delay=0.5)
    assert killed, "the run finished before it could be killed"
    assert run_curate("run", recipe) == 0
    kept, removed = output_ids(out)
    assert sorted(kept) == sorted(clean_kept) and len(kept) == len(set(kept))
    assert sorted(removed) == sorted(clean_removed)
    assert not list(out.rglob("*.tmp"))
    assert _read_by_task(out) == _read_by_task(clean)
    assert _bad_input(out) == _bad_input(clean)


def test_plan_covers_every_file_once_and_balances_bytes():
    """The planner alone, on many made-up file lists: every byte of every file in exactly one task, balanced."""
    from pipeline.readers.work_plan import Candidate, assign, split_jsonl

    rng = random.Random(7)
    for _ in range(200):
        tasks = rng.randint(2, 16)
        files = []
        for i in range(rng.randint(1, 12)):
            size = rng.choice([rng.randint(0, 2**20), rng.randint(2**20, 2**32)])
            name = f"f{i}.jsonl" + rng.choice(["", "", ".gz"])
            split = (
                (lambda t, name=name, size=size: split_jsonl(None, name, size, t, None)) if rng.random() < 0.9 else None
            )
            files.append(Candidate(0, name, size, split))
        plan = assign(files, tasks)
        assert plan == assign(files, tasks) and len(plan) == tasks  # deterministic
        covered: dict[str, list[tuple[int, int]]] = {}
        for units in plan:
            for u in units:
                covered.setdefault(u.file, []).append((u.span.start, u.span.end) if u.span else (0, u.size))
        for c in files:
            ranges = sorted(covered[c.file])
            assert (
                ranges[0][0] == 0
                and ranges[-1][1] == c.size
                and all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
            ), (c, ranges)
        loads = [sum(u.size for u in units) for units in plan]
        whole = [c.size for c in files if c.split is None or c.file.endswith(".gz")]
        best = max(sum(c.size for c in files) / tasks, max(whole, default=0))
        assert max(loads) <= 1.1 * best + 2**20, (loads, best)


WARC_FILES = ("resiliparse/warcfile.warc.gz", "dolma/sample-0000.warc.gz", "dolma/sample-0001.warc.gz")


@pytest.fixture(scope="module")
def big_warc(tmp_path_factory) -> tuple[Path, int]:
    """One multi-member ``.warc.gz`` (a gzip member per record, like Common Crawl's) of 1.2 MB: the real records
    of the shared WARC files, twice over, each copy under its own record ids (the same length, so every
    Content-Length still holds)."""
    import gzip
    import uuid

    from conftest import SHARED
    from warcio.archiveiterator import ArchiveIterator

    members: list[bytes] = []
    responses = 0
    for name in WARC_FILES:
        data = (SHARED / "warc" / name).read_bytes()
        with open(SHARED / "warc" / name, "rb") as f:
            it = ArchiveIterator(f)
            for rec in it:
                responses += rec.rec_type == "response"
                offset, length = it.get_record_offset(), it.get_record_length()
                members.append(gzip.decompress(data[offset : offset + length]))
    ids = sorted({m for record in members for m in re.findall(rb"urn:uuid:[0-9a-fA-F-]{36}", record)})
    out = tmp_path_factory.mktemp("warc") / "in"
    out.mkdir()
    with open(out / "big.warc.gz", "wb") as f:
        for copy in range(2):
            new = {i: f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{copy}/{i.decode()}')}".encode() for i in ids}
            for record in members:
                f.write(
                    gzip.compress(
                        re.sub(rb"urn:uuid:[0-9a-fA-F-]{36}", lambda m, new=new: new[m.group()], record), mtime=0
                    )
                )
    return out, 2 * responses


def test_one_multi_member_warc_gz_is_shared_by_four_tasks(big_warc, tmp_path):
    big_warc, responses = big_warc
    source = {"name": "big", "format": "warc", "path": str(big_warc)}
    one, four = tmp_path / "one", tmp_path / "four"
    assert run_curate("run", _recipe(tmp_path / "one.yaml", source, one, 1)) == 0
    assert run_curate("run", _recipe(tmp_path / "four.yaml", source, four, 4)) == 0
    read = _read_by_task(four)
    pages = sum(read.values())
    assert pages == responses  # every response record of both copies, once
    assert sorted(read) == [0, 1, 2, 3] and all(n > 0 for n in read.values()), read  # byte ranges: pages vary
    assert _read_by_task(one) == {0: pages}
    kept1, removed1 = output_ids(one)
    kept4, removed4 = output_ids(four)
    assert kept1 and len(set(kept1)) == len(kept1)
    assert sorted(kept4) == sorted(kept1) and sorted(removed4) == sorted(removed1)
    assert load_json(four / "stats.json")["input_files"] == 1
    assert _bad_input(four) == _bad_input(one) == []
    rows1 = {r["id"]: r["text"] for r in read_rows(one / "data", ["id", "text"])}
    rows4 = {r["id"]: r["text"] for r in read_rows(four / "data", ["id", "text"])}
    assert rows1 == rows4
    plan = plan_units([SourceConfig(name="big", format="warc", path=str(big_warc))], 4)
    assert all(len(units) == 1 and units[0].span is not None for units in plan.tasks)


def test_resume_refused_when_the_inputs_changed(tmp_path, capsys):
    """Parts of files are planned from their sizes: resuming over resized inputs would read lines twice."""
    src = tmp_path / "in"
    src.mkdir()
    paras = _paragraphs()[:50]
    (src / "a.jsonl").write_text("".join(json.dumps({"text": p}) + "\n" for p in paras))
    recipe = _recipe(tmp_path / "r.yaml", {"name": "a", "format": "jsonl", "path": str(src)}, tmp_path / "out", 1)
    assert run_curate("run", recipe) == 0
    assert run_curate("run", recipe) == 0  # unchanged inputs: resumes (nothing left to do)
    capsys.readouterr()
    with open(src / "a.jsonl", "a") as f:
        f.write(json.dumps({"text": "one more line"}) + "\n")
    assert run_curate("run", recipe) == 2
    assert "input files changed" in capsys.readouterr().err
    assert run_curate("run", recipe, "--overwrite") == 0
