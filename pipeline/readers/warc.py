"""``warc`` and ``wet`` sources: Common Crawl (or any crawler's) WARC, ARC and WET files, ``.gz`` or not.

* ``warc``: one document per HTTP ``response`` record (every page record of an ARC file). The document's text is
  the page's HTML, decoded (UTF-8 if it is valid UTF-8, else the charset the HTTP header or a ``<meta>`` tag
  declares, else the one resiliparse detects); the extraction step the plan adds after the reader turns it into
  text (``pipeline/extract``). A page that is not HTML (by its ``WARC-Identified-Payload-Type``, its HTTP
  ``Content-Type``, or, with neither, by sniffing) or that no charset decodes is still a document, with an empty
  text, so the extraction step can drop it with its reason (``not_html``, ``undecodable``) into the drop ledger.
* ``wet``: one document per ``conversion`` record, the text as Common Crawl extracted it.

Ids are the WARC-Record-ID (FineWeb's id); an ARC record has none, so it gets ``<source>/<file>/<byte offset>``.
``url`` is the WARC-Target-URI. ``metadata`` keeps the record's date, content type, charset, digest, HTTP status
(and for WET the referred response record and Common Crawl's language guess). A record's position is its byte
offset in the file, the same whatever the task count. Damaged records are bad input (``warc_io.py``).

A big file made of one gzip member per record (Common Crawl's), or an uncompressed WARC file, is cut into byte
ranges when tasks would otherwise idle (``pipeline/readers/work_plan.py``): a range reads the records that start
in it, entered at the first record boundary at or after its start.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator
from typing import Any, Literal

from datatrove.data import Document

from pipeline.readers.files import BadInput, Record
from pipeline.readers.formats import BadRecord, CorpusFormat, RecordContext, make_document
from pipeline.readers.warc_io import GZIP_MAGIC, ArchiveRecord, iter_archive, next_record_start, splittable
from pipeline.readers.work_plan import Span, byte_spans

WARC_PATTERNS = ("*.warc.gz", "*.warc", "*.arc.gz", "*.arc")
WET_PATTERNS = ("*.warc.wet.gz", "*.wet.gz", "*.warc.wet", "*.wet")
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "application/xml+xhtml"})
UNKNOWN_TYPES = frozenset({"", "unk", "unknown", "application/octet-stream", "no-type", "text/dns"})
SKIP = "_extract_skip"  # metadata key: why the extraction step must drop this page (popped there)
RECORD = "archive_record"
META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:\-]+)""", re.I)
SNIFF_HTML = re.compile(rb"<(?:!doctype\s+html|html|head|body|title|meta|div|p)[\s>]", re.I)
# the WHATWG encoding standard's aliases that matter in crawls: browsers decode these labels as the superset
CHARSET_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "x-sjis": "shift_jis",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "iso-8859-9": "cp1254",
    "tis-620": "cp874",
}


