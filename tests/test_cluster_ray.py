"""A real local Ray cluster runs the quickstart through datatrove's RayPipelineExecutor with a local run's output."""

from __future__ import annotations

import pytest
from conftest import load_json, output_ids, run_curate
from test_cluster_slurm import quickstart_as, shard_tables

pytestmark = pytest.mark.slow


def test_quickstart_on_ray_equals_local(tmp_path):
    ray = pytest.importorskip("ray", reason="ray is part of the dev extras")
    local_recipe, local_out = quickstart_as(tmp_path, "qs_local", {"kind": "local", "tasks": 2, "workers": 2})
    assert run_curate("run", local_recipe) == 0
    recipe, out = quickstart_as(tmp_path, "qs_ray", {"kind": "ray", "tasks": 2, "mem_per_cpu_gb": 1})
    try:
        assert run_curate("run", recipe) == 0  # no address, no RAY_ADDRESS: starts a local Ray instance
        assert ray.is_initialized()
    finally:
        ray.shutdown()
    assert output_ids(out) == output_ids(local_out)
    assert shard_tables(out) == shard_tables(local_out)
    assert load_json(out / "stats.json")["sources"] == load_json(local_out / "stats.json")["sources"]
