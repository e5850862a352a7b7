"""Parity with datatrove on real web documents: C4 quality (decisions, reasons, rewritten text), the FineWeb
filter after it, and sentence counting.

datatrove's C4 filter splits every kept line into spaCy sentences; the reference here is that very function,
memoised for the module (a pure function of the line), so the variants do not pay for the same lines again.
"""

from __future__ import annotations

import functools

import datatrove.pipeline.filters.c4_filters as datatrove_c4
import pytest
from conftest import load_web_corpus
from datatrove.data import Document
from datatrove.pipeline.filters import C4QualityFilter, FineWebQualityFilter
from datatrove.pipeline.filters.c4_filters import CITATION_REGEX
from datatrove.utils.text import split_into_sentences

from pipeline.filters import c4_quality, fineweb_quality
from pipeline.filters.word_analysis import count_sentences


def outcome(result) -> str | None:
    if result is True:
        return None
    return result[1] if isinstance(result, tuple) else "dropped"


@pytest.fixture(scope="module", autouse=True)
def memoised_reference_sentences():
    original = datatrove_c4.split_into_sentences
    datatrove_c4.split_into_sentences = functools.lru_cache(maxsize=None)(original)
    yield
    datatrove_c4.split_into_sentences = original


@pytest.fixture(scope="module")
def corpus():
    docs = load_web_corpus()
    assert len(docs) > 1300
    return docs


C4_VARIANTS = [
    ({}, 1),  # datatrove's defaults, every document
    ({"filter_no_terminal_punct": False}, 1),  # FineWeb's setting
    (
        {
            "min_words_per_line": 6,
            "max_word_length": 25,
            "remove_citations": False,
            "filter_javascript": False,
            "filter_policy": False,
            "min_num_sentences": 12,
        },
        3,
    ),
    ({"filter_no_terminal_punct": False, "min_num_sentences": -1, "filter_curly_bracket": False}, 3),
    ({"split_paragraph": False}, 10),  # spaCy sentences of the whole page: slow in datatrove, a sample
]


@pytest.mark.parametrize("variant", range(len(C4_VARIANTS)))
def test_c4_decisions_reasons_and_text_equal_datatrove(corpus, variant):
    kwargs, every = C4_VARIANTS[variant]
    ref_filter = C4QualityFilter(**kwargs)
    ours = c4_quality.C4QualityFilter(c4_quality.C4QualityParams(**kwargs))
    recorded = c4_quality.C4QualityFilter(c4_quality.C4QualityParams(**kwargs, record_signals=True))
    diffs, reasons = [], set()
    for doc_id, text in corpus[::every]:
        ref_doc, our_doc, rec_doc = (Document(text=text, id=doc_id) for _ in range(3))
        ref, mine = outcome(ref_filter.filter(ref_doc)), outcome(ours.filter(our_doc))
        assert outcome(recorded.filter(rec_doc)) == mine
        reasons.add(ref)
        if (ref, ref_doc.text) != (mine, our_doc.text):
            diffs.append((doc_id, ref, mine))
    assert diffs == []
    assert None in reasons and len(reasons) >= 2, reasons


def test_fineweb_after_c4_equals_datatrove_chain(corpus):
    """c4_quality rewrites the text; fineweb_quality on the rewritten text must still agree."""
    ref_c4, ref_fw = C4QualityFilter(filter_no_terminal_punct=False), FineWebQualityFilter()
    our_c4 = c4_quality.C4QualityFilter(c4_quality.C4QualityParams(filter_no_terminal_punct=False))
    our_fw = fineweb_quality.FineWebQualityFilter(fineweb_quality.FineWebQualityParams())
    outcomes = []
    for doc_id, text in corpus[::3]:
        ref_doc, our_doc = Document(text=text, id=doc_id), Document(text=text, id=doc_id)
        if outcome(ref_c4.filter(ref_doc)) is None:
            assert outcome(our_c4.filter(our_doc)) is None and our_doc.text == ref_doc.text
            ref, mine = outcome(ref_fw.filter(ref_doc)), outcome(our_fw.filter(our_doc))
            assert ref == mine, doc_id
            outcomes.append(ref)
    assert None in outcomes and len(set(outcomes)) >= 3


