"""Parity with datatrove on real Chinese, Japanese, German, Russian and Arabic text, with FineWeb-2's settings.

For each language, datatrove's ``GopherRepetitionFilter``, ``FineWebQualityFilter`` and ``GopherQualityFilter`` are
built exactly as FineWeb-2's pipeline script builds them (its config for the language, ``language=<code>``), and
Curate's stages with ``{language: <code>, thresholds: fineweb2}``; keep/drop decisions and reasons must be equal on
every document and on derived variants (halves, repeated lines, lists), and so must the word lists. The same holds
with ``language: auto`` on documents labelled by ``language_filter``'s lid.176 label.

c4_quality (sentence counts) and length_filter (word counts) are checked with the language too.

Real text: the Common Crawl pages of the shipped DCLM sample (Chinese, Russian, German), the non-English
mozilla/readability pages of the shipped multilingual sample (Chinese, Japanese, German), and spaCy's own example
sentences for Japanese, Russian and Arabic (``spacy.lang.*.examples``, MIT), joined into pages.
"""

from __future__ import annotations

import importlib
import json

import pytest
import zstandard
from datatrove.data import Document
from datatrove.pipeline.filters import FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter
from datatrove.utils.text import split_into_words

from pipeline.filters.languages import fineweb2_configs, lid_label
from pipeline.filters.word_analysis import analyze
from pipeline.registry import StageContext, get_stage
from pipeline.resources import data_path

LANGUAGES = ("cmn_Hani", "jpn_Jpan", "deu_Latn", "rus_Cyrl", "arb_Arab")
STAGES = ("gopher_repetition", "fineweb_quality", "gopher_quality")
REASONS = (
    "gopher_short_doc",
    "gopher_long_doc",
    "gopher_below_avg_threshold",
    "gopher_above_avg_threshold",
    "gopher_too_many_hashes",
    "gopher_too_many_ellipsis",
    "gopher_too_many_bullets",
    "gopher_too_many_end_ellipsis",
    "gopher_below_alpha_threshold",
    "gopher_enough_stop_words",
)


def _lid(text: str) -> str:
    import fasttext

    from pipeline.filters.language_filter import DEFAULT_MODEL

    global _MODEL
    if _MODEL is None:
        _MODEL = fasttext.load_model(str(DEFAULT_MODEL))
    return _MODEL.predict(text.replace("\n", " "))[0][0].removeprefix("__label__")


_MODEL = None


def _spacy_examples(code: str) -> list[str]:
    return list(importlib.import_module(f"spacy.lang.{code}.examples").sentences)


@pytest.fixture(scope="module")
def corpus() -> dict[str, list[str]]:
    """Real pages per language, each page's language checked by lid.176."""
    dclm = next(data_path("samples", "dclm").rglob("*.jsonl.zst"))
    with open(dclm, "rb") as f:
        pages = [json.loads(line)["text"] for line in zstandard.ZstdDecompressor().stream_reader(f).read().splitlines()]
    with open(data_path("samples", "multilingual", "readability-pages.jsonl"), encoding="utf-8") as f:
        pages += [json.loads(line)["text"] for line in f]
    out: dict[str, list[str]] = {code: [] for code in LANGUAGES}
    for text in pages:
        label = _lid(text)
        for code in LANGUAGES:
            if lid_label(code) == label:
                out[code].append(text)
    for code, lang in (("jpn_Jpan", "ja"), ("rus_Cyrl", "ru"), ("arb_Arab", "ar")):
        sentences = _spacy_examples(lang)
        out[code].append("\n".join(sentences))
        out[code].append(" ".join(sentences * 3))
        out[code].append("\n\n".join(sentences[:3]))
    for code, texts in out.items():
        assert len(texts) >= 3, code
    return out


