"""HTML extraction of ``warc`` sources: the same text as the libraries give, reasons for pages without text, the
per-page time limit, its place in the plan, and a whole run with the drop ledger and the report's extraction table."""

from __future__ import annotations

import gzip
import io
import json
from itertools import islice
from pathlib import Path

import pytest
from datatrove.data import Document

from pipeline.extract.step import ExtractConfig, HtmlExtract, extraction_position
from tests.conftest import load_json, read_rows, run_curate, write_recipe


def _readability_pages(shared: Path, n: int) -> list[dict]:
    with gzip.open(shared / "html" / "readability-html-dev.jsonl.gz", "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in islice(f, n)]


def _extract_all(cfg: ExtractConfig, htmls: list[str]) -> list[tuple[bool, str]]:
    step = HtmlExtract({"s": cfg})
    docs = [Document(text=h, id=str(i), metadata={"source": "s"}) for i, h in enumerate(htmls)]
    kept = {d.id: d.text for d in step.run(iter(docs))}
    return [(str(i) in kept, kept.get(str(i), "")) for i in range(len(htmls))]


def _direct(name: str, html: str) -> str:
    """The library called as its documentation says, with the settings FineWeb / DCLM used."""
    if name == "trafilatura":
        import trafilatura
        from trafilatura.deduplication import LRU_TEST

        LRU_TEST.clear()  # the page alone, as in a fresh process
        return trafilatura.extract(html, favor_precision=True, include_comments=False, deduplicate=True) or ""
    if name == "resiliparse":
        from resiliparse.extract.html2text import extract_plain_text

        return extract_plain_text(html, main_content=True)
    import justext

    paragraphs = justext.justext(html, justext.get_stoplist("English"))
    return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)


@pytest.mark.parametrize("name", ["trafilatura", "resiliparse", "justext"])
def test_extraction_equals_the_library_on_real_pages(shared, name):
    pages = _readability_pages(shared, 4)
    got = _extract_all(ExtractConfig(extractor=name, timeout=30), [p["html"] for p in pages])
    for page, (kept, text) in zip(pages, got, strict=True):
        direct = _direct(name, page["html"])
        assert text == (direct if direct.strip() else "") and kept == bool(direct.strip()), page["id"]
    assert sum(len(text.split()) for _, text in got) > 1000


def _pathological_html(paragraphs: int = 2000) -> str:
    body = "".join(
        f"<div class='c{i % 7}'><p>Paragraph {i} with some words, and more words here.</p><a href='/x{i}'>l</a></div>"
        for i in range(paragraphs)
    )
    return f"<html><body>{body}</body></html>"


@pytest.mark.parametrize("isolation", ["signal", "process"])
def test_a_page_over_the_time_limit_is_dropped_and_the_next_is_extracted(shared, isolation):
    page = _readability_pages(shared, 1)[0]["html"]
    step = HtmlExtract({"s": ExtractConfig(timeout=0.1, isolation=isolation)})
    reasons = {}

    class Ledger:  # the exclusion writer interface BaseFilter calls
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def write(self, doc, rank):
            reasons[doc.id] = doc.metadata["filter_reason"]

    step.exclusion_writer = Ledger()
    docs = [
        Document(text=_pathological_html(), id="slow", metadata={"source": "s"}),
        Document(text=page, id="ok", metadata={"source": "s"}),
        Document(text="<html><body><script>x()</script></body></html>", id="blank", metadata={"source": "s"}),
        Document(text="not extracted", id="other", metadata={"source": "not_warc"}),
    ]
    kept = {d.id: d.text for d in step.run(iter(docs))}
    assert reasons == {"slow": "timeout", "blank": "empty"}
    assert set(kept) == {"ok", "other"} and kept["other"] == "not extracted" and "<" not in kept["ok"][:200]
    assert step.stats.stats["dropped_timeout"].total == 1


def test_extraction_goes_after_leading_url_filters_only():
    assert extraction_position(["url_filter", "url_filter", "length_filter", "url_filter"]) == 2
    assert extraction_position(["token_count", "url_filter"]) == 0
    assert extraction_position([]) == 0


