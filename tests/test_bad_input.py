"""Bad input never crashes a run and is never lost silently: one clear line, counted, ledgered, the rest goes on."""

from __future__ import annotations

import gzip
import json
import shutil

import zstandard
from conftest import SAMPLES, load_json, output_ids, run_curate, write_recipe


def _lines(n: int, prefix: str) -> list[bytes]:
    return [
        json.dumps({"id": f"{prefix}-{i}", "text": f"document {i} of {prefix} " * 20}).encode() + b"\n"
        for i in range(n)
    ]


def make_damaged_inputs(root):
    j = root / "jsonl"
    j.mkdir()
    shutil.copy(SAMPLES / "jsonl/c4-dummy.jsonl", j / "good.jsonl")
    good = _lines(3, "corrupt")
    (j / "corrupt.jsonl").write_bytes(good[0] + b'{"id": "x", "text": "broken\n' + good[1])
    (j / "utf8.jsonl").write_bytes(_lines(1, "utf8")[0] + b'{"id": "bad-utf8", "text": "caf\xe9 \xff"}\n')
    (j / "notext.jsonl").write_bytes(
        b'{"id": "a"}\n{"id": "b", "text": ""}\n{"id": "c", "text": 5}\n[1, 2]\n' + _lines(1, "nt")[0]
    )
    (j / "empty.jsonl").write_bytes(b"")
    gz = gzip.compress(b"".join(_lines(400, "gz")))
    (j / "truncated.jsonl.gz").write_bytes(gz[: len(gz) // 2])
    zst = zstandard.ZstdCompressor().compress(b"".join(_lines(3000, "zst")))  # several 128 KB blocks
    (j / "truncated.jsonl.zst").write_bytes(zst[: len(zst) // 2])
    big = "word " * (10 * 2**20 // 5)  # 10 MB single line: a real (if odd) document, kept
    huge = "x" * (50 * 2**20)  # 50 MB: over max_doc_bytes, bad input
    (j / "long.jsonl").write_bytes(
        json.dumps({"id": "ten-mb", "text": big}).encode()
        + b"\n"
        + json.dumps({"id": "fifty-mb", "text": huge}).encode()
        + b"\n"
    )
    p = root / "parquet"
    p.mkdir()
    shutil.copy(SAMPLES / "fineweb-edu/000_00000.parquet", p / "good.parquet")
    data = (SAMPLES / "fineweb-edu/000_00001.parquet").read_bytes()
    (p / "truncated.parquet").write_bytes(data[: len(data) // 2])
    return j, p


EXPECTED_BAD = {
    ("corrupt.jsonl", "line 2"),
    ("utf8.jsonl", "line 2"),
    ("notext.jsonl", "line 1"),
    ("notext.jsonl", "line 2"),
    ("notext.jsonl", "line 3"),
    ("notext.jsonl", "line 4"),
    ("empty.jsonl", "file"),
    ("long.jsonl", "line 2"),
    ("truncated.parquet", "file"),
}


def test_damaged_inputs_are_counted_and_the_run_goes_on(tmp_path, capfd):
    j, p = make_damaged_inputs(tmp_path)
    recipe = write_recipe(
        tmp_path / "r.yaml",
        {
            "name": "damaged",
            "sources": [
                {"name": "lines", "format": "jsonl", "path": str(j)},
                {"name": "tables", "format": "fineweb-edu", "path": str(p)},
            ],
            "stages": [{"length_filter": {"min_words": 30}}],
            "output": {"path": str(tmp_path / "out")},
            "executor": {"tasks": 3, "workers": 2},
        },
    )
    assert run_curate("run", recipe) == 0
    out = tmp_path / "out"
    stats = load_json(out / "stats.json")
    ledger = [
        json.loads(line) for f in sorted((out / "bad_input").glob("*.jsonl")) for line in f.read_text().splitlines()
    ]
    where = {(row["file"].rsplit("/", 1)[-1], row["position"]) for row in ledger}
    assert EXPECTED_BAD <= where
    truncated = [row for row in ledger if row["file"].endswith(("truncated.jsonl.gz", "truncated.jsonl.zst"))]
    assert len({row["file"] for row in truncated}) == 2  # both damaged streams reported
    assert all("truncated" in row["problem"] or "corrupt" in row["problem"] for row in truncated)
    assert stats["bad_input"] == len(ledger) == load_json(out / "manifest.json")["bad_input"]["rows"]
    assert stats["sources"]["lines"]["bad_input"] + stats["sources"]["tables"]["bad_input"] == stats["bad_input"]
    assert next(r for r in ledger if r["position"] == "line 2" and r["file"].endswith("long.jsonl"))["id"] == "fifty-mb"
    assert "invalid UTF-8" in next(r["problem"] for r in ledger if r["file"].endswith("utf8.jsonl"))
    # every document read is in exactly one place
    kept, removed = output_ids(out)
    assert stats["documents_read"] == len(kept) + len(removed) and stats["reconciled"]
    assert len(set(kept) | set(removed)) == len(kept) + len(removed)
    assert "ten-mb" in kept
    assert any(i.startswith("gz-") for i in kept) and any(i.startswith("zst-") for i in kept)
    err = capfd.readouterr().err
    assert "corrupt.jsonl, line 2: corrupt JSON" in err
    assert "Traceback" not in err


def test_nothing_readable_exits_non_zero(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "empty.jsonl").write_bytes(b"")
    recipe = write_recipe(
        tmp_path / "r.yaml",
        {
            "name": "nothing",
            "sources": [{"name": "x", "format": "jsonl", "path": str(tmp_path / "in")}],
            "output": {"path": str(tmp_path / "out")},
        },
    )
    assert run_curate("run", recipe) == 1
    assert load_json(tmp_path / "out" / "stats.json")["bad_input"] == 1