def variants(text: str) -> list[str]:
    lines = text.split("\n")
    return [
        text,
        text[: len(text) // 2],
        "\n".join(lines[: max(1, len(lines) // 3)]),
        text + "\n" + "\n".join(lines[:5]),  # repeated lines
        "\n".join(line[:20] for line in lines),  # short lines: a list
        "\n".join(lines * 2),
    ]


def datatrove_filters(code: str) -> dict:
    """datatrove's filters as fineweb-2-pipeline.py builds them for ``code``."""
    config = fineweb2_configs()[code]
    return {
        "gopher_repetition": GopherRepetitionFilter(
            language=code,
            dup_para_frac=0,
            dup_line_char_frac=0,
            dup_para_char_frac=0,
            dup_line_frac=config["dup_line_frac"],
            top_n_grams=config["top_n_grams"],
            dup_n_grams=config["dup_n_grams"],
        ),
        "fineweb_quality": FineWebQualityFilter(
            language=code,
            short_line_thr=999,
            char_duplicates_ratio=0.1,
            line_punct_thr=config["line_punct_thr"],
            new_line_ratio=config["new_line_ratio"],
        ),
        "gopher_quality": GopherQualityFilter(
            language=code,
            max_avg_word_length=config["max_avg_word_length"],
            min_avg_word_length=config["min_avg_word_length"],
            stop_words=config["stopwords"],
            max_non_alpha_words_ratio=config["max_non_alpha_words_ratio"],
            min_stop_words=2,
        ),
    }


def curate_filter(stage: str, params: dict):
    spec = get_stage(stage)
    ctx = StageContext(name=stage, label=stage, output_dir="/tmp/unused", work_dir="/tmp/unused", tasks=1)
    return spec.factory(spec.params.model_validate(params), ctx)


def outcome(result) -> str | None:
    if result is True:
        return None
    return result[1] if isinstance(result, tuple) else "dropped"


@pytest.mark.parametrize("code", LANGUAGES)
def test_words_equal_datatrove(corpus, code):
    for text in corpus[code]:
        for variant in variants(text):
            assert analyze(variant, code).words == split_into_words(variant, code)


@pytest.mark.parametrize("code", LANGUAGES)
def test_fineweb2_decisions_equal_datatrove(corpus, code):
    reference = datatrove_filters(code)
    fixed = {s: curate_filter(s, {"language": code, "thresholds": "fineweb2"}) for s in STAGES}
    auto = {s: curate_filter(s, {"language": "auto", "thresholds": "fineweb2"}) for s in STAGES}
    label = lid_label(code)
    reasons = set()
    for text in corpus[code]:
        for variant in variants(text):
            for stage in STAGES:
                expected = outcome(reference[stage].filter(Document(text=variant, id="x")))
                got = outcome(fixed[stage].filter(Document(text=variant, id="x")))
                assert got == expected, (code, stage, variant[:80])
                labelled = Document(text=variant, id="x", metadata={"language": label})
                assert outcome(auto[stage].filter(labelled)) == expected, (code, stage, "auto")
                reasons.add(expected)
    assert None in reasons and len(reasons) >= 3, reasons  # both kept and dropped pages, several rules


def test_lid_label_and_fineweb2_code_name_the_same_settings(corpus):
    by_code = curate_filter("gopher_quality", {"language": "cmn_Hani", "thresholds": "fineweb2"})
    by_label = curate_filter("gopher_quality", {"language": "zh", "thresholds": "fineweb2"})
    assert (
        by_code.settings.fixed.stop_words
        == by_label.settings.fixed.stop_words
        == fineweb2_configs()["cmn_Hani"]["stopwords"]
    )
    for text in corpus["cmn_Hani"]:
        doc_a, doc_b = Document(text=text, id="a"), Document(text=text, id="b")
        assert outcome(by_code.filter(doc_a)) == outcome(by_label.filter(doc_b))


def test_recipe_parameters_override_loaded_ones():
    stage = curate_filter("gopher_quality", {"language": "deu_Latn", "thresholds": "fineweb2", "min_stop_words": 7})
    p = stage.settings.fixed
    assert p.min_stop_words == 7  # the recipe's
    assert p.max_avg_word_length == fineweb2_configs()["deu_Latn"]["max_avg_word_length"]  # loaded
    repetition = curate_filter(
        "gopher_repetition", {"language": "auto", "thresholds": "fineweb2", "dup_line_frac": 0.9}
    )
    p = repetition.settings.for_language("rus_Cyrl")
    assert p.dup_line_frac == 0.9 and p.dup_para_frac == 0
    assert [list(x) for x in p.top_n_grams] == fineweb2_configs()["rus_Cyrl"]["top_n_grams"]


@pytest.mark.parametrize("action", ["keep", "drop"])
def test_auto_unconfigured_language_kept_or_dropped_and_counted(action):
    stage = curate_filter(
        "gopher_quality", {"language": "auto", "thresholds": "fineweb2", "unconfigured_language": action}
    )
    docs = [
        Document(text="ein Text", id="1", metadata={"language": "xx_Fake"}),  # no config, no tokenizer
        Document(text="ein Text", id="2", metadata={}),  # never labelled
    ]
    results = [outcome(stage.filter(d)) for d in docs]
    expected = None if action == "keep" else "unconfigured_language"
    assert results == [expected, expected]
    counters = {k: v.total for k, v in stage.stats.stats.items()}
    assert counters["unconfigured_language/xx_Fake"] == 1 and counters["unconfigured_language/unknown"] == 1


def test_unknown_language_or_thresholds_is_a_recipe_error_naming_the_key(tmp_path):
    with pytest.raises(ValueError, match="gopher_quality.language"):
        curate_filter("gopher_quality", {"language": "xx_Fake"})
    with pytest.raises(ValueError, match="fineweb_quality.thresholds"):
        curate_filter("fineweb_quality", {"language": "deu_Latn", "thresholds": str(tmp_path / "missing.yaml")})


@pytest.mark.parametrize("code", ["jpn_Jpan", "cmn_Hani"])
def test_broken_text_never_raises(code):
    stage = curate_filter("gopher_quality", {"language": code, "thresholds": "fineweb2", "min_doc_words": None})
    for text in ("abc \ud800 日本語", "\x00\x01", "", " ", "IS_ALPHA 日本", "日" * 120_000):
        assert outcome(stage.filter(Document(text=text, id="x"))) in (None, *REASONS)


@pytest.mark.parametrize("code", LANGUAGES)
def test_c4_and_length_with_language_equal_datatrove(corpus, code):
    """c4_quality counts sentences, length_filter words, with the language's tokenizer, as datatrove does."""
    from datatrove.pipeline.filters import C4QualityFilter

    params = {"filter_no_terminal_punct": False, "min_words_per_line": 1, "min_num_sentences": 8}
    reference = C4QualityFilter(language=code, **params)
    ours = curate_filter("c4_quality", {"language": code, "thresholds": "fineweb2", **params})
    length = curate_filter("length_filter", {"language": code, "min_words": 40})
    outcomes = set()
    for text in corpus[code]:
        for variant in variants(text):
            doc_a, doc_b = Document(text=variant, id="a"), Document(text=variant, id="b")
            expected = outcome(reference.filter(doc_a))
            assert outcome(ours.filter(doc_b)) == expected and doc_a.text == doc_b.text, (code, variant[:80])
            outcomes.add(expected)
            words = len(split_into_words(variant, code))
            got = outcome(length.filter(Document(text=variant, id="c")))
            assert got == (None if words >= 40 else "too_few_words")
    assert len(outcomes) >= 2, outcomes
