"""A user's mistake in a recipe gets one error line naming the key, what was expected and the nearest name."""

from __future__ import annotations

import pytest
from conftest import REPO, run_curate

from pipeline.recipe import RecipeError, load_recipe, parse_recipe


def _fresh_python(script: str) -> list[str]:
    """The lines ``script`` prints in a new interpreter (what a module imports shows only in a fresh process)."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split("\n")


BASE = {
    "name": "t",
    "sources": [{"name": "a", "format": "jsonl", "path": "data/samples/jsonl"}],
    "stages": [{"length_filter": {"min_words": 5}}],
    "output": {"path": "out/t"},
}


def problems(data: dict) -> list[str]:
    with pytest.raises(RecipeError) as err:
        parse_recipe(data, "r.yaml")
    return err.value.problems


def with_(path: tuple, value) -> dict:
    import copy

    data = copy.deepcopy(BASE)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


def test_shipped_recipes_validate():
    from pipeline.preflight import source_problems

    for path in sorted((REPO / "recipes").glob("*.yaml")):
        recipe = load_recipe(path)
        assert recipe.model.sources, path
        if not any("://" in (s.path or "") for s in recipe.model.sources):  # offline: every source finds files
            assert source_problems(recipe) == [], path


def test_unknown_key_names_the_path_and_the_nearest_key():
    (p,) = problems(with_(("output", "shard_max_byte"), "1MB"))
    assert p.startswith("output.shard_max_byte: unknown key; did you mean 'shard_max_bytes'?")


def test_unknown_stage_suggests_the_nearest_stage():
    (p,) = problems(with_(("stages",), [{"lenght_filter": {}}]))
    assert p.startswith("stages[0]: unknown stage 'lenght_filter'; did you mean 'length_filter'?")


def test_stage_parameter_typo_and_wrong_type():
    ps = problems(with_(("stages",), [{"length_filter": {"min_wrds": 5}}, {"length_filter": {"max_chars": "many"}}]))
    assert ps[0].startswith("stages[0].length_filter.min_wrds: unknown key; did you mean 'min_words'?")
    assert ps[1].startswith("stages[1].length_filter.max_chars: Input should be a valid integer")
    assert "'many'" in ps[1]


def test_bad_format_lists_the_choices():
    (p,) = problems(with_(("sources", 0, "format"), "fineweb_edu"))
    assert p.startswith("sources[0].format: got 'fineweb_edu', expected one of")
    assert "did you mean 'fineweb-edu'?" in p


def test_missing_and_conflicting_keys():
    data = with_(("sources", 0), {"name": "a", "format": "jsonl"})
    (p,) = problems(data)
    assert p.startswith("sources[0]: give exactly one of 'path'")
    data = dict(BASE)
    data.pop("name")
    assert problems(data) == ["name: required key is missing"]


def test_every_mistake_reported_at_once():
    data = with_(("executor",), {"kind": "slurmm", "taks": 3})
    data["stages"] = [{"nope": None}]
    ps = problems(data)
    assert any(p.startswith("executor.kind: got 'slurmm'") and "did you mean 'slurm'" in p for p in ps)
    assert any(p.startswith("executor.taks: unknown key; did you mean 'tasks'?") for p in ps)
    assert any(p.startswith("stages[0]: unknown stage 'nope'") for p in ps)


def test_invalid_yaml_and_cli_exit_codes(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsources: [\n")
    assert run_curate("validate", bad) == 2
    assert run_curate("run", bad, "--output", tmp_path / "o") == 2
    err = capsys.readouterr().err
    assert "not valid YAML" in err and "line" in err
    assert run_curate("validate", REPO / "recipes" / "quickstart.yaml") == 0


def test_stage_lookup_imports_only_that_stage():
    """Validating a recipe imports the modules of its stages, not every stage's libraries (spaCy, Presidio)."""
    # (the heuristic filters, length_filter included, need spaCy: the recipe below has none of them)

    from pipeline.registry import _REGISTRY as registry
    from pipeline.registry import load_builtin_stages, stage_index

    load_builtin_stages()
    index = stage_index()
    # the source scan finds every registered stage, in its own module (stages that test modules register at
    # import, in the same pytest session, are not Curate's)
    builtin = {n for n, spec in registry.items() if not spec.factory.__module__.startswith("test_")}
    assert set(index) == builtin
    for name, module in index.items():
        assert registry[name].factory.__module__ == module
    script = (
        "import sys; from pipeline.recipe import parse_recipe; "
        "parse_recipe({'name': 'x', 'sources': [{'name': 's', 'format': 'jsonl', 'path': '.'}], "
        "'stages': [{'language_filter': {}}, {'quality_classifier': {}}, {'token_count': {}}], 'output': {'path': 'o'}}); "
        "print(sorted(m for m in ('spacy', 'presidio_analyzer', 'torch', 'pipeline.pii.pii_stage') if m in sys.modules))"
    )
    assert _fresh_python(script)[0] == "[]"


