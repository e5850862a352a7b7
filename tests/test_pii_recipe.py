"""A full recipe run with PII planted in its input leaves none of it in any file under the output folder.

The recipe drops short documents *before* the ``pii`` stage (the runtime must scrub their drop-ledger text with
``pipeline.pii.scrubber.build_scrubber``) and long ones *after* it (their ledger text is already scrubbed).
"""

from __future__ import annotations

import gzip
import io
import json
import random
from pathlib import Path

from conftest import write_jsonl
from datatrove.pipeline.base import PipelineStep

from pipeline.cli import main as cli_main
from pipeline.pii.planting import fake_values, plant
from pipeline.registry import StageContext, StageParams, register_stage

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def file_contents(path: Path) -> str:
    """Everything a file holds, decoded: Parquet cells, decompressed text, or the raw bytes."""
    raw = path.read_bytes()
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return json.dumps(pq.read_table(io.BytesIO(raw)).to_pylist(), default=str, ensure_ascii=False)
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    elif path.suffix == ".zst":
        import zstandard

        raw = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)).read()
    return raw.decode("utf-8", errors="replace")


def test_planted_pii_appears_in_no_output_file(tmp_path: Path):
    rng = random.Random(2024)
    records, planted = [], []
    with open(DATA / "web" / "olmo-c4.jsonl", encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            text, values = plant(record["text"], rng, count=3)
            kind, value = values[0]
            records.append({"id": record["id"], "text": text, "url": record.get("url"), "title": f"by {value};"})
            planted += values
    # two short documents that the first filter drops before the pii stage
    for i in range(2):
        text, values = plant("tiny note", rng, count=2)
        # PII in an original field too: the ledger of a stage before `pii` must scrub those as well
        records.append({"id": f"short-{i}", "text": text, "url": None, "title": f"short, by {values[0][1]}"})
        planted += values
    source = write_jsonl(tmp_path / "in" / "docs.jsonl", records)

    recipe = {
        "name": "pii-leak-check",
        "sources": [{"name": "planted", "format": "jsonl", "path": str(source)}],
        "stages": [
            {"length_filter": {"min_words": 10}},
            {"pii": {"action": "replace"}},
            {"length_filter": {"max_words": 400}},
        ],
        "output": {"path": str(tmp_path / "out")},
    }
    recipe_path = tmp_path / "recipe.yaml"
    import yaml

    recipe_path.write_text(yaml.safe_dump(recipe), encoding="utf-8")
    out = tmp_path / "out"
    rc = cli_main(["run", str(recipe_path), "--output", str(out)])
    assert rc in (None, 0)

    files = [p for p in out.rglob("*") if p.is_file()]
    assert files
    everything = "\n".join(file_contents(p) for p in files)
    assert "<EMAIL_ADDRESS>" in everything or "<PHONE_NUMBER>" in everything  # the scrubbed text is there
    leaks = [(kind, value) for kind, value in planted if value in everything]
    assert not leaks


# -- PII outside the text: url, original fields (nested, keys too), computed attributes --------------------------
class _NoteParams(StageParams):
    field: str = "title"


class _CopyFieldToAttributes(PipelineStep):
    """A user's own stage: copies an original field into an undeclared metadata key (the `attributes` column)."""

    name = "copy field"

    def __init__(self, field: str):
        super().__init__()
        self.field = field

    def run(self, data, rank: int = 0, world_size: int = 1):
        for doc in data:
            doc.metadata["note"] = {"copied": doc.metadata["original"].get(self.field), "n": 1}
            yield doc


@register_stage("test_copy_field_to_attributes", _NoteParams)
def _build_copy(params: _NoteParams, ctx: StageContext) -> PipelineStep:
    """Test-only stage: copy an original field into the attributes."""
    return _CopyFieldToAttributes(params.field)


def test_pii_in_url_fields_and_attributes_appears_in_no_output_file(tmp_path: Path):
    """PII planted in the url's query string, in original fields (nested values, a mapping key) and in a value a
    stage computed: none of it in data/, removed/ (stages before and after `pii`), work/ or report/."""
    import pyarrow.parquet as pq

    rng = random.Random(7)
    records, planted = [], []
    allowed = "press@example.org"  # on the pii stage's allow-list: kept by the stage, so by the report too
    with open(DATA / "web" / "olmo-c4.jsonl", encoding="utf-8") as f:
        lines = f.readlines()[:12]
    for i, line in enumerate(lines):
        record = json.loads(line)
        values = [v for _, v in fake_values(rng)]
        email, phone, card, ip, iban, ssn = values
        planted += values
        text = record["text"] if i else f"Press contact {allowed}. " + record["text"]
        records.append(
            {
                "id": record["id"],
                "text": text,
                "url": f"https://shop.example.com/order?contact={email}&tel={phone}&from={ip}",
                "title": f"Order for card {card}",
                "meta": {"payer": {"iban": iban, "notes": [f"ssn {ssn}", "ok"]}},
                "contacts": {email: "primary"},
            }
        )
    records.append(dict(records[3], id="copy-of-3"))  # an exact duplicate: dropped by exact_dedup, before pii
    short_values = [v for _, v in fake_values(rng)]
    planted += short_values
    records.append(
        {
            "id": "short",
            "text": "tiny note",  # dropped by the length filter, before pii
            "url": f"http://{short_values[3]}/u?mail={short_values[0]}",
            "title": f"call {short_values[1]}",
        }
    )
    source = write_jsonl(tmp_path / "in" / "docs.jsonl", records)
    recipe = {
        "name": "pii-fields",
        "sources": [{"name": "planted", "format": "jsonl", "path": str(source)}],
        "stages": [
            {"test_copy_field_to_attributes": {"field": "title"}},
            {"length_filter": {"min_words": 10}},
            {"exact_dedup": {}},
            {"pii": {"allow_list": [allowed]}},
            {"length_filter": {"max_words": 300}},
        ],
    }
    import yaml

    recipe_path = tmp_path / "recipe.yaml"
    recipe_path.write_text(yaml.safe_dump(recipe), encoding="utf-8")
    out = tmp_path / "out"
    assert cli_main(["run", str(recipe_path), "--output", str(out)]) == 0

    ledgers = {p.parent.name for p in (out / "removed").rglob("*.parquet")}
    assert {"length_filter", "exact_dedup", "length_filter_2"} <= ledgers  # before and after the pii stage
    kept = [r for p in sorted((out / "data").glob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    assert kept and all("<EMAIL_ADDRESS>" in r["url"] and "<PHONE_NUMBER>" in r["url"] for r in kept)
    assert all("<CREDIT_CARD>" in r["attributes"] for r in kept)  # the computed value, scrubbed
    assert not list((out / "work").glob("handoff_*"))  # the unscrubbed copy between phases is gone
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.parent.name == "report" for p in files)
    everything = "\n".join(file_contents(p) for p in files)
    leaks = [value for value in planted if value in everything]
    assert not leaks, leaks

    # the report's examples come through the stage's own detector: its allow-listed address stays
    report = json.loads((out / "report" / "report.json").read_text())
    assert report["pii"]["examples_detector"]["from"] == "pii stage pii"
    assert any(allowed in e["text"] for e in report["examples"]["kept"])
