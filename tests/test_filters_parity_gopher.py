"""Parity with datatrove on real web documents: word lists, Gopher repetition, Gopher quality, FineWeb quality.

Every document of ``../shared/data/web`` (CleanEval gold and jusText, readability pages, C4, Dolma CCNet,
RedPajama) plus the DCLM annotation pages goes through datatrove's filters and Curate's, at the defaults and at
non-default parameters; keep/drop decisions and drop reasons must be identical. datatrove tokenizes each text
once here (its ``split_into_words`` keeps the last texts in an LRU cache), so every variant shares that cost.
"""

from __future__ import annotations

import pytest
from conftest import load_web_corpus
from datatrove.data import Document
from datatrove.pipeline.filters import FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter
from datatrove.pipeline.filters.gopher_repetition_filter import find_all_duplicate, find_top_duplicate, get_n_grams
from datatrove.utils.text import split_into_words

from pipeline.filters import fineweb_quality, gopher_quality, gopher_repetition
from pipeline.filters.ngram_repetition import NGramRepetition
from pipeline.filters.word_analysis import analyze


def outcome(result) -> str | None:
    """None for kept, else the drop reason."""
    if result is True:
        return None
    return result[1] if isinstance(result, tuple) else "dropped"


VARIANTS = {
    "gopher_repetition": [
        {},
        {"dup_line_frac": 0.1, "dup_para_frac": None, "dup_line_char_frac": 0.05, "dup_para_char_frac": 0.05},
        {
            "dup_line_frac": None,
            "dup_para_frac": None,
            "dup_line_char_frac": None,
            "dup_para_char_frac": None,
            "top_n_grams": ((2, 0.05), (3, 0.04), (5, 0.03)),
            "dup_n_grams": ((4, 0.05), (6, 0.04), (12, 0.02)),
        },
    ],
    "gopher_quality": [
        {},
        {"min_doc_words": 200, "max_avg_word_length": 6, "max_symbol_word_ratio": 0.01, "min_stop_words": 4},
        {
            "min_doc_words": None,
            "min_avg_word_length": 4,
            "max_bullet_lines_ratio": 0.2,
            "max_ellipsis_lines_ratio": 0.05,
            "max_non_alpha_words_ratio": 0.9,
            "stop_words": ["the", "and", "of", "is", "in", "a", "that"],
            "min_stop_words": 5,
        },
    ],
    "fineweb_quality": [
        {},
        {"line_punct_thr": 0.5, "short_line_thr": 0.3, "short_line_length": 50, "char_duplicates_ratio": 0.001},
        {"line_punct_exclude_zero": True, "stop_chars": (".", "!"), "new_line_ratio": 0.05},
    ],
}
DATATROVE = {
    "gopher_repetition": GopherRepetitionFilter,
    "gopher_quality": GopherQualityFilter,
    "fineweb_quality": FineWebQualityFilter,
}
CURATE = {
    "gopher_repetition": (gopher_repetition.GopherRepetitionFilter, gopher_repetition.GopherRepetitionParams),
    "gopher_quality": (gopher_quality.GopherQualityFilter, gopher_quality.GopherQualityParams),
    "fineweb_quality": (fineweb_quality.FineWebQualityFilter, fineweb_quality.FineWebQualityParams),
}


@pytest.fixture(scope="module")
def results():
    docs = load_web_corpus()
    assert len(docs) > 1300
    reference = {(name, i): DATATROVE[name](**kw) for name, vs in VARIANTS.items() for i, kw in enumerate(vs)}
    ours = {}
    for name, variants in VARIANTS.items():
        cls, params = CURATE[name]
        for i, kw in enumerate(variants):
            ours[(name, i)] = cls(params(**kw))
            if i == 0:
                ours[(name, i, "signals")] = cls(params(**kw, record_signals=True))
    out: dict = {"docs": docs, "words_mismatch": [], "decisions": {key: ([], []) for key in reference}}
    for k, (doc_id, text) in enumerate(docs):
        if split_into_words(text) != analyze(text, "eng").words:
            out["words_mismatch"].append(doc_id)
        for key, ref_filter in reference.items():
            if key[1] > 0 and k % 3:
                continue  # non-default variants: every third document, to keep the file fast
            ref, mine = out["decisions"][key]
            ref.append((doc_id, outcome(ref_filter.filter(Document(text=text, id=doc_id)))))
            mine.append((doc_id, outcome(ours[key].filter(Document(text=text, id=doc_id)))))
            if key[1] == 0:
                recorded = outcome(ours[(*key, "signals")].filter(Document(text=text, id=doc_id)))
                assert recorded == mine[-1][1], f"{key} {doc_id}: record_signals changed the decision"
    return out


def test_word_lists_equal_datatrove_spacy(results):
    assert results["words_mismatch"] == []


@pytest.mark.parametrize("name", list(VARIANTS))
def test_decisions_and_reasons_equal_datatrove(results, name):
    for i in range(len(VARIANTS[name])):
        ref, mine = results["decisions"][(name, i)]
        diff = [(a[0], a[1], b[1]) for a, b in zip(ref, mine, strict=True) if a != b]
        assert diff == [], f"{name} variant {i}: {diff[:5]}"
        # the variants must exercise both outcomes, or the comparison proves little
        kept = [r for _, r in ref if r is None]
        assert 0 < len(kept) < len(ref), f"{name} variant {i} keeps or drops everything"
    reasons = {r for i in range(len(VARIANTS[name])) for _, r in results["decisions"][(name, i)][0] if r}
    assert len(reasons) >= 3, reasons