def _mime(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def _param_charset(content_type: str | None) -> str | None:
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip(" \"'"):
            return value.strip(" \"'")
    return None


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().lower()
    label = CHARSET_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_html(payload: bytes, declared: str | None) -> tuple[str, str] | None:
    """``(text, charset)``: UTF-8 when the bytes are valid UTF-8, else the declared charset, else the detected one."""
    try:
        return payload.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    candidates = [declared]
    if not declared:
        m = META_CHARSET.search(payload[:4096])
        candidates.append(m.group(1).decode("ascii", "replace") if m else None)
    from resiliparse.parse.encoding import detect_encoding

    candidates.append(detect_encoding(payload[:65536]))
    for label in candidates:
        codec = _codec(label)
        if codec and codec != "utf-8":
            try:
                return payload.decode(codec), codec
            except (UnicodeDecodeError, LookupError):
                continue
    return None


def _is_html(mime: str, payload: bytes) -> bool:
    if mime in HTML_TYPES:
        return True
    if mime in UNKNOWN_TYPES:
        return bool(SNIFF_HTML.search(payload[:2048]))
    return False


def _arc_date(value: str | None) -> str | None:
    if value and len(value) >= 14 and value[:14].isdigit():
        v = value
        return f"{v[:4]}-{v[4:6]}-{v[6:8]}T{v[8:10]}:{v[10:12]}:{v[12:14]}Z"
    return value


def adapt_warc(record: dict, ctx: RecordContext) -> Document:
    rec: ArchiveRecord = record[RECORD]
    h = rec.headers
    http = rec.http_headers or {}
    if rec.is_arc:
        url, date, declared_type = h.get("uri"), _arc_date(h.get("archive-date")), h.get("content-type")
    else:
        url, date, declared_type = h.get("WARC-Target-URI"), h.get("WARC-Date"), None
    mime = _mime(h.get("WARC-Identified-Payload-Type") or http.get("content-type") or declared_type)
    declared = _param_charset(http.get("content-type"))
    original: dict[str, Any] = {
        "warc_type": rec.kind,
        "date": date,
        "content_type": mime or None,
        "charset": None,
        "digest": h.get("WARC-Payload-Digest") or h.get("WARC-Block-Digest"),
        "http_status": rec.http_status,
        "payload_bytes": len(rec.payload),
    }
    if h.get("WARC-Truncated"):
        original["truncated"] = h.get("WARC-Truncated")
    skip = None
    text = ""
    if not _is_html(mime, rec.payload):
        skip = "not_html"
    else:
        decoded = decode_html(rec.payload, declared)
        if decoded is None:
            skip = "undecodable"
            original["declared_charset"] = declared
        else:
            text, original["charset"] = decoded
    doc_id = None if rec.is_arc else h.get("WARC-Record-ID")
    doc = make_document(doc_id or ctx.derived_id(text), text, ctx.source, url, original)
    if skip:
        doc.metadata[SKIP] = skip
    return doc


def adapt_wet(record: dict, ctx: RecordContext) -> Document:
    rec: ArchiveRecord = record[RECORD]
    h = rec.headers
    try:
        text = rec.payload.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadRecord(f"conversion record is not UTF-8 (byte {e.start})") from None
    if not text.strip():
        raise BadRecord("conversion record has no text")
    original = {
        "warc_type": rec.kind,
        "date": h.get("WARC-Date"),
        "content_type": _mime(h.get("Content-Type")) or None,
        "charset": "utf-8",
        "digest": h.get("WARC-Block-Digest") or h.get("WARC-Payload-Digest"),
        "refers_to": h.get("WARC-Refers-To"),
        "language": h.get("WARC-Identified-Content-Language"),
    }
    doc_id = h.get("WARC-Record-ID")
    return make_document(doc_id or ctx.derived_id(text), text, ctx.source, h.get("WARC-Target-URI"), original)


def iter_records(fs: Any, file: str, kinds: tuple[str, ...], start: int = 0, end: int | None = None) -> Iterator:
    """``Record``s (index: the record's byte offset) of the given WARC types, and ``BadInput``s."""
    for item in iter_archive(fs, file, start, end, kinds=kinds):
        if isinstance(item, BadInput):
            yield item
        elif item.kind in kinds:
            yield Record({RECORD: item}, item.offset)


def split_archive(fs: Any, file: str, size: int, target: int, source: Any) -> list[Span] | None:
    """Byte ranges of a file made of one gzip member per record (Common Crawl's) or of an uncompressed WARC file;
    ``None`` (read it whole) for a single gzip stream or an uncompressed ARC file (no boundary to find)."""
    if size <= target:
        return None
    with fs.open(file, "rb") as f:
        head = f.read(5)
    if not (head.startswith(GZIP_MAGIC) or head == b"WARC/") or not splittable(fs, file):
        return None
    return byte_spans(size, target)


def _read_span(fs: Any, file: str, kinds: tuple[str, ...], span: Span) -> Iterator:
    """The records whose first byte is in the span: entered at the first record boundary at or after its start."""
    start = 0 if span.start == 0 else next_record_start(fs, file, span.start)
    if start is not None and start < span.end:
        yield from iter_records(fs, file, kinds, start, span.end)


def _reader(container: str):
    kinds = RECORD_KINDS[container]

    def read(fs: Any, file: str, span: Span | None, source: Any) -> Iterator:
        return iter_records(fs, file, kinds) if span is None else _read_span(fs, file, kinds, span)

    return read


RECORD_KINDS = {"warc": ("response",), "wet": ("conversion",)}


def _archive_format(
    name: Literal["warc", "wet"], patterns: tuple[str, ...], adapt: Callable[[dict, RecordContext], Document]
) -> CorpusFormat:
    """A Common Crawl archive format: ids from the records themselves, split by record boundaries."""
    return CorpusFormat(
        name=name,
        container=name,
        patterns=patterns,
        adapt=adapt,
        default_id_key="",
        split_units=split_archive,
        read=_reader(name),
    )


WARC = _archive_format("warc", WARC_PATTERNS, adapt_warc)
WET = _archive_format("wet", WET_PATTERNS, adapt_wet)