def test_spacy_and_presidio_load_without_torch_and_torch_still_imports():
    """pipeline.light_imports: spaCy and Presidio import without torch / transformers, which stay importable."""
    pytest.importorskip("torch")
    script = (
        "import sys, pipeline, spacy, presidio_analyzer, presidio_anonymizer\n"
        "print('torch' in sys.modules, 'transformers' in sys.modules)\n"
        "print([t.text for t in spacy.blank('en')(\"Don't stop.\")])\n"
        "import torch\n"
        "print(hasattr(torch, 'tensor'))\n"
    )
    assert _fresh_python(script)[:3] == ["False False", "['Do', \"n't\", 'stop', '.']", "True"]


def test_spacy_command_line_is_deferred_and_still_works():
    """pipeline.light_imports: importing spaCy does not import its command line (typer, weasel, requests); the
    first use of it (``spacy.info()``, ``spacy.cli.download``) loads the real modules."""
    script = (
        "import sys, pipeline, spacy\n"
        "print(any(m in sys.modules for m in ('typer', 'weasel', 'spacy.cli.download')))\n"
        "print(spacy.info()['spacy_version'] == spacy.__version__, 'typer' in sys.modules)\n"
        "from spacy.cli import app, download\n"
        "print(download.__module__, sorted(c.name for c in app.registered_commands if c.name in ('info', 'download')))\n"
    )
    assert _fresh_python(script)[:3] == ["False", "True True", "spacy.cli.download ['download', 'info']"]


def test_presidio_import_skips_only_its_own_pattern_checks():
    """pipeline.light_imports: importing Presidio compiles none of its predefined recognizers' regexes (a pattern
    made afterwards is still checked), and every one of those regexes is valid and still runs."""
    script = (
        "import inspect, regex, pipeline\n"
        "compiled = []\n"
        "real = regex.compile\n"
        "regex.compile = lambda pattern, *a, **k: compiled.append(pattern) or real(pattern, *a, **k)\n"
        "import presidio_analyzer.predefined_recognizers as pre\n"
        "regex.compile = real\n"
        "print(len(compiled))\n"
        "from presidio_analyzer import Pattern, PatternRecognizer\n"
        "try:\n"
        "    Pattern('mine', '(unclosed', 0.5)\n"
        "except ValueError as e:\n"
        "    print('checked', 'missing )' in str(e))\n"
        "classes = [c for _, c in inspect.getmembers(pre, inspect.isclass) if issubclass(c, PatternRecognizer)]\n"
        "patterns = [p for c in classes for p in getattr(c, 'PATTERNS', [])]\n"
        "for p in patterns:\n"
        "    real(p.regex)\n"
        "print(len(patterns) > 100, pre.UrlRecognizer().analyze('see www.example.com', ['URL'])[0].end)\n"
    )
    assert _fresh_python(script)[:3] == ["0", "checked True", "True 19"]


def test_datatrove_io_does_not_load_the_hub_client_until_used():
    """pipeline.light_imports: ``import datatrove.io`` leaves huggingface_hub's client unloaded; its HfFileSystem
    check is right before and after the real class loads, and huggingface_hub's own name is the real class."""
    script = (
        "import sys, pipeline\n"
        "import datatrove.io as dio\n"
        "print('huggingface_hub.hf_api' in sys.modules, isinstance(object(), dio.HfFileSystem))\n"
        "from huggingface_hub import HfFileSystem\n"
        "folder = dio.DataFolder('datasets/x/y', fs=HfFileSystem())\n"
        "print(isinstance(folder.fs, dio.HfFileSystem), isinstance(dio._get_true_fs(folder.fs), dio.HfFileSystem))\n"
        "print(type(dio.HfFileSystem()) is HfFileSystem, issubclass(HfFileSystem, dio.HfFileSystem))\n"
    )
    assert _fresh_python(script)[:3] == ["False False", "True True", "True True"]


def test_datatrove_hub_writers_are_deferred_and_still_work():
    """pipeline.light_imports: datatrove's filters load without its Hugging Face writers (and the hub client);
    the writers still subclass, check and construct as the real classes."""
    script = (
        "import sys, pipeline\n"
        "import datatrove.pipeline.filters\n"
        "from datatrove.pipeline.writers import HuggingFaceDatasetWriter as Lazy, ParquetWriter\n"
        "print('huggingface_hub.hf_api' in sys.modules, 'datatrove.pipeline.writers.huggingface' in sys.modules)\n"
        "class Mine(Lazy):\n"
        "    pass\n"
        "from datatrove.pipeline.writers.huggingface import HuggingFaceDatasetWriter as Real\n"
        "print(Mine.__mro__[1] is Real, issubclass(Mine, Lazy), isinstance(ParquetWriter('/tmp/x'), Lazy))\n"
        "print(Lazy.__name__, Lazy.default_output_filename, 'huggingface_hub.hf_api' in sys.modules)\n"
    )
    assert _fresh_python(script)[:3] == [
        "False True",
        "True True False",
        "HuggingFaceDatasetWriter data/${rank}.parquet True",
    ]
