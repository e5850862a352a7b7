"""The filter stages as a recipe uses them: registry names, parameters, declared columns, bad input, URL
blocklists, RedPajama-V2 signals (documents built in RPv2's exact format from the Dolma CCNet files), the
FineWeb recipe."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import yaml
from datatrove.data import Document
from pydantic import ValidationError

from pipeline.registry import StageContext, get_stage

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
FILTERS = [
    "gopher_repetition",
    "gopher_quality",
    "c4_quality",
    "fineweb_quality",
    "language_filter",
    "length_filter",
]


def build(name: str, **params):
    spec = get_stage(name)
    return spec.factory(spec.params(**params), StageContext(name, name, "/tmp/out", "/tmp/out/work", 1))


def bad_inputs() -> dict[str, str]:
    rng = random.Random(7)
    junk = bytes(rng.getrandbits(8) for _ in range(200_000)).decode("latin-1")
    return {
        "empty": "",
        "whitespace": " \n\t\r\n  \u00a0\u2003\n",
        "single_line_10mb": ("word " * 2_000_000)[:10_000_000],
        "unbroken_10mb": "x" * 10_000_000,
        "punctuation_run": ".,;!?" * 40_000,
        "non_latin": "日本語の文章です。これはテストです。\nПривет, мир! Это тест.\nمرحبا بالعالم. هذا اختبار.\n" * 20,
        "binary_junk": junk + "\x00\ud800\x1b[0m{}\ufffd",
    }


@pytest.mark.parametrize("name", FILTERS)
def test_bad_input_never_crashes(name):
    for record in (False, True):
        params = {"record_signals": record}
        if name == "length_filter":
            params["min_words"] = 1
        step = build(name, **params)
        for label, text in bad_inputs().items():
            doc = Document(text=text, id=label, metadata={"url": None})
            result = step.filter(doc)
            assert result is True or (isinstance(result, tuple) and result[0] is False), (name, label, result)
            assert isinstance(doc.text, str)
            for column in step.output_columns():
                assert column in doc.metadata, (name, column)


def test_empty_and_junk_are_dropped_by_the_fineweb_rules():
    for name in ("gopher_repetition", "gopher_quality", "c4_quality", "fineweb_quality"):
        assert build(name).filter(Document(text="", id="e")) is not True
        assert build(name).filter(Document(text="x" * 10_000_000, id="x")) is not True or name == "gopher_repetition"


def test_parameters_are_datatrove_names_and_validated():
    assert get_stage("gopher_quality").params().min_doc_words == 50
    assert get_stage("c4_quality").params().filter_no_terminal_punct is True
    assert get_stage("fineweb_quality").params().line_punct_thr == 0.12
    assert get_stage("gopher_repetition").params().top_n_grams == ((2, 0.2), (3, 0.18), (4, 0.16))
    assert get_stage("language_filter").params().language_threshold == 0.65
    with pytest.raises(ValidationError):
        get_stage("gopher_quality").params(min_doc_word=10)  # typo: unknown key
    with pytest.raises(ValidationError):
        get_stage("c4_quality").params(min_num_sentences="many")


def test_language_filter_writes_language_columns():
    step = build("language_filter", languages=["en"])
    assert step.output_columns() == {
        "language": __import__("pyarrow").string(),
        "language_score": __import__("pyarrow").float64(),
    }
    doc = Document(text="Ceci est une phrase en français, écrite pour le test.", id="fr")
    assert step.filter(doc) == (False, "language")
    assert doc.metadata["language"] == "fr" and doc.metadata["language_score"] > 0.65


def test_url_filter_from_local_files(tmp_path):
    (tmp_path / "domains.txt").write_text("# adult sites\nbad-site.com\n\nsub.example.org\n")
    (tmp_path / "urls.txt").write_text("http://ok.net/exact/page\n")
    (tmp_path / "words.txt").write_text("casino\n")
    step = build(
        "url_filter",
        domains_file=str(tmp_path / "domains.txt"),
        urls_file=str(tmp_path / "urls.txt"),
        banned_words_file=str(tmp_path / "words.txt"),
        banned_subwords=["viagra"],
        soft_banned_words=["sex", "xxx"],
    )
    cases = {
        "https://www.bad-site.com/a": (False, "domain"),
        "http://sub.example.org/x": (False, "subdomain"),
        "http://ok.net/exact/page": (False, "url"),
        "http://games.com/casino/1": (False, "hard_blacklisted"),
        "http://a.com/sex-and-xxx": (False, "soft_blacklisted"),
        "http://cheapviagranow.com": (False, "blacklisted_subword"),
        "http://www.example.org/fine": True,
        None: True,
    }
    for url, expected in cases.items():
        assert step.filter(Document(text="t", id="u", metadata={"url": url})) == expected, url
    strict = build("url_filter", extra_domains=["x.com"], drop_missing_url=True)
    assert strict.filter(Document(text="t", id="u", metadata={"url": None})) == (False, "no_url")
    with pytest.raises(ValidationError, match="no such file"):
        get_stage("url_filter").params(domains_file=str(tmp_path / "missing.txt"))


def _whole(n_chars: int, value):
    """A document-level RPv2 signal: one span over the whole text."""
    return [[0, n_chars, value]]


def rpv2_documents() -> list[Document]:
    """Dolma CCNet docs as the RPv2 reader gives them: CCNet fields, and quality signals in RPv2's span format."""
    docs = []
    for path in sorted((SHARED / "web" / "dolma-ccnet").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            text, meta = record["text"], record["metadata"]
            lines = text.split("\n")
            spans, start = [], 0
            for line_text in lines:
                spans.append([start, start + len(line_text), float(len(line_text.split()))])
                start += len(line_text) + 1
            n_chars = len(text)
            signals = {
                "ccnet_length": _whole(n_chars, float(meta["length"])),
                "ccnet_nlines": _whole(n_chars, float(meta["nlines"])),
                "ccnet_language_score": _whole(n_chars, meta["language_score"]),
                "ccnet_perplexity": _whole(n_chars, meta["perplexity"]),
                "rps_doc_word_count": _whole(n_chars, float(len(text.split()))),
                "rps_doc_ml_palm_score": _whole(n_chars, None),
                "rps_lines_num_words": spans,
            }
            original = {**meta, "quality_signals": signals}
            docs.append(Document(text=text, id=record["id"], metadata={"url": meta["url"], "original": original}))
    return docs


def test_redpajama_v2_signals_thresholds_without_recomputing():
    docs = rpv2_documents()
    assert len(docs) == 20
    step = build(
        "redpajama_v2_signals",
        thresholds={
            "ccnet_perplexity": {"max": 400},
            "rps_doc_word_count": {"min": 50, "max": 100000},
            "rps_lines_num_words": {"min": 8, "aggregate": "mean"},
        },
        record_signals=True,
    )
    outcomes = {}
    for doc in docs:
        result = step.filter(doc)
        meta = doc.metadata["original"]
        words = len(doc.text.split())
        mean_line_words = sum(len(x.split()) for x in doc.text.split("\n")) / len(doc.text.split("\n"))
        expected = True
        if meta["perplexity"] > 400:
            expected = (False, "ccnet_perplexity_above_max")
        elif words < 50:
            expected = (False, "rps_doc_word_count_below_min")
        elif mean_line_words < 8:
            expected = (False, "rps_lines_num_words_below_min")
        assert result == expected, doc.id
        assert doc.metadata["redpajama_v2_signals.ccnet_perplexity"] == meta["perplexity"]
        outcomes[doc.id] = result
    kept = [r for r in outcomes.values() if r is True]
    assert 0 < len(kept) < len(docs)
    # a null score is missing: kept by default, dropped with on_missing: drop
    lenient = build("redpajama_v2_signals", thresholds={"rps_doc_ml_palm_score": {"min": 0.5}})
    strict = build("redpajama_v2_signals", thresholds={"rps_doc_ml_palm_score": {"min": 0.5}}, on_missing="drop")
    assert lenient.filter(docs[0]) is True
    assert strict.filter(docs[0]) == (False, "rps_doc_ml_palm_score_missing")
    assert strict.filter(Document(text="no signals", id="n")) == (False, "rps_doc_ml_palm_score_missing")
    with pytest.raises(ValidationError, match="per line"):
        get_stage("redpajama_v2_signals").params(thresholds={"rps_lines_num_words": {"min": 3}})


def test_fineweb_recipe_stages_validate():
    recipe = yaml.safe_load((REPO / "recipes" / "fineweb.yaml").read_text())
    names = [next(iter(entry)) for entry in recipe["stages"]]
    assert names == ["language_filter", "gopher_repetition", "gopher_quality", "c4_quality", "fineweb_quality"]
    for entry in recipe["stages"]:
        ((name, params),) = entry.items()
        build(name, **(params or {}))
    c4 = recipe["stages"][3]["c4_quality"]
    assert c4["filter_no_terminal_punct"] is False


def test_stages_pickle_and_run_in_a_datatrove_executor(tmp_path):
    """Executors ship steps to worker processes by pickling; the chain must also run as real datatrove steps."""
    import pickle

    from datatrove.executor import LocalPipelineExecutor

    chain = [
        build("language_filter", languages=["en"]),
        build("gopher_repetition", record_signals=True),
        build("gopher_quality", record_signals=True),
        build("c4_quality", filter_no_terminal_punct=False),
        build("fineweb_quality", record_signals=True),
        build("url_filter", extra_domains=["blocked.example"]),
    ]
    chain = [pickle.loads(pickle.dumps(step)) for step in chain]
    records = [json.loads(line) for line in (SHARED / "web" / "olmo-c4.jsonl").read_text().splitlines()]
    docs = [Document(text=r["text"], id=r["id"], metadata={"url": r.get("url")}) for r in records]
    kept: list[Document] = []

    def collect(data, rank: int = 0, world_size: int = 1):
        kept.extend(data)
        return iter(())

    LocalPipelineExecutor(pipeline=[docs, *chain, collect], tasks=1, workers=1, logging_dir=str(tmp_path)).run()
    assert 0 < len(kept) < len(docs)
    for doc in kept:
        assert doc.metadata["language"] == "en"
        assert set(chain[1].output_columns()) <= set(doc.metadata)
        assert set(chain[4].output_columns()) <= set(doc.metadata)
