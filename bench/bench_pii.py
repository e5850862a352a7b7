"""Benchmark: Curate's ``pii`` stage against plain Presidio ``AnalyzerEngine.analyze``, same documents, one run.

Documents: every real web document in ``shared/data/web`` (CleanEval gold and jusText, readability pages, C4,
Dolma CCNet, RedPajama) plus Presidio's synthetic PII set. Both sides run in this one process, one document at a
time, interleaved document by document so that load on a shared machine hits both alike:

* Presidio: ``AnalyzerEngine(nlp_engine=NoOpNlpEngine).analyze(text, language="en", entities=DEFAULT)``
  (detection only);
* Curate: the ``pii`` stage's step (``PiiScrubber.run``): the same detection *and* the rewriting of the text.

Throughput is characters per CPU-second of this process (``time.process_time``), i.e. per core; wall-clock
figures are printed too. Spans are compared on every document and the run fails if any differ.

    PYTHONPATH=. python3 bench/bench_pii.py
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"


def load_documents() -> list[tuple[str, str]]:
    """``(source, text)`` for every real web document and every synthetic PII sentence."""
    docs: list[tuple[str, str]] = []
    web = DATA / "web"
    paths = [
        web / "cleaneval-gold-dev.jsonl.gz",
        web / "cleaneval-justext-dev.jsonl.gz",
        web / "mozilla-readability.jsonl",
        web / "olmo-c4.jsonl",
        web / "hf-datasets-c4-dummy.jsonl",
        *sorted((web / "dolma-ccnet").glob("*.jsonl")),
        *sorted((web / "data-juicer-redpajama").glob("*.jsonl")),
    ]
    for path in paths:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as f:
            docs += [(path.name, json.loads(line)["text"]) for line in f]
    synthetic = json.loads((DATA / "pii" / "presidio-synthetic-synth_dataset_v2.json").read_text())
    docs += [("presidio-synthetic", r["full_text"]) for r in synthetic]
    return docs


def spans(results) -> list[tuple[str, int, int, float]]:
    return sorted((r.entity_type, r.start, r.end, round(r.score, 6)) for r in results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N documents")
    args = parser.parse_args()

    from datatrove.data import Document

    from pipeline.pii import DEFAULT_ENTITIES
    from pipeline.pii.detect.analyzer import build_presidio_analyzer
    from pipeline.pii.pii_stage import PiiScrubber
    from pipeline.pii.scrubber import PiiParams

    docs = load_documents()[: args.limit]
    chars = sum(len(text) for _, text in docs)
    entities = list(DEFAULT_ENTITIES)
    presidio = build_presidio_analyzer()
    step = PiiScrubber(PiiParams(), label="pii")
    scrubber = step.scrubber  # engine built before timing, as a pipeline builds it once per task
    presidio.analyze("warm up 212-555-0187 a@b.co", language="en", entities=entities)

    class Feed:
        """The stage's input: one generator for the whole run, as in a pipeline task, fed a document at a time."""

        def __init__(self) -> None:
            self.next_doc = None

        def __iter__(self):
            return self

        def __next__(self):
            if self.next_doc is None:
                raise StopIteration
            doc, self.next_doc = self.next_doc, None
            return doc

    feed = Feed()
    stage = step.run(feed)

    cpu = {"presidio": 0.0, "curate": 0.0}
    wall = {"presidio": 0.0, "curate": 0.0}
    mismatches = 0
    found = 0
    for i, (source, text) in enumerate(docs):
        c0, w0 = time.process_time(), time.perf_counter()
        expected = presidio.analyze(text, language="en", entities=entities)
        c1, w1 = time.process_time(), time.perf_counter()
        feed.next_doc = Document(text=text, id=str(i), metadata={"source": source})
        out = next(stage)
        c2, w2 = time.process_time(), time.perf_counter()
        cpu["presidio"] += c1 - c0
        cpu["curate"] += c2 - c1
        wall["presidio"] += w1 - w0
        wall["curate"] += w2 - w1
        found += len(expected)
        if spans(scrubber.find(text)) != spans(expected):
            mismatches += 1
        assert out.metadata["pii_count"] == len(expected)

    print(f"documents: {len(docs):,}  characters: {chars:,}  spans found: {found:,}  span mismatches: {mismatches}")
    for name in ("presidio", "curate"):
        print(
            f"{name:9s} {chars / cpu[name] / 1e6:8.2f} M chars/s per core (CPU {cpu[name]:.2f} s)"
            f"   {chars / wall[name] / 1e6:8.2f} M chars/s wall ({wall[name]:.2f} s)"
        )
    print(f"ratio (Curate / Presidio, per core): {cpu['presidio'] / cpu['curate']:.1f}x")
    print(f"ratio (wall): {wall['presidio'] / wall['curate']:.1f}x")
    return 1 if mismatches else 0


if __name__ == "__main__":
    raise SystemExit(main())
