"""``pii``: rewrite e-mail addresses, phone numbers, IPs, card numbers, IBANs, SSNs (any Presidio entity) in place.

Keeps every document and changes its text: each span Presidio's ``AnalyzerEngine`` finds for the configured
entities, threshold and allow-list is replaced, masked, hashed or removed (``scrubber.py``). Pretraining data must
not carry contact details or identifiers of real people, and a model trained on them can repeat them verbatim.

Detection equals ``AnalyzerEngine.analyze`` span for span, at a fraction of its cost: the recognizers run only on
the windows of text that can hold a match (``windows.py``), which ``tests/test_pii_parity.py`` proves on real
and synthetic text and ``bench/bench_pii.py`` measures. Offline by default: pattern recognizers only, no spaCy
model, no public-suffix-list download. NER entities (PERSON, LOCATION, ...) need ``spacy_model``.

Once scrubbed, the original text is gone from the document, so later stages, the output shards and the drop
ledger of later filters only ever see the scrubbed text. Every other string the document will be written with is
scrubbed too (``scrub_metadata``, on by default): the ``url``, the original fields in ``metadata["original"]``
and the values earlier stages computed (typed columns, ``attributes``). Nothing here logs document text.

Task 0 writes the detection parameters (never the salt) to ``OUTPUT/work/<label>/pii.json``, so the report scrubs
its examples with the same detector.

Records per document ``<label>_count`` (int64: spans found). Stats: ``pii_<ENTITY>`` and
``pii_<ENTITY>/source=<source>`` (spans per entity type, overall and per source), ``pii_documents`` (documents
with at least one span).
"""

from __future__ import annotations

import os
from collections import Counter

import orjson
import pyarrow as pa
from datatrove.data import DocumentsPipeline
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep

from pipeline.document import SOURCE
from pipeline.pii.scrubber import DETECTION_FILE, PiiParams, Scrubber, detection_params, shared_scrubber
from pipeline.registry import StageContext, register_stage


class PiiScrubber(PipelineStep):
    """A datatrove step that scrubs PII from ``doc.text`` (and the record's original fields)."""

    name = "🔏 PII scrub"
    type = "✂️ - FORMAT"

    def __init__(self, params: PiiParams | None = None, label: str = "pii", work_dir: str | None = None):
        super().__init__()
        self.params = params or PiiParams()
        self.label = label
        self.work_dir = work_dir
        self._scrubber: Scrubber | None = None

    @property
    def count_column(self) -> str:
        return f"{self.label}_count"

    def output_columns(self) -> dict[str, pa.DataType]:
        return {self.count_column: pa.int64()}

    @property
    def scrubber(self) -> Scrubber:
        """Built on first use, in the worker, so the step pickles as its parameters only."""
        if self._scrubber is None:
            self._scrubber = shared_scrubber(self.params)
        return self._scrubber

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_scrubber"] = None
        return state

    def scrub_document(self, doc) -> Counter:
        """Scrub ``doc`` in place (text, and url, original fields and computed values); return spans per type."""
        text, counts = self.scrubber.scrub(doc.text)
        doc.text = text
        if self.params.scrub_metadata:
            doc.metadata, found = self.scrubber.scrub_document_metadata(doc.metadata)
            counts += found
        doc.metadata[self.count_column] = int(sum(counts.values()))
        return counts

    def save_detection(self) -> None:
        """``work/<label>/pii.json``: what the report needs to find PII as this stage did (no salt)."""
        if not self.work_dir:
            return
        folder = get_datafolder(self.work_dir)
        payload = orjson.dumps({"stage": self.label, "detection": detection_params(self.params)})
        tmp = f"{DETECTION_FILE}.{os.getpid()}.tmp"
        with folder.open(tmp, "wb") as f:
            f.write(payload)
        folder.mv(tmp, DETECTION_FILE)

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if rank == 0:
            self.save_detection()
        for doc in data:
            self.stat_update("total")
            with self.track_time():
                counts = self.scrub_document(doc)
            if counts:
                self.stat_update("pii_documents")
                source = doc.metadata.get(SOURCE)
                for entity, n in counts.items():
                    self.stat_update(f"pii_{entity}", value=n)
                    if source is not None:
                        self.stat_update(f"pii_{entity}/source={source}", value=n)
            self.update_doc_stats(doc)
            yield doc


@register_stage("pii", PiiParams)
def build_pii(params: PiiParams, ctx: StageContext) -> PiiScrubber:
    """Replace, mask, hash or remove the PII Presidio finds (e-mail, phone, IP, card, IBAN, SSN by default)."""
    step = PiiScrubber(params, label=ctx.label, work_dir=ctx.work_dir)
    step.scrubber  # noqa: B018 - build now, so unknown entities and missing spaCy models fail at recipe load
    return step
