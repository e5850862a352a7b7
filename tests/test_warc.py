"""WARC, ARC and WET reading on real files: ids, URLs, texts and metadata as warcio sees them; damaged records;
record boundaries for splitting a file by byte range."""

from __future__ import annotations

import gzip
import io
import os
import shutil
from pathlib import Path

import fsspec
import pytest
from warcio.archiveiterator import ArchiveIterator

from pipeline.readers import read_source
from pipeline.readers.files import BadInput
from pipeline.readers.warc import SKIP
from pipeline.readers.warc_io import iter_archive, next_record_start, splittable

FS = fsspec.filesystem("file")


def _warcio_responses(path: Path) -> list[dict]:
    """What warcio itself reads: id, url, date, digest and decoded HTML of every HTTP response record."""
    out = []
    with open(path, "rb") as f:
        for rec in ArchiveIterator(f):
            if rec.rec_type != "response":
                continue
            h = rec.rec_headers
            out.append(
                {
                    "id": h.get_header("WARC-Record-ID"),
                    "url": h.get_header("WARC-Target-URI"),
                    "date": h.get_header("WARC-Date"),
                    "digest": h.get_header("WARC-Payload-Digest"),
                    "body": rec.content_stream().read(),
                }
            )
    return out


def test_warc_pages_have_warcio_ids_urls_and_html(shared, tmp_path):
    src = shared / "warc" / "dolma" / "sample-0000.warc.gz"
    expected = _warcio_responses(src)
    assert len(expected) == 22
    docs = list(read_source({"name": "cc", "format": "warc", "path": str(src)}))
    assert [d.id for d in docs] == [e["id"] for e in expected]
    assert [d.metadata["url"] for d in docs] == [e["url"] for e in expected]
    for doc, exp in zip(docs, expected, strict=True):
        assert doc.text == exp["body"].decode("utf-8")
        meta = doc.metadata["original"]
        assert (meta["date"], meta["digest"], meta["charset"]) == (exp["date"], exp["digest"], "utf-8")
        assert meta["content_type"] == "text/html" and meta["http_status"] == 200
        assert SKIP not in doc.metadata


def test_cc_warc_charsets_and_payload_types(shared):
    """A real Common Crawl WARC: windows-1251 and gb2312 pages are decoded with their declared charset."""
    docs = list(read_source({"name": "cc", "format": "warc", "path": str(shared / "warc" / "resiliparse")}))
    assert len(docs) == 16
    by_url = {d.metadata["url"]: d for d in docs}
    ru = by_url["http://01spb.ru/company/"]
    assert ru.metadata["original"]["charset"] == "cp1251" and "Компания" in ru.text
    cn = by_url["http://037426.cn/"]
    assert cn.metadata["original"]["charset"] == "gb18030" and cn.metadata["original"]["content_type"] == (
        "application/xhtml+xml"
    )


def test_wet_conversion_records(shared):
    wet = shared / "warc" / "cc-whirlwind" / "whirlwind.warc.wet.gz"
    with open(wet, "rb") as f:
        expected = [
            (r.rec_headers.get_header("WARC-Record-ID"), r.content_stream().read().decode())
            for r in ArchiveIterator(f)
            if r.rec_type == "conversion"
        ]
    docs = list(read_source({"name": "wet", "format": "wet", "path": str(wet.parent)}))
    assert [(d.id, d.text) for d in docs] == expected
    assert docs[0].metadata["url"] == "https://an.wikipedia.org/wiki/Escopete"
    assert docs[0].metadata["original"]["refers_to"].startswith("<urn:uuid:")


def _arc_from_warc(warc: Path, n: int) -> list[bytes]:
    """ARC v1 records (file header first) holding the first ``n`` real HTTP responses of a WARC file."""
    body = b"1 0 Curate test\nURL IP-address Archive-date Content-type Archive-length\n"
    out = [b"filedesc://test.arc 0.0.0.0 20240101000000 text/plain %d\n%s\n" % (len(body), body)]
    with open(warc, "rb") as f:
        for rec in ArchiveIterator(f):
            if rec.rec_type != "response" or n == 0:
                continue
            n -= 1
            block = rec.raw_stream.read()
            http = rec.http_headers.to_bytes()
            url = rec.rec_headers.get_header("WARC-Target-URI").encode()
            out.append(b"%s 1.2.3.4 20240102030405 text/html %d\n%s\n" % (url, len(http + block), http + block))
    return out


def test_arc_files_plain_and_gzip(shared, tmp_path):
    warc = shared / "warc" / "dolma" / "sample-0001.warc.gz"
    records = _arc_from_warc(warc, 3)
    (tmp_path / "a.arc").write_bytes(b"".join(records))
    (tmp_path / "b.arc.gz").write_bytes(b"".join(gzip.compress(r) for r in records))  # one member per record
    expected = _warcio_responses(warc)[:3]
    docs = list(read_source({"name": "old", "format": "warc", "path": str(tmp_path)}))
    assert [d.metadata["url"] for d in docs] == [e["url"] for e in expected] * 2
    assert [d.text for d in docs] == [e["body"].decode() for e in expected] * 2
    # ARC has no record ids: source, file and byte offset
    assert [d.id.rsplit("/", 1)[0] for d in docs] == ["old/a.arc"] * 3 + ["old/b.arc.gz"] * 3
    assert docs[0].metadata["original"]["date"] == "2024-01-02T03:04:05Z"
    gz = str(tmp_path / "b.arc.gz")
    offsets = [r.offset for r in iter_archive(FS, gz)]
    assert next_record_start(FS, gz, 1) == offsets[0] and [int(d.id.rsplit("/", 1)[1]) for d in docs[3:]] == offsets


