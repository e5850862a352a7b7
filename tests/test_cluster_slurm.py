"""Real Slurm runs: the quickstart as Slurm job arrays equals a local run; a cancelled job resubmitted finishes the same.

The cluster is started once for the module and stopped at its end; the fixture then checks that no process it
started is left (daemons, job steps, the jobs themselves), with a job still running to make that a real test.
"""

from __future__ import annotations

import os
import subprocess
import time

import pyarrow.parquet as pq
import pytest
import yaml
from conftest import REPO, load_json, output_ids, run_curate, write_recipe
from slurm_cluster import SlurmCluster, missing_binaries, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    missing = missing_binaries()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must install Slurm (slurm-wlm, munge): missing {missing}")
        pytest.skip(f"Slurm is not installed here (missing {missing}); .ci/run installs it")
    cluster = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    env = cluster.start()
    old = os.environ.get("SLURM_CONF")
    os.environ.update(env)
    try:
        yield {**os.environ}
    finally:
        survivors = cluster.stop()  # daemons, job steps (slurmstepd) and the jobs' processes: nothing may remain
        if old is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = old
    assert not survivors, f"processes of the test cluster still running: {survivors}"


def quickstart_as(tmp_path, name: str, executor: dict, sources=None, stages=None) -> tuple:
    recipe = yaml.safe_load((REPO / "recipes/quickstart.yaml").read_text())
    for s in recipe["sources"]:
        s["path"] = str((REPO / "recipes" / s["path"]).resolve())
    if sources:
        recipe["sources"] = sources
    if stages is not None:
        recipe["stages"] = stages
    recipe["executor"] = executor
    recipe["name"] = name
    out = tmp_path / name
    recipe["output"]["path"] = str(out)
    return write_recipe(tmp_path / f"{name}.yaml", recipe), out


def shard_tables(out) -> dict:
    return {p.name: pq.read_table(p).to_pylist() for p in sorted((out / "data").glob("part-*.parquet"))}


SLURM = {  # no partition, no qos: the cluster's defaults
    "kind": "slurm",
    "tasks": 2,
    "mem_per_cpu_gb": 1,
    "cpus_per_task": 1,
    "time": "00:20:00",
    "sbatch_args": {"comment": "curate-test"},
}


def test_quickstart_on_slurm_equals_local(slurm, tmp_path):
    local_recipe, local_out = quickstart_as(tmp_path, "qs_local", {"kind": "local", "tasks": 2, "workers": 2})
    assert run_curate("run", local_recipe) == 0
    recipe, out = quickstart_as(tmp_path, "qs_slurm", SLURM)
    assert run_curate("run", recipe) == 0  # submits the job arrays and returns
    wait_for(out / "report" / "index.html", 300, slurm)  # the last job writes manifest, stats and report
    assert output_ids(out) == output_ids(local_out)
    assert shard_tables(out) == shard_tables(local_out)
    stats, local_stats = load_json(out / "stats.json"), load_json(local_out / "stats.json")
    assert stats["stages"] == local_stats["stages"] and stats["sources"] == local_stats["sources"]
    assert list((out / "logs" / "slurm" / "00_documents").glob("*.out")), "Slurm logs go under OUTPUT/logs"
    script = (out / "logs" / "00_documents" / "launch_script.slurm").read_text()
    assert "--partition" not in script and "--qos" not in script  # left to the cluster's defaults
    for line in (
        "--time=00:20:00",
        "--mem-per-cpu=1G",
        "--cpus-per-task=1",
        "--comment=curate-test",
    ):
        assert f"#SBATCH {line}" in script
    assert run_curate("status", out) == 0


def _jobs_of(name: str, env: dict) -> list[str]:
    out = subprocess.run(["squeue", "-h", "-o", "%i %j"], env=env, capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.split()[1].startswith(name)]


