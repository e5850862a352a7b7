"""Exit codes mean what the README says: 2 for what is wrong before anything runs (a source path matching no file, a
missing model, tokenizer or blocklist: one line naming the key and the path, never a traceback), 3 for an output
that does not reconcile (an id written twice), 4 for a report that could not be made."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import SAMPLES, load_json, run_curate, write_recipe

from pipeline import exit_codes


def _recipe(tmp_path, sources=None, stages=None) -> dict:
    return {
        "name": "codes",
        "sources": sources or [{"name": "c4", "format": "jsonl", "path": str(SAMPLES / "jsonl")}],
        "stages": stages or [],
        "output": {"path": str(tmp_path / "out")},
        "executor": {"tasks": 2, "workers": 1},
    }


def test_a_source_path_matching_no_file_is_exit_2_before_anything_runs(tmp_path, capsys):
    sources = [
        {"name": "c4", "format": "jsonl", "path": str(SAMPLES / "jsonl")},
        {"name": "typo", "format": "fineweb-edu", "path": "samples/fineweb-eud/"},  # relative to the recipe
        {"name": "pattern", "format": "jsonl", "path": str(SAMPLES / "jsonl" / "*.jsonl.zst")},
        {"name": "format", "format": "parquet", "path": str(SAMPLES / "jsonl")},
    ]
    recipe = write_recipe(tmp_path / "r.yaml", _recipe(tmp_path, sources))
    for command in ("validate", "run"):
        assert run_curate(command, recipe) == exit_codes.INVALID
        err = capsys.readouterr().err
        assert f"sources[1].path: source 'typo': {tmp_path}/samples/fineweb-eud: no such file or folder" in err
        assert f"sources[2].path: source 'pattern': {SAMPLES}/jsonl/*.jsonl.zst: matches no file" in err
        assert "sources[3].path: source 'format'" in err and "holds no parquet input file" in err
        assert "sources[0]" not in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()  # nothing written


@pytest.mark.parametrize(
    ("stage", "key", "missing"),
    [
        ({"quality_classifier": {"model": "models/quality.bin"}}, "quality_classifier.model", "models/quality.bin"),
        ({"language_filter": {"model_path": "lid.176.bin"}}, "language_filter.model_path", "lid.176.bin"),
        ({"hf_classifier": {"model": "edu-classifier"}}, "hf_classifier.model", "edu-classifier"),
        ({"token_count": {"tokenizer": "tok/tokenizer.json"}}, "token_count.tokenizer", "tok/tokenizer.json"),
        ({"url_filter": {"domains_file": "blocklist.txt"}}, "url_filter.domains_file", "blocklist.txt"),
    ],
)
def test_a_missing_model_or_list_is_one_line_naming_key_and_path(tmp_path, capsys, stage, key, missing):
    recipe = write_recipe(tmp_path / "r.yaml", _recipe(tmp_path, stages=[{"length_filter": {}}, stage]))
    for command in ("validate", "run"):
        assert run_curate(command, recipe) == exit_codes.INVALID
        err = capsys.readouterr().err
        problems = [line for line in err.splitlines() if line.startswith("  ")]
        assert len(problems) == 1, err
        assert problems[0].strip().startswith(f"stages[1].{key}:") and str(tmp_path / missing) in problems[0]
        assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_an_id_written_twice_fails_reconciliation_with_exit_3(tmp_path, capsys):
    # the same corpus listed twice under two names: every id is written twice, and that must not pass unnoticed
    sources = [
        {"name": "c4", "format": "jsonl", "path": str(SAMPLES / "jsonl")},
        {"name": "c4_again", "format": "jsonl", "path": str(SAMPLES / "jsonl")},
    ]
    recipe = write_recipe(tmp_path / "r.yaml", _recipe(tmp_path, sources, [{"length_filter": {"min_words": 400}}]))
    assert run_curate("run", recipe) == exit_codes.UNRECONCILED
    err = capsys.readouterr().err
    assert "repeat an id" in err and "does not reconcile" in err
    out = tmp_path / "out"
    stats = load_json(out / "stats.json")
    n = sum(1 for _ in open(SAMPLES / "jsonl" / "c4-dummy.jsonl"))
    assert stats["documents_read"] == stats["kept"] + stats["dropped"] == 2 * n  # the counts alone agree
    assert stats["duplicate_ids"] == n and not stats["reconciled"]
    assert stats["duplicate_id_examples"][0].startswith("hf-c4-dummy-")
    report = load_json(out / "report" / "report.json")
    assert report["reconciliation"]["ok"] is False
    assert run_curate("report", out) == exit_codes.UNRECONCILED
    err = capsys.readouterr().err
    assert "the output does not reconcile: ids written more than once" in err
    assert "[red]" not in err  # the colour markup is rendered, not printed as text


def test_a_failed_report_is_exit_4_and_the_data_stays(tmp_path, capsys):
    recipe = write_recipe(tmp_path / "r.yaml", _recipe(tmp_path, stages=[{"length_filter": {"min_words": 50}}]))
    assert run_curate("run", recipe) == exit_codes.OK
    out = tmp_path / "out"
    shutil.rmtree(out / "report")
    (out / "report").write_text("not a folder")  # the report cannot be written
    assert run_curate("run", recipe) == exit_codes.REPORT_FAILED  # resumes (nothing to do), then the report
    err = capsys.readouterr().err
    assert "the report failed" in err and f"curate report {out}" in err
    assert load_json(out / "stats.json")["reconciled"] and list((out / "data").glob("part-*.parquet"))
    assert run_curate("report", out) == exit_codes.REPORT_FAILED
    err = capsys.readouterr().err
    assert "the report failed" in err and "[red]" not in err
    (out / "report").unlink()
    assert run_curate("report", out) == exit_codes.OK
    assert json.loads((out / "report" / "report.json").read_text())["reconciliation"]["ok"] is True
