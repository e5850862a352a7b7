"""Reading WARC, ARC and WET files record by record, from any byte offset, resyncing after damage.

Common Crawl's WARC/WET files (and most crawlers' ARC/WARC files) are made of one gzip member per record, so a
record can be read starting at its member's byte offset without reading what comes before. This module exposes
that, for whole-file reading and for splitting one big file across tasks:

* ``iter_archive(fs, file, start=0, end=None)`` yields every record whose first byte lies in ``[start, end)``,
  as an ``ArchiveRecord`` (kind, headers, payload, byte offset), or a ``BadInput`` naming the byte offset of a
  damaged region. ``start`` must be a record boundary (0, or a value returned by ``next_record_start``). After a
  damaged record the reader resyncs at the next record boundary and goes on; a truncated end is one ``BadInput``.
* ``next_record_start(fs, file, pos)`` is the first record boundary at or after byte ``pos`` (``None`` past the
  last record): for a per-record-gzip file, the next gzip member whose data begins like a WARC or ARC record
  header; for an uncompressed WARC file, the next ``WARC/1.x`` line whose Content-Length leads to the next record
  or the end (uncompressed ARC files have no boundary to find: read them whole). It reads a few KB per call. A
  gzip member inside a record's payload that itself inflates to a WARC record (a crawled ``.warc.gz`` stored
  uncompressed in a record) would be taken for a boundary; Common Crawl files do not store such payloads raw.
  A split into ``n`` parts: ``cuts = [0] + [next_record_start(fs, f, i * size // n) for i in 1..n-1]``, then part
  ``i`` is ``iter_archive(fs, f, cuts[i], cuts[i+1])`` (``None`` cuts: empty parts). Every record is read by
  exactly one part, and a record's offset (its position in ids and messages) is the same whatever the split.
* ``splittable(fs, file)``: whether the file has more than one gzip member (or is uncompressed); a file that is
  one gzip stream can only be read from its start.

warcio parses the records (ARC and WARC 0.17-1.1; datatrove's ``WarcReader`` uses it too).
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pipeline.readers.files import BadInput, SourceIOError, open_guarded

GZIP_MAGIC = b"\x1f\x8b\x08"
SCAN_CHUNK = 1 << 16
HEADER_PEEK = 512
# ARC v1 record header: "<url> <ip> <14-digit date> <mime> <length>" (v2 has more fields before the length)
ARC_HEADER = re.compile(rb"^\S+ \S+ \d{14} \S* (?:.* )?\d+\r?\n")
WARC_VERSION = re.compile(rb"^WARC/\d\.\d+\r?\n")


@dataclass
class ArchiveRecord:
    """One record: ``kind`` is the WARC-Type (``response``, ``conversion``, ...; ``response`` for an ARC page)."""

    kind: str
    offset: int  # byte offset of the record (its gzip member) in the file
    is_arc: bool
    headers: dict[str, str]  # WARC (or ARC) record headers
    http_headers: dict[str, str] | None  # lower-cased HTTP response headers, when the record has them
    http_status: int | None
    payload: bytes  # the content: the HTTP body of a response, the text of a conversion record


def _looks_like_record(head: bytes) -> bool:
    return bool(WARC_VERSION.match(head) or ARC_HEADER.match(head) or head.startswith(b"filedesc://"))


def _gzip_member_head(data: bytes) -> bytes | None:
    """The first bytes a gzip member starting at ``data[0]`` inflates to, or None if it is not one."""
    try:
        return zlib.decompressobj(31).decompress(data, HEADER_PEEK)
    except zlib.error:
        return None


def _plain_record_ends_well(fs: Any, file: str, pos: int) -> bool:
    """In an uncompressed file, a ``WARC/1.x`` line at ``pos`` starts a record only if its Content-Length leads
    to the next record (or the end of the file): a page that quotes a WARC header is not taken for one."""
    with fs.open(file, "rb") as f:
        f.seek(pos)
        head = f.read(SCAN_CHUNK)
        end = head.find(b"\r\n\r\n")
        m = re.search(rb"\r\ncontent-length:\s*(\d+)", head[: end + 2] if end > 0 else b"", re.I)
        if not m:
            return False
        f.seek(pos + end + 4 + int(m.group(1)))
        after = f.read(64)
    rest = after.lstrip(b"\r\n")
    return after.startswith(b"\r\n") and (not rest or rest.startswith(b"WARC/"))


def _is_gzip(fs: Any, file: str) -> bool:
    with fs.open(file, "rb") as f:
        return f.read(3) == GZIP_MAGIC


def next_record_start(fs: Any, file: str, pos: int) -> int | None:
    """The first record boundary at or after byte ``pos``, or None when no record starts there or later."""
    gz = _is_gzip(fs, file)
    with fs.open(file, "rb") as f:
        f.seek(pos)
        base, buf = pos, b""
        while True:
            chunk = f.read(SCAN_CHUNK)
            if not chunk and not buf:
                return None
            buf += chunk
            at = 0
            while True:
                if gz:
                    at = buf.find(GZIP_MAGIC, at)
                else:
                    at = buf.find(b"WARC/", at)
                    if at > 0 and buf[at - 1 : at] != b"\n":
                        at += 1
                        continue
                if at < 0:
                    break
                window = buf[at : at + SCAN_CHUNK]
                if len(window) < SCAN_CHUNK and chunk:  # need more bytes to check this candidate
                    break
                head = _gzip_member_head(window) if gz else window[:HEADER_PEEK]
                if head and _looks_like_record(head) and (gz or _plain_record_ends_well(fs, file, base + at)):
                    return base + at
                at += 1
            if not chunk:
                return None
            keep = max(0, len(buf) - SCAN_CHUNK) if at < 0 else at
            base, buf = base + keep, buf[keep:]


def splittable(fs: Any, file: str) -> bool:
    """True for an uncompressed archive or one gzip member per record; False for a single gzip stream."""
    if not _is_gzip(fs, file):
        return True
    with fs.open(file, "rb") as f:
        d = zlib.decompressobj(31)
        while chunk := f.read(SCAN_CHUNK):
            d.decompress(chunk, 1 << 20)
            while d.unconsumed_tail:
                d.decompress(d.unconsumed_tail, 1 << 20)
            if d.eof:
                return bool(d.unused_data) or bool(f.read(1))
    return False


def _record(rec: Any, offset: int) -> ArchiveRecord:
    is_arc = rec.format.startswith("arc")
    if rec.length is None:
        raise TruncatedRecord("record header has no Content-Length (a truncated or damaged header)")
    headers = dict(rec.rec_headers.headers)
    http = None
    status = None
    if rec.http_headers is not None and rec.http_headers.protocol.upper().startswith("HTTP"):
        http = {k.lower(): v for k, v in rec.http_headers.headers}
        try:
            status = int(rec.http_headers.get_statuscode())
        except (TypeError, ValueError):
            status = None
    payload = rec.content_stream().read()
    rec.raw_stream.read()  # what a content decoder left unread
    missing = getattr(rec.raw_stream, "limit", 0)
    if missing > 0:
        raise TruncatedRecord(f"record ends {missing:,} bytes before its declared length")
    kind = "response" if is_arc and rec.rec_type == "response" else rec.rec_type
    return ArchiveRecord(kind, offset, is_arc, headers, http, status, payload)


class TruncatedRecord(ValueError):
    """A record whose block is shorter than its declared length (a truncated file)."""


def _resync(fs: Any, file: str, after: int, end: int | None) -> int | None:
    nxt = next_record_start(fs, file, after + 1)
    return None if nxt is None or (end is not None and nxt >= end) else nxt


def iter_archive(
    fs: Any, file: str, start: int = 0, end: int | None = None, kinds: tuple[str, ...] | None = None
) -> Iterator[ArchiveRecord | BadInput]:
    """Records starting in ``[start, end)`` (all kinds, or only ``kinds``), and a ``BadInput`` per damaged region."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    pos: int | None = start
    seen_any = False
    stream = False  # a single gzip stream (not one member per record): read decompressed, from the start only
    done = 0  # records passed before switching to stream mode
    while pos is not None:
        failed_at, where = pos, f"record at byte {pos}"
        n = 0
        try:
            with open_guarded(fs, file) as guarded:  # a failing read raises SourceIOError: never taken for damage
                raw = gzip.GzipFile(fileobj=guarded, mode="rb") if stream else guarded
                if not stream:
                    raw.seek(pos)
                it = ArchiveIterator(raw, no_record_parse=False, arc2warc=False, ensure_http_headers=False)
                for rec in it:
                    offset = it.offset  # (get_record_offset() would read the record to its end first)
                    failed_at, where = offset, f"record at byte {offset}"
                    if end is not None and offset >= end:
                        return
                    seen_any = True
                    n += 1
                    if stream and n <= done:
                        continue
                    if kinds is not None and rec.rec_type not in kinds and not rec.format.startswith("arc"):
                        continue
                    if rec.rec_type == "arc_header":
                        continue
                    yield _record(rec, offset)
                    # damage found while looking for the next record: resync past this one
                    failed_at, where = offset + 1, f"after the record at byte {offset}"
                tail = it.offset  # where reading stopped: the file's end, unless its end is damaged
            pos = None
            if not stream and end is None and tail < fs.size(file):
                raise TruncatedRecord(f"{fs.size(file) - tail:,} bytes at the end are not a complete record")
        except SourceIOError:
            raise  # the task fails and the next run reads the file again
        except (ArchiveLoadFailed, EOFError, OSError, zlib.error, ValueError, IndexError, KeyError) as e:
            if not stream and start == 0 and "non-chunked gzip" in str(e):
                stream, done, pos = True, n, 0
                continue
            if stream:
                where = f"after record {n} of the decompressed stream"
                yield BadInput(
                    file, where, f"damaged or truncated ({type(e).__name__}: {str(e)[:200]}); the rest is skipped"
                )
                return
            nxt = _resync(fs, file, failed_at, end)
            what = f"damaged or truncated record ({type(e).__name__}: {str(e)[:200]})"
            if nxt is None:
                yield BadInput(file, where, f"{what}; the rest of the file is skipped")
            else:
                yield BadInput(file, where, f"{what}; reading resumes at byte {nxt}")
            seen_any = True
            pos = nxt
    if not seen_any and start == 0:
        yield BadInput(file, "file", "empty file")
