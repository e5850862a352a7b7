"""FineWeb and FineWeb-Edu: Parquet with ``text, id, dump, url, date, file_path, language, language_score,
token_count`` (+ ``score, int_score`` for FineWeb-Edu). ``id`` is the WARC record id; every other column is kept."""

from __future__ import annotations

from datatrove.data import Document

from pipeline.readers.formats import PARQUET_PATTERNS, CorpusFormat, RecordContext, make_document, take_text


def adapt(record: dict, ctx: RecordContext) -> Document:
    text = take_text(record, ctx.text_key)
    original = {k: v for k, v in record.items() if k not in (ctx.text_key, ctx.id_key)}
    doc_id = record.get(ctx.id_key) or ctx.derived_id(text)
    return make_document(doc_id, text, ctx.source, record.get("url"), original)


FINEWEB = CorpusFormat(name="fineweb", container="parquet", patterns=PARQUET_PATTERNS, adapt=adapt)
FINEWEB_EDU = CorpusFormat(name="fineweb-edu", container="parquet", patterns=PARQUET_PATTERNS, adapt=adapt)
