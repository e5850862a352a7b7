"""Every shipped recipe gives the same output with one task as with several.

With one task (or one worker) datatrove's ``LocalPipelineExecutor`` runs the tasks in this process: it deep-copies
the pipeline for each task, keeps the copy that ran, and later phases write ``executor.json`` through
``dataclasses.asdict`` of every earlier step. A step that holds a loaded model (fastText, a tokenizer, Presidio)
must survive all of that, and load the model again where it is used.
"""

from __future__ import annotations

import copy
import json
import pickle

import pytest
from conftest import load_json, output_ids, run_curate
from datatrove.executor.base import ExecutorJSONEncoder
from datatrove.pipeline.base import PipelineStep

from pipeline.plan import build_plan
from pipeline.readers.corpus_reader import CorpusReader
from pipeline.recipe import load_recipe
from pipeline.resources import shipped_recipes

NETWORK_RECIPES = {"hub_streaming"}  # reads the Hugging Face Hub: recipe and plan checked only
# (tasks, workers) of the "several tasks" run, in this process one task after another: a process pool of several
# phases takes minutes on a busy 2-core machine (tests/test_run.py runs the quickstart so, with 2 tasks)
SEVERAL = {name: ("3", "1") for name in ("quickstart", "fineweb", "fineweb2", "fineweb_from_warc", "training_mix")}


def _plain_steps(recipe_name: str) -> list[PipelineStep]:
    """The stages of a shipped recipe that run on documents, as built for a run (multi-phase parts included)."""
    recipe = load_recipe(shipped_recipes()[recipe_name])
    plan = build_plan(recipe, "/tmp/curate-unused-output", tasks=1)
    steps = [s for phase in plan.phases if phase.per_task for s in phase.steps[2:-1]]  # not reset/reader/writer
    return [s for s in steps if type(s).__module__.split(".")[0] in ("pipeline", "classifiers")]


def test_shipped_recipes_are_all_covered():
    assert set(shipped_recipes()) == set(SEVERAL) | NETWORK_RECIPES


@pytest.mark.parametrize("name", sorted(NETWORK_RECIPES))
def test_network_recipes_validate(name, tmp_path):
    """Offline, its sources cannot be listed (`curate validate` says so): the recipe itself and its plan are sound."""
    recipe = load_recipe(shipped_recipes()[name])
    assert build_plan(recipe, str(tmp_path / "out"), tasks=1).phases


@pytest.mark.parametrize(
    ("name", "models"),
    [
        ("quickstart", {"language_filter", "quality_classifier", "token_count", "pii"}),
        ("fineweb2", {"language_filter", "gopher_quality"}),  # language: auto loads jieba/Sudachi/spaCy per language
    ],
)
def test_steps_survive_copy_pickle_and_executor_json_after_use(tmp_path, name, models):
    """After a step processed documents (its model loaded), what datatrove does to it must still work, and the
    copy must score the same documents the same way (its model loaded again)."""
    recipe = load_recipe(shipped_recipes()[name])
    reader = CorpusReader(list(recipe.model.sources), str(tmp_path / "reader"))
    docs = list(reader.run(None, 0, 1))[::4][:30]
    steps = _plain_steps(name)
    assert models <= {s.stats.name for s in steps}
    for step in steps:
        outputs = [(d.text, dict(d.metadata)) for d in step.run(iter(copy.deepcopy(docs)), 0, 1)]
        json.dumps({"pipeline": [step]}, cls=ExecutorJSONEncoder)  # what save_executor_as_json writes
        for clone in (copy.deepcopy(step), pickle.loads(pickle.dumps(step))):
            again = [(d.text, dict(d.metadata)) for d in clone.run(iter(copy.deepcopy(docs)), 0, 1)]
            assert again == outputs, step.stats.name


@pytest.mark.parametrize("name", sorted(SEVERAL))
def test_recipe_gives_the_same_output_with_one_task_and_several(name, tmp_path):
    tasks, workers = SEVERAL[name]
    outputs = {}
    for label, args in (
        ("one", ["--tasks", "1"]),
        ("several", ["--tasks", tasks, *(["--workers", workers] if workers else [])]),
    ):
        out = tmp_path / label
        assert run_curate("run", name, "--output", out, *args) == 0, label
        stats = load_json(out / "stats.json")
        assert stats["reconciled"], label
        kept, removed = output_ids(out)
        by_stage = {s["stage"]: (s["in"], s["kept"], s["dropped_by_reason"]) for s in stats["stages"]}
        outputs[label] = (sorted(kept), sorted(removed), by_stage)
        assert (out / "report" / "report.json").exists()
    one, several = outputs["one"], outputs["several"]
    assert one[0] and one[0] == several[0]  # the same kept ids
    assert one[1] == several[1]  # the same dropped ids
    assert one[2] == several[2]  # every stage saw, kept and dropped the same numbers, for the same reasons
