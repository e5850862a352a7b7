"""Generic JSON lines and Parquet: text and id under configurable keys (``text_key``, ``id_key``).

Every other field is kept as original metadata. A nested ``metadata`` object (Dolma's layout) is searched for a
URL as well. Rows without an id get one derived from their file and position."""

from __future__ import annotations

from datatrove.data import Document

from pipeline.readers.formats import (
    JSONL_PATTERNS,
    PARQUET_PATTERNS,
    CorpusFormat,
    RecordContext,
    make_document,
    take_text,
)


def adapt(record: dict, ctx: RecordContext) -> Document:
    text = take_text(record, ctx.text_key)
    original = {k: v for k, v in record.items() if k not in (ctx.text_key, ctx.id_key)}
    doc_id = record.get(ctx.id_key)
    url = record.get("url")
    nested = record.get("metadata")
    if not url and isinstance(nested, dict):
        url = nested.get("url")
    return make_document(doc_id if doc_id not in (None, "") else ctx.derived_id(text), text, ctx.source, url, original)


JSONL = CorpusFormat(name="jsonl", container="jsonl", patterns=JSONL_PATTERNS, adapt=adapt)
PARQUET = CorpusFormat(name="parquet", container="parquet", patterns=PARQUET_PATTERNS, adapt=adapt)
