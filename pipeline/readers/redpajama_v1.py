"""RedPajama-V1 (RedPajama-Data-1T) JSON lines.

Most subsets are ``{text, meta: {...}}`` (C4: timestamp/url/language/source; arXiv: arxiv_id/yymm/url/...;
Wikipedia: title/url/language/timestamp). The CommonCrawl subset differs: no ``meta``, and top-level
``{text, source: "cc/<file>/line<N>", pred_label, pred_label_prob, wiki_prob}``. ``meta`` is sometimes a JSON
string rather than an object; it is parsed. No subset has an id: the CC subset's ``source`` is already a unique
file/line locator and is used; other rows get a derived file/line id."""

from __future__ import annotations

import orjson
from datatrove.data import Document

from pipeline.readers.formats import JSONL_PATTERNS, CorpusFormat, RecordContext, make_document, take_text


def adapt(record: dict, ctx: RecordContext) -> Document:
    text = take_text(record, ctx.text_key)
    original = {k: v for k, v in record.items() if k != ctx.text_key}
    meta = original.get("meta")
    if isinstance(meta, str):
        try:
            meta = orjson.loads(meta)
            original["meta"] = meta
        except orjson.JSONDecodeError:
            meta = None
    url = meta.get("url") if isinstance(meta, dict) else None
    cc_locator = record.get("source") if "meta" not in record and isinstance(record.get("source"), str) else None
    doc_id = record.get(ctx.id_key) or cc_locator or ctx.derived_id(text)
    return make_document(doc_id, text, ctx.source, url, original)


REDPAJAMA_V1 = CorpusFormat(name="redpajama-v1", container="jsonl", patterns=JSONL_PATTERNS, adapt=adapt)
