"""The ``pii`` stage on real documents: scrubbed text and original fields, per-document counts, stats labels."""

from __future__ import annotations

import json
import pickle
import random
from pathlib import Path

import pyarrow as pa
from datatrove.data import Document

from pipeline.pii.planting import plant
from pipeline.registry import StageContext, get_stage

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def make_stage(**params):
    spec = get_stage("pii")
    ctx = StageContext(name="pii", label="pii", output_dir="/tmp/out", work_dir="/tmp/out/work/pii", tasks=1)
    return spec.factory(spec.params(**params), ctx)


def real_documents(planted_seed: int = 1) -> tuple[list[Document], list[tuple[str, str]]]:
    """Real C4 documents with fake PII planted in the text and in an original field."""
    rng = random.Random(planted_seed)
    docs, planted = [], []
    with open(DATA / "web" / "olmo-c4.jsonl", encoding="utf-8") as f:
        for i, line in enumerate(f):
            record = json.loads(line)
            text, values = plant(record["text"], rng, count=3)
            kind, value = values[0]
            original = {"title": f"page of {value};", "tags": ["x", value], "n": 3}
            doc = Document(
                text=text,
                id=record["id"],
                metadata={"source": record["source"], "url": record.get("url"), "original": original},
            )
            docs.append(doc)
            planted += values
            if i >= 29:
                break
    return docs, planted


def test_stage_scrubs_text_and_original_fields_and_counts():
    step = make_stage()
    assert step.output_columns() == {"pii_count": pa.int64()}
    docs, planted = real_documents()
    out = list(step.run(iter(docs)))
    assert len(out) == len(docs)  # the stage keeps every document
    blob = json.dumps([{"text": d.text, "metadata": d.metadata} for d in out])
    for _, value in planted:
        assert value not in blob
    assert all(d.metadata["pii_count"] >= 3 for d in out)
    assert sum(d.metadata["pii_count"] for d in out) >= len(planted) + len(out)  # text + original fields


def test_stats_labels_per_entity_and_per_source():
    step = make_stage()
    docs, planted = real_documents(planted_seed=2)
    list(step.run(iter(docs)))
    counters = {label: metric.total for label, metric in step.stats.stats.items()}
    planted_kinds = {kind for kind, _ in planted}
    for kind in planted_kinds:
        assert counters[f"pii_{kind}"] >= 1
    sources = {d.metadata["source"] for d in docs}
    assert any(k.startswith("pii_EMAIL_ADDRESS/source=") for k in counters) or "EMAIL_ADDRESS" not in planted_kinds
    per_source_total = sum(v for k, v in counters.items() if "/source=" in k)
    per_entity_total = sum(
        v for k, v in counters.items() if k.startswith("pii_") and "/" not in k and k != "pii_documents"
    )
    assert per_source_total == per_entity_total
    assert {k.split("/source=")[1] for k in counters if "/source=" in k} <= sources
    assert counters["pii_documents"] == len(docs)


def test_stage_with_hash_action_and_label():
    spec = get_stage("pii")
    ctx = StageContext(name="pii", label="pii_2", output_dir="/tmp/o", work_dir="/tmp/o/w", tasks=1)
    step = spec.factory(spec.params(action="hash", salt="a-salt-of-the-users-own", entities=["EMAIL_ADDRESS"]), ctx)
    doc = Document(text="mail a.b@example.org twice: a.b@example.org", id="1", metadata={"source": "s"})
    (out,) = list(step.run(iter([doc])))
    tags = out.text.split()
    assert tags[1] == tags[3] and tags[1].startswith("<EMAIL_ADDRESS:")
    assert out.metadata["pii_2_count"] == 2
    assert step.output_columns() == {"pii_2_count": pa.int64()}


def test_step_pickles_without_its_engine():
    step = make_stage(action="mask")
    clone = pickle.loads(pickle.dumps(step))
    doc = Document(text="call +1 212 555 0187 now", id="1", metadata={})
    (out,) = list(clone.run(iter([doc])))
    assert "212" not in out.text and out.text.startswith("call ****")


def test_unknown_parameters_fail_at_recipe_load():
    import pytest
    from pydantic import ValidationError

    spec = get_stage("pii")
    with pytest.raises(ValidationError):
        spec.params(entites=["EMAIL_ADDRESS"])


def test_planted_values_are_each_detectable_alone():
    """The fake values the leak tests plant are valid enough for Presidio (Luhn, IBAN check digits, real areas)."""
    from pipeline.pii.planting import fake_values
    from pipeline.pii.scrubber import build_scrubber

    scrub = build_scrubber()
    rng = random.Random(11)
    for _ in range(150):
        for kind, value in fake_values(rng):
            assert scrub(f"see {value}; here") == f"see <{kind}>; here", value