def test_damaged_record_is_bad_input_and_reading_goes_on(shared, tmp_path):
    data = bytearray((shared / "warc" / "dolma" / "sample-0000.warc.gz").read_bytes())
    data[15904 + 200 : 15904 + 260] = b"\0" * 60  # inside the compressed data of the 2nd response's member
    path = tmp_path / "damaged.warc.gz"
    path.write_bytes(bytes(data))
    items = list(iter_archive(FS, str(path), kinds=("response",)))
    bad = [i for i in items if isinstance(i, BadInput)]
    assert len(bad) == 1 and "reading resumes" in bad[0].problem
    assert len(items) - 1 == 21  # one response lost, the 21 others read
    docs = list(read_source({"name": "cc", "format": "warc", "path": str(tmp_path)}))
    assert len(docs) == 21


def test_truncated_files_plain_and_gzip(shared, tmp_path):
    data = (shared / "warc" / "dolma" / "sample-0000.warc.gz").read_bytes()
    (tmp_path / "t.warc.gz").write_bytes(data[:100000])
    items = list(iter_archive(FS, str(tmp_path / "t.warc.gz")))
    assert isinstance(items[-1], BadInput) and "truncated" in items[-1].problem
    raw = gzip.decompress(data)
    (tmp_path / "t.warc").write_bytes(raw[:50000])
    items = list(iter_archive(FS, str(tmp_path / "t.warc")))
    assert isinstance(items[-1], BadInput) and "before its declared length" in items[-1].problem


def test_non_html_and_undecodable_pages_are_documents_to_drop(tmp_path):
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    pages = [
        ("http://x.test/img.png", "image/png", b"\x89PNG\r\n\x1a\n" + bytes(range(256))),
        ("http://x.test/bad", "text/html; charset=utf-8", b"<html><body>\x81\x8d\x8f\x90\x9d" * 50 + b"</body></html>"),
        ("http://x.test/ok", "text/html", "<html><body><p>café</p></body></html>".encode("cp1252")),
    ]
    for url, ctype, body in pages:
        http = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http))
    (tmp_path / "made.warc.gz").write_bytes(buf.getvalue())
    docs = list(read_source({"name": "made", "format": "warc", "path": str(tmp_path)}))
    assert [d.metadata.get(SKIP) for d in docs] == ["not_html", "undecodable", None]
    assert docs[0].text == "" and docs[0].metadata["original"]["content_type"] == "image/png"
    assert docs[2].text == "<html><body><p>café</p></body></html>"


def test_record_boundaries_split_a_file_exactly(shared, tmp_path):
    src = shared / "warc" / "dolma" / "sample-0000.warc.gz"
    plain = tmp_path / "plain.warc"
    plain.write_bytes(gzip.decompress(src.read_bytes()))
    for path in (str(src), str(plain)):
        assert splittable(FS, path)
        whole = [r.offset for r in iter_archive(FS, path)]
        size = os.path.getsize(path)
        for parts in (2, 3, 7):
            cuts = [0] + [next_record_start(FS, path, i * size // parts) for i in range(1, parts)] + [None]
            assert all(c is None or c in whole for c in cuts)
            split = []
            for i in range(parts):
                if cuts[i] is None:
                    continue
                split += [r.offset for r in iter_archive(FS, path, cuts[i], cuts[i + 1])]
            assert split == whole


def test_single_gzip_stream_is_read_but_not_splittable(shared, tmp_path):
    src = shared / "warc" / "dolma" / "sample-0000.warc.gz"
    one = tmp_path / "one.warc.gz"
    one.write_bytes(gzip.compress(gzip.decompress(src.read_bytes())))
    assert not splittable(FS, str(one))
    assert len(list(read_source({"name": "s", "format": "warc", "path": str(one)}))) == 22


@pytest.mark.parametrize("fmt", ["warc", "wet"])
def test_empty_folder_and_empty_file(tmp_path, fmt):
    shutil.copy(os.devnull, tmp_path / ("e.warc.gz" if fmt == "warc" else "e.warc.wet.gz"))
    items = list(iter_archive(FS, str(next(tmp_path.iterdir()))))
    assert len(items) == 1 and items[0].problem == "empty file"


def test_inspect_shows_record_types_and_pages(shared, capfd):
    from tests.conftest import run_curate

    assert run_curate("inspect", shared / "warc" / "cc-whirlwind" / "whirlwind.warc.gz", "-n", "1") == 0
    captured = capfd.readouterr()
    out = captured.out + captured.err
    assert "'response': 1" in out and "https://an.wikipedia.org/wiki/Escopete" in out and "splittable" in out


def test_a_quoted_warc_header_in_a_page_is_not_a_record_boundary(tmp_path):
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=False)
    quoted = (
        b"<html><body><pre>\nWARC/1.0\r\nWARC-Type: response\r\nContent-Length: 5\r\n\r\nhello</pre> more</body></html>"
    )
    for url in ("http://x.test/about-warc", "http://x.test/next"):
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(quoted), http_headers=http))
    path = tmp_path / "q.warc"
    path.write_bytes(buf.getvalue())
    offsets = [r.offset for r in iter_archive(FS, str(path))]
    inside = buf.getvalue().find(b"\nWARC/1.0\r\nWARC-Type: response\r\nContent-Length: 5")
    assert 0 < inside < offsets[1] and next_record_start(FS, str(path), inside) == offsets[1]