ADVERSARIAL_TEXTS = [
    "Don't stop: it's 5 p.m. in the U.S., e.g. N.Y.C. (see https://example.com/a?b=c&d=e).",
    "Emoticons :) :-( <3 ^_^ and hashtags #tag @user ... wait…really?!",
    "tabs\tand\u00a0non-breaking\u2003spaces\n\n  double  spaces \r\n windows",
    "C++ / C# / 3.14 / -5 / $10.00 / 50% / 1,000,000 / 2023-01-01 / 10:30am / 'quoted' / \"double\"",
    "日本語の文章です。Привет, мир! مرحبا بالعالم. ελληνικά; עברית.",
    "IS_ALPHA IS_PUNCT LIKE_NUM",
    "aaa" * 500 + " b" + "." * 300 + " c--d--e -- f — g",
    "",
    "   ",
    "x\x00y\x1c z\x1fw",
]


@pytest.mark.parametrize("text", ADVERSARIAL_TEXTS)
def test_word_lists_equal_datatrove_on_adversarial_text(text):
    assert analyze(text, "eng").words == split_into_words(text)
    assert analyze(text, "eng").n_words == len(split_into_words(text))


ADVERSARIAL_WORDS = [
    ["ab", "c", "a", "bc", "ab", "c", "a", "bc", "d"] * 3,  # "".join collisions between different word tuples
    ["x"] * 40,
    ["a", "b"] * 20 + ["c"],
    [],
    ["only"],
    ["é", "😀", "日本", "a\ud800"] * 9,
    [str(i % 7) for i in range(200)],
]


@pytest.mark.parametrize("words", ADVERSARIAL_WORDS)
def test_ngram_measures_equal_datatrove_loops(words):
    ours = NGramRepetition(words)
    for n in (1, 2, 3, 4, 5):
        grams = get_n_grams(words, n)
        assert ours.top_ngram_chars(n) == (find_top_duplicate(grams) if grams else None)
    for n in (1, 2, 3, 5, 6, 10, 12):
        assert ours.duplicated_ngram_chars(n) == find_all_duplicate(words, n)


def test_signals_recorded_match_thresholds():
    text = "\n".join(["The cat sat on the mat and that was all."] * 3 + ["A different line of text here."])
    doc = Document(text=text, id="x")
    f = gopher_repetition.GopherRepetitionFilter(
        gopher_repetition.GopherRepetitionParams(record_signals=True), label="gopher_repetition"
    )
    assert f.filter(doc) == (False, "dup_line_frac")
    assert doc.metadata["gopher_repetition.dup_line_frac"] == pytest.approx(2 / 4)
    assert set(f.output_columns()) == {k for k in doc.metadata if k.startswith("gopher_repetition.")}
    # re-cutting from the recorded value gives the same decision as the filter at that threshold
    relaxed = gopher_repetition.GopherRepetitionFilter(gopher_repetition.GopherRepetitionParams(dup_line_frac=0.6))
    assert outcome(relaxed.filter(Document(text=text, id="x"))) != "dup_line_frac"

    doc = Document(text=text, id="x")
    q = gopher_quality.GopherQualityFilter(gopher_quality.GopherQualityParams(record_signals=True, min_doc_words=5))
    q.filter(doc)
    assert doc.metadata["gopher_quality.stop_words"] == 4  # the, on, and, that
    assert doc.metadata["gopher_quality.doc_words"] == len([w for w in split_into_words(text) if w != "."])


@pytest.mark.parametrize("language", ["en", "fr", "de", "ru"])
def test_chunk_tokenizer_reads_what_datatrove_pipeline_has(language):
    """The chunk tokenizer never builds datatrove's pipeline: it takes the sentencizer's characters from spaCy's
    defaults and ``is_punct`` from its own ``spacy.blank``; both must be what datatrove's pipeline has."""
    from datatrove.utils.word_tokenizers import load_word_tokenizer
    from spacy.attrs import IS_PUNCT

    from pipeline.filters.word_analysis import chunk_tokenizer

    ours = chunk_tokenizer(language)
    reference = load_word_tokenizer(language).tokenizer
    assert ours is not None
    assert ours._punct_chars == frozenset(reference.get_pipe("sentencizer").punct_chars)
    samples = [".", ",", "word", "!", "«", "—", "a.b", "(", "12", "…", "¿", "'", "-"]
    reference_is_punct = reference.vocab.lex_attr_getters[IS_PUNCT]
    assert [ours._is_punct(s) for s in samples] == [reference_is_punct(s) for s in samples]
    assert ours._nlp.tokenizer.rules == reference.tokenizer.rules


def test_paragraph_and_line_splits_equal_datatrove_regexes():
    """``paragraphs`` and ``lines`` take ``str.split`` shortcuts; they must cut exactly as datatrove's regexes."""
    import random

    from pipeline.filters.gopher_repetition import lines, paragraphs

    rng = random.Random(5)
    texts = ["", "\n", "\n\n", "\n\n\n", "a", "a\n", "\na", "a\n\n\nb", "\n\n a \n\n\n\nb\n", " \n\n", "a\r\n\r\nb"]
    texts += [
        "".join(rng.choice(["a", "b", " ", "\n", "\n", "\r", "\t"]) for _ in range(rng.randint(0, 30)))
        for _ in range(5000)
    ]
    texts += [text for _, text in load_web_corpus()]
    reference = GopherRepetitionFilter()  # datatrove's own splitters, as its filter holds them
    for text in texts:
        assert paragraphs(text) == reference.paragraph_exp.split(text.strip()), repr(text)
        assert lines(text) == reference._line_splitter.split(text), repr(text)
