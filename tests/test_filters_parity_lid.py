"""Parity with datatrove's LanguageFilter on real web documents: decisions and the language / score written,
with datatrove's filter reading the same local lid.176.ftz (it would otherwise download lid.176.bin)."""

from __future__ import annotations

import pytest
from conftest import load_web_corpus
from datatrove.data import Document
from datatrove.pipeline.filters import LanguageFilter
from datatrove.utils.lid import FT176LID
from pydantic import ValidationError

from pipeline.filters import language_filter


@pytest.fixture(scope="module")
def corpus():
    docs = load_web_corpus()
    assert len(docs) > 1300
    return docs


def datatrove_language_filter(**kwargs) -> LanguageFilter:
    """datatrove's own filter, its model swapped for the shipped local file (it would download lid.176.bin)."""
    from fasttext.FastText import _FastText

    # datatrove's construction-time check wants the `fasttext-numpy2-wheel` distribution; the project installs
    # `fasttext-numpy2`, the same `fasttext` module. Skip only that check: the filter's code is datatrove's own.
    f = object.__new__(LanguageFilter)
    f.__init__(**kwargs)
    assert isinstance(f.model, FT176LID)
    f.model._model = _FastText(str(language_filter.DEFAULT_MODEL))
    return f


@pytest.mark.parametrize(
    "kwargs, every",
    [
        ({"languages": ["en"]}, 1),
        ({"languages": None, "language_threshold": 0.9}, 3),
        ({"languages": ["en", "fr", "de"], "language_threshold": 0.3, "keep_top_pairs_threshold": 0.05}, 3),
        ({"languages": ["de"], "label_only": True}, 5),
    ],
)
def test_language_filter_equals_datatrove(corpus, kwargs, every):
    ref_filter = datatrove_language_filter(**kwargs)
    ours = language_filter.LanguageFilter(language_filter.LanguageFilterParams(**kwargs))
    decisions = []
    for doc_id, text in corpus[::every]:
        ref_doc, our_doc = Document(text=text, id=doc_id), Document(text=text, id=doc_id)
        ref, mine = bool(ref_filter.filter(ref_doc)), ours.filter(our_doc)
        assert (mine is True) == ref, doc_id
        if not ref:
            assert mine == (False, "language")
        assert our_doc.metadata == ref_doc.metadata, doc_id
        decisions.append(ref)
        assert isinstance(our_doc.metadata["language"], str)
        assert isinstance(our_doc.metadata["language_score"], float)
    if not kwargs.get("label_only"):
        assert any(decisions) and not all(decisions)
    languages = set()
    for doc_id, text in corpus[::10]:
        doc = Document(text=text, id=doc_id)
        ours.filter(doc)
        languages.add(doc.metadata["language"])
    assert {"en"} < languages  # the corpus is mostly English, with some other languages


def test_language_filter_needs_model_for_glotlid():
    with pytest.raises(ValueError, match="model_path"):
        language_filter.build_language_filter(language_filter.LanguageFilterParams(backend="glotlid"), None)
    with pytest.raises(ValidationError, match="no such file: /nonexistent/lid.bin"):  # found before any task
        language_filter.LanguageFilterParams(model_path="/nonexistent/lid.bin")
