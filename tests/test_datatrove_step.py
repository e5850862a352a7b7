"""datatrove's own steps run inside a Curate recipe, with Curate's drop ledger."""

from __future__ import annotations

import re

import pytest
from conftest import SAMPLES, load_json, read_rows, run_curate, write_recipe

from pipeline.recipe import RecipeError, parse_recipe


def test_datatrove_regex_filter_in_a_recipe(tmp_path):
    recipe = write_recipe(
        tmp_path / "r.yaml",
        {
            "name": "dt",
            "sources": [{"name": "rp1", "format": "redpajama-v1", "path": str(SAMPLES / "redpajama-v1")}],
            "stages": [{"datatrove": {"step": "filters.RegexFilter", "args": {"regex_exp": r"\\begin\{"}}}],
            "output": {"path": str(tmp_path / "out")},
        },
    )
    assert run_curate("run", recipe) == 0
    dropped = read_rows(tmp_path / "out" / "removed" / "datatrove", ["text", "reason"])
    kept = read_rows(tmp_path / "out" / "data", ["text"])
    assert dropped and all(re.search(r"\\begin\{", r["text"]) and r["reason"] == "datatrove" for r in dropped)
    assert kept and not any(re.search(r"\\begin\{", r["text"]) for r in kept)
    assert load_json(tmp_path / "out" / "stats.json")["stages"][0]["dropped"] == len(dropped)


def test_only_datatrove_pipeline_classes_can_be_named():
    base = {"name": "x", "sources": [{"name": "a", "format": "jsonl", "path": "p"}]}
    with pytest.raises(RecipeError) as err:
        parse_recipe({**base, "stages": [{"datatrove": {"step": "filters.RegexFiltr"}}]})
    assert "stages[0].datatrove.step: no datatrove step 'filters.RegexFiltr'" in str(err.value)
    with pytest.raises(RecipeError):
        parse_recipe({**base, "stages": [{"datatrove": {"step": "os.system"}}]})
