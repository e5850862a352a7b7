"""``index.html`` in headless Chromium: no console error, no network request, every plot drawn; hostile text escaped.

The run has every piece the report shows: recorded filter signals, a dedup stage whose ledger says which document
each duplicate copies (``duplicate_of``), PII counters in ``stats.json``, and documents that try to break the page
(``<script>``, an ``<img>`` pointing at a remote host, a closing ``</pre>``). Any of those escaping into the HTML
would show up as a console error or a network request. The screenshot is kept under ``tests/artifacts/``.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter

import pytest
from conftest import SHARED, load_json, run_curate, write_recipe
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.filters.base_filter import BaseFilter
from headless_chromium import artifacts_dir, find_chromium, visit

from pipeline.registry import StageContext, StageParams, register_stage

EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
HOSTILE = [
    "<script>console.error('escaped?'); fetch('https://example.com/x')</script> " + "word " * 80,
    "<img src='https://example.com/pixel.png' onerror='console.error(1)'> </pre></details> " + "word " * 80,
    "Write to jane.doe@example.org or call me; my server is 8.8.8.8. " + "word " * 80,
]


class NoParams(StageParams):
    pass


class ExactDedup(BaseFilter):
    """Test stage: drop a document whose text was seen before (one task, so global), naming the first copy."""

    name = "test exact dedup"

    def __init__(self):
        super().__init__()
        self.first: dict[str, str] = {}

    def filter(self, doc: Document):
        first = self.first.setdefault(doc.text, doc.id)
        if first == doc.id:
            return True
        doc.metadata["duplicate_of"] = first
        return False, "duplicate"


class CountEmails(PipelineStep):
    """Test stage: counts e-mail addresses into a ``pii_EMAIL_ADDRESS`` counter, as the PII stage names them."""

    name = "test count emails"

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        for doc in data:
            self.stat_update("pii_EMAIL_ADDRESS", value=len(EMAIL.findall(doc.text)))
            yield doc


@register_stage("test_exact_dedup", NoParams)
def build_dedup(params: NoParams, ctx: StageContext) -> ExactDedup:
    """Drop exact duplicates within a task (a test stage)."""
    return ExactDedup()


@register_stage("test_count_emails", NoParams)
def build_count(params: NoParams, ctx: StageContext) -> CountEmails:
    """Count e-mail addresses (a test stage)."""
    return CountEmails()


def corpus() -> list[dict]:
    texts = [json.loads(line)["text"] for line in (SHARED / "web" / "olmo-c4.jsonl").read_text().splitlines()]
    pii = json.loads((SHARED / "pii" / "presidio-synthetic-synth_dataset_v2.json").read_text())
    texts += [row["full_text"] * 8 for row in pii[:40]]
    texts += texts[3:9] + texts[3:5] + texts[50:53]  # duplicates: clusters of 3 and of 2
    return [{"id": f"doc-{i}", "text": t} for i, t in enumerate(HOSTILE + texts)]


@pytest.fixture(scope="module")
def report_output(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report_html")
    docs = corpus()
    (tmp / "in").mkdir()
    (tmp / "in" / "docs.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    out = tmp / "out"
    recipe = write_recipe(
        tmp / "r.yaml",
        {
            "name": "html-check",
            "sources": [{"name": "mixed.web", "format": "jsonl", "path": str(tmp / "in")}],
            "stages": [
                {"token_count": {}},
                {"test_count_emails": {}},
                {"test_exact_dedup": {}},
                {"length_filter": {"min_words": 60, "record_signals": True}},
            ],
            "output": {"path": str(out)},
            "executor": {"tasks": 1},
        },
    )
    assert run_curate("run", recipe) == 0
    return out, docs


def test_dedup_and_pii_sections_match_the_input(report_output):
    out, docs = report_output
    report = load_json(out / "report" / "report.json")
    copies = Counter(d["text"] for d in docs)
    expected = Counter(n for n in copies.values() if n > 1)
    dedup = report["dedup"]["test_exact_dedup"]
    assert dedup["cluster_sizes"] == {str(k): v for k, v in sorted(expected.items())}
    assert dedup["duplicates_removed"] == sum((k - 1) * v for k, v in expected.items())
    assert report["pii"]["by_type"] == {"EMAIL_ADDRESS": sum(len(EMAIL.findall(d["text"])) for d in docs)}
    assert set(report["histograms"]) >= {"token_count", "length_filter.words", "length_filter.chars"}
    # examples are scrubbed: the e-mail and the public IP of the third hostile document are gone
    shown = " ".join(e["text"] for group in report["examples"].values() for e in group)
    assert "jane.doe@example.org" not in shown and "8.8.8.8" not in shown and "word word" in shown


def test_html_is_escaped_and_self_contained(report_output):
    out, _ = report_output
    html = (out / "report" / "index.html").read_text()
    assert "<script" not in html.lower() and "<img" not in html.lower() and "<link" not in html.lower()
    assert "&lt;script&gt;" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", html)


def test_index_html_in_headless_chromium(report_output):
    chromium = find_chromium()
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install Chromium (scripts/test installs Debian's chromium)")
        pytest.skip("no Chromium on this machine: `apt-get install -y chromium` (Debian) to run this test")
    out, _ = report_output
    page = (out / "report" / "index.html").resolve().as_uri()
    probe = """JSON.stringify({
        plots: [...document.querySelectorAll('svg.plot')].map(s => {
            const r = s.getBoundingClientRect();
            const marks = [...s.querySelectorAll('rect')].filter(m => m.getBBox().width > 0 && m.getBBox().height > 0);
            return {title: s.querySelector('title').textContent, w: r.width, h: r.height, marks: marks.length};
        }),
        scripts: document.scripts.length, images: document.images.length,
        text: document.body.textContent})"""
    result = visit(chromium, page, probe)
    shot = artifacts_dir() / "report-index.png"
    shot.write_bytes(result.screenshot)
    print(f"screenshot: {shot}")
    assert result.screenshot[:8] == b"\x89PNG\r\n\x1a\n" and len(result.screenshot) > 20_000
    assert result.console_errors == []
    assert result.requests == [page], result.requests  # the page itself, nothing else
    probed = json.loads(result.evaluated)
    assert probed["scripts"] == 0 and probed["images"] == 0
    titles = [p["title"] for p in probed["plots"]]
    for expected in (
        "Tokens after each stage, by source",
        "Documents after each stage, by source",
        "Share of the final mixture",
        "Document length in tokens",
        "length_filter.words",
        "Dedup cluster sizes (test_exact_dedup)",
        "PII found, by type",
    ):
        assert expected in titles
    assert all(p["w"] > 100 and p["h"] > 50 and p["marks"] > 0 for p in probed["plots"]), probed["plots"]
    assert "<script>console.error" in probed["text"]  # shown as text, not run