def test_scancel_then_resubmit_finishes_with_the_same_output(slurm, tmp_path):
    import json

    big = tmp_path / "big"
    big.mkdir()
    texts = [r["text"] for r in pq.read_table(REPO / "data/samples/fineweb-edu/000_00000.parquet").to_pylist()]
    for f in range(4):
        with open(big / f"p{f}.jsonl", "w") as fh:
            for i in range(6000):
                fh.write(json.dumps({"id": f"{f}-{i}", "text": texts[i % len(texts)] + f" {i}"}) + "\n")
    sources = [{"name": "big", "format": "jsonl", "path": str(big)}]
    stages = [{"length_filter": {"min_words": 250}}, {"gopher_repetition": {}}]  # one phase: shards appear mid-task
    local_executor = {"kind": "local", "tasks": 4, "workers": 2}
    local_recipe, local_out = quickstart_as(tmp_path, "big_local", local_executor, sources, stages)
    assert run_curate("run", local_recipe) == 0

    recipe, out = quickstart_as(tmp_path, "big_slurm", {**SLURM, "tasks": 4}, sources, stages)
    assert run_curate("run", recipe) == 0
    deadline = time.time() + 180
    while not list(out.glob("data/*part-*")) and time.time() < deadline:  # some task is writing
        time.sleep(0.1)
    jobs = _jobs_of("big_slurm", slurm)
    assert jobs, "the jobs finished before they could be cancelled"
    subprocess.run(["scancel", *jobs], env=slurm, check=True)
    while _jobs_of("big_slurm", slurm):
        time.sleep(0.5)
    assert not (out / "stats.json").exists()
    done = len(list((out / "logs" / "00_documents" / "completions").glob("*")))
    assert done < 4, "every task had finished before scancel"

    assert run_curate("run", recipe) == 0  # resubmits only the unfinished tasks
    wait_for(out / "stats.json", 300, slurm)
    kept, removed = output_ids(out)
    local_kept, local_removed = output_ids(local_out)
    assert sorted(kept) == sorted(local_kept) and len(set(kept)) == len(kept)
    assert sorted(removed) == sorted(local_removed)
    assert shard_tables(out) == shard_tables(local_out)
    assert not list(out.rglob("*.tmp"))
    assert load_json(out / "stats.json")["documents_read"] == 24000


def test_multi_phase_dedup_on_slurm_equals_local(slurm, tmp_path):
    """Filters, then exact and MinHash dedup: five dependent Slurm job arrays give the local run's output."""
    import json

    near = tmp_path / "near"
    near.mkdir()
    rows = [json.loads(line) for line in open(REPO / "data/samples/redpajama-v1/cc_2023-06_sample.jsonl")]
    with open(near / "edited.jsonl", "w") as f:
        for i, r in enumerate(rows):  # the same pages, lightly edited: near-duplicates of the RPv1 CC sample
            f.write(
                json.dumps({"id": f"edited-{i}", "text": r["text"].replace(" the ", " a ", 2) + " Read more."}) + "\n"
            )
        for i, r in enumerate(rows[:3]):  # and exact copies
            f.write(json.dumps({"id": f"copy-{i}", "text": r["text"]}) + "\n")

    def recipe_for(name: str, executor: dict):
        path, out = quickstart_as(tmp_path, name, executor)
        recipe = yaml.safe_load(path.read_text())
        recipe["sources"].append({"name": "near", "format": "jsonl", "path": str(near)})
        recipe["stages"] = [
            {"length_filter": {"min_words": 50}},
            {"exact_dedup": {}},
            {"minhash_dedup": {"threshold": 0.8}},
        ]
        return write_recipe(path, recipe), out

    local_recipe, local_out = recipe_for("dd_local", {"kind": "local", "tasks": 3, "workers": 2})
    assert run_curate("run", local_recipe) == 0
    recipe, out = recipe_for("dd_slurm", {**SLURM, "tasks": 3, "partition": "debug"})
    assert run_curate("run", recipe) == 0
    wait_for(out / "report" / "index.html", 400, slurm)
    assert "#SBATCH --partition=debug" in (out / "logs" / "00_documents" / "launch_script.slurm").read_text()

    def ledger(root):
        files = sorted((root / "removed").rglob("*.parquet"))
        return {
            str(p.relative_to(root)): pq.read_table(p, columns=["id", "reason", "duplicate_of"]).to_pylist()
            for p in files
        }

    removed_local, removed = ledger(local_out), ledger(out)
    assert output_ids(out) == output_ids(local_out)
    assert removed == removed_local
    for stage in ("exact_dedup", "minhash_dedup"):  # both found duplicates, each naming the kept document
        rows = [r for p in (out / "removed" / stage).glob("*.parquet") for r in pq.read_table(p).to_pylist()]
        assert rows and all(r["duplicate_of"] for r in rows), stage
    assert shard_tables(out) == shard_tables(local_out)
    phases = sorted(p.name for p in (out / "logs").iterdir() if (p / "launch_script.slurm").exists())
    assert len(phases) >= 5, phases  # documents, dedup global phases, documents again, finalize


def test_a_job_still_running_at_the_end_is_stopped_with_the_cluster(slurm, tmp_path):
    """A job step left running when the tests end: the fixture's teardown must end it (slurmstepd included) and
    finds no process of the cluster alive afterwards (checked in the fixture)."""
    submitted = subprocess.run(
        ["sbatch", "--parsable", "--wrap", "sleep 900", "-o", str(tmp_path / "sleep.out")],
        env=slurm,
        capture_output=True,
        text=True,
        check=True,
    )
    job = submitted.stdout.strip().split(";")[0]
    deadline = time.time() + 60
    while time.time() < deadline:
        state = subprocess.run(["squeue", "-h", "-j", job, "-o", "%T"], env=slurm, capture_output=True, text=True)
        if state.stdout.strip() == "RUNNING":
            break
        time.sleep(0.5)
    assert state.stdout.strip() == "RUNNING"