def test_sentence_counts_equal_datatrove(corpus):
    lines = []
    for _, text in corpus[::4]:
        lines.extend(CITATION_REGEX.sub("", line.strip()) for line in text.splitlines())
    lines = list(dict.fromkeys(lines))[:6000]
    lines += ["", " ", "  a. b", "Hi.  There", "x . \n y", "Mr. Smith went. Then!", "?!", " . a", "a . "]
    lines += ["[1] [2] [3]", "e.g. this", "“Quote.” Next", "a…b. c", "\u00a0x.\u00a0y", "日本語です。次の文。"]
    diff = [line for line in lines if count_sentences(line, "eng") != len(split_into_sentences(line))]
    assert diff == []


def test_c4_signals_recorded():
    text = (
        "One two three four. Five six seven.\nshort\nJavascript must be enabled here.\nCats sleep. Dogs run. Birds fly."
    )
    doc = Document(text=text, id="x")
    f = c4_quality.C4QualityFilter(c4_quality.C4QualityParams(record_signals=True), label="c4_quality")
    assert f.filter(doc) is True
    assert doc.metadata["c4_quality.kept_lines"] == 2
    assert doc.metadata["c4_quality.sentences"] == 5 == sum(len(split_into_sentences(x)) for x in text.split("\n")[::3])
    assert doc.metadata["c4_quality.lines"] == 4
    assert set(f.output_columns()) == {k for k in doc.metadata if k.startswith("c4_quality.")}
    strict = c4_quality.C4QualityFilter(c4_quality.C4QualityParams(min_num_sentences=6))
    assert strict.filter(Document(text=text, id="x")) == (False, "too_few_sentences")
    assert doc.text == "One two three four. Five six seven.\nCats sleep. Dogs run. Birds fly."


def test_c4_shortcuts_rest_on_datatroves_patterns():
    """``c4_quality`` skips the citation regex on lines without ``[`` and scans the policy phrases as one regex:
    exact only while every citation form starts with ``[`` and the regex finds what the phrase loop finds."""
    from datatrove.pipeline.filters.c4_filters import CITATION_REGEX, POLICY_SUBSTRINGS

    from pipeline.filters.c4_quality import _POLICY

    assert all(alternative.startswith(r"\[") for alternative in CITATION_REGEX.pattern.split("|"))
    lines = [p for p in POLICY_SUBSTRINGS] + ["see our privacy  policy", "cookies used", "we use cookies", "", "x"]
    lines += [f"a {p.upper()} b".lower() for p in POLICY_SUBSTRINGS]
    for line in lines:
        assert (_POLICY.search(line) is not None) == any(phrase in line for phrase in POLICY_SUBSTRINGS), line


CRAFTED_PAGES = [
    "This page is fine and has enough words.\nAnother good line of words is here.\n" * 3,
    "Turn on java[1]script to see this page now.\nThe rest of the page is prose, plain and simple.\n" * 3,
    "Read our privacy[edit] policy before you go on.\nThe rest of the page is prose, plain and simple.\n" * 3,
    "We USE COOKIES on this site to help you.\nJAVASCRIPT is needed for the menu to work well.\n" * 3,
    "This line ends with terms of\nuse on the next line, which is fine here.\nMore words on a line here.\n" * 3,
    "Lorem[citation needed] ipsum dolor sit amet, it says.\nThe rest of the page is prose, plain and simple.\n",
    "Cookie jars are for cookies, not for policy talk.\nWe use cookies[12] here and there in the kitchen.\n" * 3,
    "Στη ΣΕΛΊΔΑ ΑΥΤΉ ΧΡΗΣΙΜΟΠΟΙΟΎΜΕ JavaScript ΟΣ.\nThe rest of the page is prose, plain and simple.\n" * 3,
    "A line with {curly} brackets and enough words.\nThe rest of the page is prose, plain and simple.\n" * 3,
]


@pytest.mark.parametrize("variant", range(len(C4_VARIANTS) - 1))
def test_c4_page_prechecks_on_crafted_pages(variant):
    """The page-level phrase check never skips a line datatrove would drop: phrases behind citation marks, split
    across lines, in capitals, next to Greek capitals (final sigma)."""
    kwargs, _ = C4_VARIANTS[variant]
    ref_filter = C4QualityFilter(**kwargs)
    ours = c4_quality.C4QualityFilter(c4_quality.C4QualityParams(**kwargs))
    for i, text in enumerate(CRAFTED_PAGES):
        ref_doc, our_doc = Document(text=text, id=str(i)), Document(text=text, id=str(i))
        assert (outcome(ref_filter.filter(ref_doc)), ref_doc.text) == (outcome(ours.filter(our_doc)), our_doc.text)
