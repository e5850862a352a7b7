"""Remote storage for real: a run reads its sources from and writes its whole output to ``memory://`` and to an S3
server (moto's, on 127.0.0.1, through s3fs: the ``s3`` extra), and a ``file://`` URL; the output equals a local
run's, and the resume guard, ``run.json``, ``--overwrite`` and ``curate status`` behave as for a local folder.

``memory://`` lives in one process, so that run uses one worker (datatrove then runs the tasks in this process);
the S3 run is a real ``curate run`` subprocess with two worker processes talking to the server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import fsspec
import pyarrow.parquet as pq
import pytest
from conftest import REPO, SAMPLES, load_json, output_ids, run_curate, write_recipe

INPUTS = {
    "in/lines/c4-dummy.jsonl": SAMPLES / "jsonl" / "c4-dummy.jsonl",
    "in/tables/000_00000.parquet": SAMPLES / "fineweb-edu" / "000_00000.parquet",
    "in/tables/000_00001.parquet": SAMPLES / "fineweb-edu" / "000_00001.parquet",
}


def _recipe(path, lines: str, tables: str, output: str, workers: int = 1):
    return write_recipe(
        path,
        {
            "name": "remote",
            "sources": [
                {"name": "lines", "format": "jsonl", "path": lines},
                {"name": "tables", "format": "fineweb-edu", "path": tables},
            ],
            "stages": [{"length_filter": {"min_words": 60}}, {"exact_dedup": {}}],
            "output": {"path": output, "shard_max_rows": 20},
            "executor": {"tasks": 2, "workers": workers},
        },
    )


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    """The same recipe on local files: what every remote run must reproduce."""
    root = tmp_path_factory.mktemp("local")
    recipe = _recipe(root / "r.yaml", str(SAMPLES / "jsonl"), str(SAMPLES / "fineweb-edu"), str(root / "out"))
    assert run_curate("run", recipe) == 0
    kept, removed = output_ids(root / "out")
    return {"kept": sorted(kept), "removed": sorted(removed), "stats": load_json(root / "out" / "stats.json")}


def _remote_ids(fs, out: str) -> tuple[list[str], list[str]]:
    def ids(pattern: str) -> list[str]:
        found = []
        for path in sorted(fs.glob(pattern)):
            with fs.open(path, "rb") as f:
                found += pq.read_table(f, columns=["id"]).column("id").to_pylist()
        return found

    return ids(f"{out}/data/part-*.parquet"), ids(f"{out}/removed/*/part-*.parquet")


def _remote_json(fs, path: str) -> dict:
    with fs.open(path, "rb") as f:
        return json.loads(f.read())


def _check_output(fs, out: str, local_run: dict) -> dict:
    kept, removed = _remote_ids(fs, out)
    assert sorted(kept) == local_run["kept"] and sorted(removed) == local_run["removed"]
    stats = _remote_json(fs, f"{out}/stats.json")
    assert stats["reconciled"] and stats["duplicate_ids"] == 0
    assert stats["documents_read"] == local_run["stats"]["documents_read"]
    manifest = _remote_json(fs, f"{out}/manifest.json")
    assert manifest["data"]["rows"] == len(kept)
    assert fs.size(f"{out}/report/index.html") > 10_000
    assert _remote_json(fs, f"{out}/run.json")["tasks"] in (2, 3)
    return manifest


def test_memory_output_and_sources(tmp_path, local_run, capsys):
    fs = fsspec.filesystem("memory")
    root = "memory://curate-test"
    for name, src in INPUTS.items():
        fs.pipe(f"/curate-test/{name}", src.read_bytes())
    out = f"{root}/out"
    recipe = _recipe(tmp_path / "r.yaml", f"{root}/in/lines", f"{root}/in/tables", out)
    try:
        assert run_curate("run", recipe) == 0
        first = _check_output(fs, out, local_run)
        assert run_curate("run", recipe) == 0  # resume: nothing left to do, the same output
        assert _check_output(fs, out, local_run)["data"]["shards"] == first["data"]["shards"]
        capsys.readouterr()

        assert run_curate("run", recipe, "--tasks", "3") == 2  # another job on the same output: refused
        assert "holds a run of a different job" in capsys.readouterr().err
        assert run_curate("run", recipe, "--tasks", "3", "--overwrite") == 0
        _check_output(fs, out, local_run)
        assert _remote_json(fs, f"{out}/run.json")["tasks"] == 3

        assert run_curate("status", out) == 0
        assert "finished" in capsys.readouterr().out
    finally:
        fs.rm("/curate-test", recursive=True)


def test_file_url_output_is_guarded_like_a_local_folder(tmp_path, local_run, capsys):
    out = tmp_path / "out"
    recipe = _recipe(tmp_path / "r.yaml", str(SAMPLES / "jsonl"), str(SAMPLES / "fineweb-edu"), f"file://{out}")
    assert run_curate("run", recipe) == 0
    assert load_json(out / "run.json")["tasks"] == 2 and (out / "logs" / "progress").is_dir()  # a local run
    capsys.readouterr()
    assert run_curate("run", recipe, "--tasks", "3") == 2  # would mix two runs: refused
    assert run_curate("run", recipe, "--tasks", "3", "--output", str(out)) == 2  # the same folder, written plainly
    assert "holds a run of a different job" in capsys.readouterr().err
    kept, removed = output_ids(out)
    assert sorted(kept) == local_run["kept"] and sorted(removed) == local_run["removed"]
    assert run_curate("run", recipe, "--tasks", "3", "--overwrite") == 0
    kept, removed = output_ids(out)
    assert sorted(kept) == local_run["kept"] and sorted(removed) == local_run["removed"]


@pytest.fixture
def s3_server():
    pytest.importorskip("s3fs")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "FSSPEC_S3_ENDPOINT_URL": f"http://{host}:{port}",  # fsspec's own config: every s3:// URL goes there
    }
    try:
        yield env
    finally:
        server.stop()


def test_s3_server_run_reads_and_writes_everything(tmp_path, local_run, s3_server):
    import s3fs

    fs = s3fs.S3FileSystem(
        key="testing", secret="testing", endpoint_url=s3_server["FSSPEC_S3_ENDPOINT_URL"], use_listings_cache=False
    )
    fs.mkdir("curate")
    for name, src in INPUTS.items():
        fs.put_file(str(src), f"curate/{name}")
    out = "s3://curate/out"
    recipe = _recipe(tmp_path / "r.yaml", "s3://curate/in/lines", "s3://curate/in/tables", out, workers=2)
    env = {**os.environ, **s3_server}

    def curate(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pipeline.cli", *args], cwd=REPO, env=env, capture_output=True, text=True
        )

    done = curate("run", str(recipe))
    assert done.returncode == 0, done.stderr[-3000:]
    _check_output(fs, "curate/out", local_run)
    assert not fs.glob("curate/out/**/*.tmp")

    again = curate("run", str(recipe), "--tasks", "3")
    assert again.returncode == 2 and "holds a run of a different job" in again.stderr
    status = curate("status", out)
    assert status.returncode == 0 and "finished" in status.stdout, status.stdout + status.stderr
