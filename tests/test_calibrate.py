"""``curate calibrate`` on a reference corpus and a noisy one, and the thresholds file it writes run in a recipe.

Reference: 120 CleanEval gold pages (hand-cleaned main text of real web pages). Noisy: 120 other gold pages, each
damaged the way crawled text is (every line repeated, lines cut to menu-like stubs, a block of navigation links
appended), plus their jusText extractions. The proposed thresholds must keep the chosen share of the reference,
each on its own (checked by running the real filter with only that rule on), drop more of the noisy corpus than of
the reference, and the file must run as ``thresholds:`` in a recipe, keeping exactly the documents the calibration
report says the chain keeps.
"""

from __future__ import annotations

import gzip
import json

import pytest
import yaml
from conftest import read_rows, run_curate, write_recipe
from datatrove.data import Document

from pipeline.calibrate import _build

KEEP = 0.9
NAV = "\n".join(["Home", "About us", "Contact", "Login", "Search", "Archive", "Privacy", "Imprint"] * 3)


def damage(text: str, i: int) -> str:
    lines = text.split("\n")
    if i % 3 == 0:
        return "\n".join(line for line in lines for _ in range(3))
    if i % 3 == 1:
        return "\n".join(" ".join(line.split()[:3]) for line in lines)
    return text + "\n" + NAV


@pytest.fixture(scope="module")
def corpora(shared_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("calibrate")
    with gzip.open(shared_dir / "web" / "cleaneval-gold-dev.jsonl.gz", "rt", encoding="utf-8") as f:
        gold = [json.loads(line) for line in f]
    with gzip.open(shared_dir / "web" / "cleaneval-justext-dev.jsonl.gz", "rt", encoding="utf-8") as f:
        justext = {json.loads(line)["id"]: json.loads(line) for line in f}
    reference = gold[:120]
    noisy = [{"id": f"noisy-{i}", "text": damage(r["text"], i)} for i, r in enumerate(gold[120:240])]
    noisy += [justext[r["id"] + "-justext"] for r in gold[120:240] if r["id"] + "-justext" in justext]
    paths = {}
    for name, rows in (("reference", reference), ("noisy", noisy)):
        (folder / name).mkdir()
        paths[name] = folder / name / "part.jsonl"
        with open(paths[name], "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps({"id": r["id"], "text": r["text"]}) + "\n")
    paths["texts"] = {"reference": [r["text"] for r in reference], "noisy": [r["text"] for r in noisy]}
    paths["folder"] = folder
    return paths


@pytest.fixture(scope="module")
def shared_dir():
    from conftest import SHARED

    return SHARED


@pytest.fixture(scope="module")
def calibrated(corpora):
    out = corpora["folder"] / "thresholds-en.yaml"
    argv = ["calibrate", "--reference", corpora["reference"], "--target", corpora["noisy"], "--language", "en"]
    assert run_curate(*argv, "--keep", str(KEEP), "--output", out) == 0
    return out, yaml.safe_load(out.read_text())


def test_each_threshold_keeps_the_chosen_share_of_the_reference(calibrated, corpora):
    _, result = calibrated
    report = result["calibration"]
    assert all(r["reference_kept"] >= KEEP for r in report["thresholds"] if r["value"] is not None)
    settings = result["languages"]["eng_Latn"]
    reference = corpora["texts"]["reference"]
    # the real filters, one rule at a time
    alone = {
        ("fineweb_quality", "line_punct_thr"): {
            "line_punct_thr": settings["fineweb_quality"]["line_punct_thr"],
            "short_line_thr": 999,
            "char_duplicates_ratio": 999,
            "new_line_ratio": 999,
        },
        ("gopher_repetition", "dup_line_frac"): {
            "dup_line_frac": settings["gopher_repetition"]["dup_line_frac"],
            "dup_para_frac": None,
            "dup_line_char_frac": None,
            "dup_para_char_frac": None,
            "top_n_grams": [],
            "dup_n_grams": [],
        },
    }
    for (stage, parameter), params in alone.items():
        stage_filter = _build(stage, {"language": "en", **params})
        kept = sum(stage_filter.filter(Document(text=t, id="x")) is True for t in reference)
        assert kept / len(reference) >= KEEP, (stage, parameter, kept)


def test_noisy_corpus_loses_more_than_the_reference(calibrated):
    _, result = calibrated
    chain = result["calibration"]["chain"]
    assert chain["target_kept"] < chain["reference_kept"] - 0.2, chain
    stages = result["calibration"]["stages"]
    assert stages["gopher_repetition"]["target_kept"] < stages["gopher_repetition"]["reference_kept"]
    assert stages["fineweb_quality"]["target_kept"] < stages["fineweb_quality"]["reference_kept"]


def test_thresholds_file_runs_in_a_recipe(calibrated, corpora, tmp_path):
    path, result = calibrated
    assert path.with_suffix(".md").read_text().startswith("# Thresholds for eng_Latn")
    counts = {}
    for name in ("reference", "noisy"):
        recipe = write_recipe(
            tmp_path / f"{name}.yaml",
            {
                "name": f"calibrated-{name}",
                "sources": [{"name": name, "format": "jsonl", "path": str(corpora[name].parent)}],
                "stages": [
                    {stage: {"language": "en", "thresholds": str(path)}}
                    for stage in ("gopher_repetition", "fineweb_quality", "gopher_quality", "length_filter")
                ],
                "output": {"path": str(tmp_path / f"out-{name}")},
                "executor": {"kind": "local", "tasks": 1, "workers": 1},
            },
        )
        assert run_curate("run", recipe) == 0
        counts[name] = len(read_rows(tmp_path / f"out-{name}" / "data"))
    chain = result["calibration"]["chain"]
    assert counts["reference"] == round(chain["reference_kept"] * chain["reference_documents"])
    assert counts["noisy"] == round(chain["target_kept"] * chain["target_documents"])


def test_chain_keep_sets_the_share_all_thresholds_keep_together(corpora):
    from pipeline.calibrate import calibrate

    reference = corpora["texts"]["reference"]
    result = calibrate(reference, corpora["texts"]["noisy"], "en", chain_keep=0.8)
    report = result["calibration"]
    assert report["chain"]["reference_kept"] >= 0.8  # measured by running the proposed filters
    assert report["keep"] > 0.8  # each threshold then keeps more than the chain does
    assert report["chain"]["target_kept"] < report["chain"]["reference_kept"]
