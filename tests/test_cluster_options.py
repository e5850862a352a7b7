"""Cluster details a recipe controls: Slurm's partition and QOS only when given; dedup's score column checked.

The real Slurm runs (tests/test_cluster_slurm.py) submit without a partition and without a QOS; here the sbatch
directives are read from the executor that would submit them, and the dedup score column is refused by
``curate validate`` and ``curate run`` before anything runs.
"""

from __future__ import annotations

import pytest
from conftest import SAMPLES, run_curate, write_recipe

from pipeline.executors import build_executors
from pipeline.plan import build_plan
from pipeline.recipe import RecipeError, parse_recipe


def _recipe(tmp_path, stages: list, executor: dict | None = None) -> dict:
    return {
        "name": "opts",
        "sources": [{"name": "c4", "format": "jsonl", "path": str(SAMPLES / "jsonl")}],
        "stages": stages,
        "output": {"path": str(tmp_path / "out")},
        "executor": executor or {"kind": "local"},
    }


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, {}),  # the cluster's default partition, the account's default QOS: no directive at all
        ({"partition": "gpu", "qos": "high"}, {"partition": "gpu", "qos": "high"}),
        ({"qos": "low"}, {"qos": "low"}),
    ],
)
def test_slurm_partition_and_qos_only_when_given(tmp_path, given, expected):
    recipe = parse_recipe(_recipe(tmp_path, [{"length_filter": {"min_words": 5}}], {"kind": "slurm", **given}))
    plan = build_plan(recipe, str(tmp_path / "out"), tasks=2)
    for executor in build_executors(plan, recipe.model.executor):
        args = executor.get_sbatch_args()
        assert {k: args[k] for k in ("partition", "qos") if k in args} == expected
        script = executor.get_launch_file_contents(args, "true")
        assert ("#SBATCH --partition" in script) == ("partition" in expected)
        assert ("#SBATCH --qos" in script) == ("qos" in expected)


def test_score_column_must_be_written_by_an_earlier_stage(tmp_path, capsys):
    keep = {"keep": "highest_score", "score_column": "quality_score"}
    late = write_recipe(
        tmp_path / "late.yaml", _recipe(tmp_path, [{"minhash_dedup": keep}, {"quality_classifier": {}}])
    )
    assert run_curate("validate", late) == 2
    err = capsys.readouterr().err
    assert "stages[0].minhash_dedup.score_column: no earlier stage writes 'quality_score'" in err
    assert run_curate("run", late) == 2  # refused before any task starts
    assert not (tmp_path / "out" / "logs").exists()

    text = write_recipe(
        tmp_path / "text.yaml",
        _recipe(
            tmp_path, [{"language_filter": {}}, {"exact_dedup": {"keep": "highest_score", "score_column": "language"}}]
        ),
    )
    assert run_curate("validate", text) == 2
    assert "stages[1].exact_dedup.score_column: 'language' is a string column, not a number" in capsys.readouterr().err

    by_field = {"keep": "highest_score", "score_column": "original.score"}  # a corpus field: no stage writes it
    good = _recipe(tmp_path, [{"quality_classifier": {}}, {"exact_dedup": keep}, {"minhash_dedup": by_field}])
    assert run_curate("validate", write_recipe(tmp_path / "good.yaml", good)) == 0


def test_highest_score_needs_a_score_column_and_only_it_takes_one():
    with pytest.raises(RecipeError, match=r"stages\[0\]\.minhash_dedup\.score_column: keep 'highest_score' needs"):
        parse_recipe(
            {
                "name": "x",
                "sources": [{"name": "a", "format": "jsonl", "path": "a"}],
                "stages": [{"minhash_dedup": {"keep": "highest_score"}}],
            }
        )
    with pytest.raises(RecipeError, match=r"score_column is used only with keep: highest_score"):
        parse_recipe(
            {
                "name": "x",
                "sources": [{"name": "a", "format": "jsonl", "path": "a"}],
                "stages": [{"exact_dedup": {"score_column": "quality_score"}}],
            }
        )
