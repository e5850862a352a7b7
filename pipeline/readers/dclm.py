"""DCLM-baseline: ``jsonl.zst`` rows ``{text, url, warcinfo, metadata: {WARC headers}, language_id_whole_page_fasttext,
previous_word_count, bff_contained_ngram_count_before_dedupe, fasttext_..._prob}``.

DCLM has no ``id`` field. The WARC record id (``metadata["WARC-Record-ID"]``) is the page's stable identity, the
same one FineWeb uses as its id; a row without it gets an id derived from its file and line."""

from __future__ import annotations

from datatrove.data import Document

from pipeline.readers.formats import JSONL_PATTERNS, CorpusFormat, RecordContext, make_document, take_text


def adapt(record: dict, ctx: RecordContext) -> Document:
    text = take_text(record, ctx.text_key)
    original = {k: v for k, v in record.items() if k != ctx.text_key}
    warc = record.get("metadata")
    doc_id = warc.get("WARC-Record-ID") if isinstance(warc, dict) else None
    return make_document(doc_id or ctx.derived_id(text), text, ctx.source, record.get("url"), original)


DCLM = CorpusFormat(
    name="dclm", container="jsonl", patterns=("*.jsonl.zst", "*.jsonl.zstd", *JSONL_PATTERNS), adapt=adapt
)