def _warc_with_extra_records(shared: Path, path: Path) -> None:
    """The real whirlwind WARC, plus a PNG response, a pathological page and a page whose URL is blocked."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    buf.write((shared / "warc" / "cc-whirlwind" / "whirlwind.warc.gz").read_bytes())
    writer = WARCWriter(buf, gzip=True)
    real = _readability_pages(shared, 1)[0]["html"].encode()
    for url, ctype, body in [
        ("http://x.test/logo.png", "image/png", b"\x89PNG\r\n\x1a\n" + bytes(range(256))),
        ("http://x.test/huge", "text/html", _pathological_html().encode()),
        ("http://www.blocked-example.com/page", "text/html", real),
    ]:
        http = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http))
    path.write_bytes(buf.getvalue())


def test_run_drops_with_reasons_counts_and_reports(shared, tmp_path):
    data = tmp_path / "in"
    data.mkdir()
    _warc_with_extra_records(shared, data / "crawl.warc.gz")
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "d.warc.gz").write_bytes((shared / "warc" / "dolma" / "sample-0001.warc.gz").read_bytes())
    recipe = {
        "name": "warc_run",
        "sources": [
            {"name": "crawl", "format": "warc", "path": str(data), "extract_timeout": 0.1},
            {"name": "pages", "format": "warc", "path": str(tmp_path / "pages"), "extractor": "resiliparse"},
            {"name": "wet", "format": "wet", "path": str(shared / "warc" / "cc-whirlwind")},
        ],
        "stages": [{"url_filter": {"extra_domains": ["blocked-example.com"]}}, {"length_filter": {"min_words": 1}}],
        "output": {"path": str(tmp_path / "out")},
        "executor": {"kind": "local", "tasks": 2, "workers": 1},
    }
    out = tmp_path / "out"
    assert run_curate("run", write_recipe(tmp_path / "r.yaml", recipe)) == 0
    stats = load_json(out / "stats.json")
    assert stats["reconciled"] and stats["bad_input"] == 0
    assert [s["stage"] for s in stats["stages"]] == ["url_filter", "extract", "length_filter"]
    extract = next(s for s in stats["stages"] if s["stage"] == "extract")
    assert extract["in"] == stats["documents_read"] - 1  # the blocked page never reached extraction
    ledger = {r["url"]: r for r in read_rows(out / "removed" / "extract")}
    assert ledger["http://x.test/logo.png"]["reason"] == "not_html"
    assert ledger["http://x.test/huge"]["reason"] == "timeout"
    blocked = read_rows(out / "removed" / "url_filter")
    assert [r["url"] for r in blocked] == ["http://www.blocked-example.com/page"] and blocked[0]["text"].startswith("<")
    kept = read_rows(out / "data")
    by_source = {s: [r for r in kept if r["source"] == s] for s in ("crawl", "pages", "wet")}
    assert len(by_source["crawl"]) == 1 and len(by_source["wet"]) == 1
    crawl_text = by_source["crawl"][0]["text"]
    assert "Escopete" in crawl_text and "<div" not in crawl_text and by_source["wet"][0]["text"].startswith("Escopete")
    assert len(by_source["pages"]) >= 10 and all("<div" not in r["text"] for r in by_source["pages"])
    report = load_json(out / "report" / "report.json")
    crawl = report["extraction"]["sources"]["crawl"]
    assert crawl == {
        "pages_read": 4,
        "dropped_before_extraction": 1,
        "pages_extracted_from": 3,
        "extracted": 1,
        "not_extracted": {"not_html": 1, "timeout": 1},
    }
    assert "Extraction (HTML to text)" in (out / "report" / "report.md").read_text()


def test_recipe_mistakes_name_the_key(tmp_path):
    from pipeline.recipe import RecipeError, parse_recipe

    base = {"name": "x", "stages": [], "output": {"path": str(tmp_path)}}
    with pytest.raises(RecipeError, match=r"sources\[0\].*'extractor' applies to format 'warc' only"):
        parse_recipe({**base, "sources": [{"name": "a", "format": "jsonl", "path": "x", "extractor": "justext"}]})
    with pytest.raises(RecipeError, match=r"extractor_options.favour_precision.*did you mean 'favor_precision'"):
        src = {"name": "a", "format": "warc", "path": "x", "extractor_options": {"favour_precision": True}}
        parse_recipe({**base, "sources": [src]})
    with pytest.raises(RecipeError, match=r"sources\[0\].extractor.*did you mean 'resiliparse'"):
        parse_recipe({**base, "sources": [{"name": "a", "format": "warc", "path": "x", "extractor": "resiliparser"}]})
    with pytest.raises(RecipeError, match=r"sources\[0\]: format 'wet' reads WARC files: give 'path'"):
        parse_recipe({**base, "sources": [{"name": "a", "format": "wet", "hf_dataset": "x/y"}]})


def test_shipped_recipe_validates():
    assert run_curate("validate", "fineweb_from_warc") == 0
