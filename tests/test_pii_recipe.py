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

from pipeline.cli import main as cli_main
from pipeline.pii.planting import plant

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
    source = tmp_path / "in" / "docs.jsonl"
    source.parent.mkdir()
    source.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")

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
