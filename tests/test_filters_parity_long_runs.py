"""Parity with datatrove on texts holding whitespace-free runs longer than 100,000 characters.

Minified JSON, base64, CJK text without spaces and emoji runs are one "chunk" to spaCy's tokenizer, which still
splits them into words (prefixes, suffixes, infixes). Every run is built from real data in ``../shared/data``
and placed alone, and as a line inside a real web page. Gopher repetition, Gopher quality, C4 quality (text
included) and FineWeb quality must make datatrove's decisions on each.
"""

from __future__ import annotations

import base64
import functools
import json
import re

import datatrove.utils.text as datatrove_text
import pytest
import yaml
from conftest import SHARED, load_web_corpus
from datatrove.data import Document
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)
from datatrove.utils.text import split_into_words

from pipeline.filters import c4_quality, fineweb_quality, gopher_quality, gopher_repetition
from pipeline.filters.spacy_regexes import equivalent_url_match
from pipeline.filters.word_analysis import analyze

RUN_CHARS = 101_000


def outcome(result) -> str | None:
    if result is True:
        return None
    return result[1] if isinstance(result, tuple) else "dropped"


def minified_json() -> str:
    """FineWeb-2's per-language filter settings (1,929 YAML files) as one minified JSON object, spaces escaped."""
    settings: dict = {}
    for path in sorted((SHARED / "fineweb2" / "configs").glob("*.yml")):
        settings[path.stem] = yaml.safe_load(path.read_text(encoding="utf-8"))
        text = json.dumps(settings, separators=(",", ":"), ensure_ascii=False).replace(" ", "\\u0020")
        if len(text) > RUN_CHARS:
            return text
    raise AssertionError("not enough configs")


def base64_run() -> str:
    """A real WARC file, base64-encoded without line breaks."""
    data = (SHARED / "warc" / "dolma" / "sample-0000.warc.gz").read_bytes()
    return base64.b64encode(data).decode()[: RUN_CHARS + 7]


CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef]")
EMOJI = re.compile(r"[\U0001F000-\U0001FAFF\u2600-\u27bf\u200d\ufe0f]")


def cjk_run(docs: list[str]) -> str:
    """The real pages that hold CJK text, concatenated with every whitespace removed, repeated past the length."""
    pages = ["".join(text.split()) for text in docs if len(CJK.findall(text)) > 500]
    assert len(pages) >= 3
    joined = "".join(pages)
    return (joined * (RUN_CHARS // len(joined) + 1))[: RUN_CHARS + 3]


def emoji_run(docs: list[str]) -> str:
    """The emoji of the real pages (with ZWJ sequences, skin tones and flags built from them), back to back."""
    found = sorted({c for text in docs for c in EMOJI.findall(text) if c not in "\u200d\ufe0f"})
    assert found
    units = found + [found[0] + "\u200d" + found[-1], found[0] + "\U0001f3fd", "\U0001f1e7\U0001f1f7", "\u2764\ufe0f"]
    run = "".join(units)
    return (run * (RUN_CHARS // len(run) + 1))[:RUN_CHARS]


@pytest.fixture(scope="module", autouse=True)
def memoised_reference_tokenization():
    """datatrove keeps its last five tokenizations; here every text is tokenized by datatrove once for the module."""
    original = datatrove_text.split_into_parts
    datatrove_text.split_into_parts = functools.lru_cache(maxsize=None)(original.__wrapped__)
    yield
    datatrove_text.split_into_parts = original


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    docs = [text for _, text in load_web_corpus()]
    page = next(text for text in docs if 3000 < len(text) < 6000 and text.count("\n") > 10)
    lines = page.split("\n")
    runs = {"json": minified_json(), "base64": base64_run(), "cjk": cjk_run(docs), "emoji": emoji_run(docs)}
    out = {}
    for name, run in runs.items():
        assert max(len(chunk) for chunk in run.split()) > 100_000, name
        if name in ("base64", "cjk"):  # the others cost datatrove seconds per tokenization: in a page only
            out[f"{name} alone"] = run
        out[f"{name} in a page"] = "\n".join(lines[:6] + [run] + lines[6:])
    # one run glued to prose (the run's first and last chunks carry words) and a C4 page that keeps the run's line
    out["base64 glued"] = lines[0] + runs["base64"] + lines[1] + "\n" + "\n".join(lines[2:])
    out["cjk sentence line"] = "\n".join(lines[:6] + ["The following is one line. " + runs["cjk"] + "."] + lines[6:])
    return out


def test_word_lists_equal_datatrove_on_long_runs(texts):
    for name, text in texts.items():
        assert analyze(text, "eng").words == split_into_words(text), name


FILTERS = [
    ("gopher_repetition", GopherRepetitionFilter, gopher_repetition.GopherRepetitionFilter, {}),
    ("gopher_quality", GopherQualityFilter, gopher_quality.GopherQualityFilter, {}),
    ("gopher_quality", GopherQualityFilter, gopher_quality.GopherQualityFilter, {"max_avg_word_length": 1000}),
    ("c4_quality", C4QualityFilter, c4_quality.C4QualityFilter, {}),
    ("c4_quality", C4QualityFilter, c4_quality.C4QualityFilter, {"filter_no_terminal_punct": False}),
    ("c4_quality", C4QualityFilter, c4_quality.C4QualityFilter, {"max_word_length": -1, "min_num_sentences": 3}),
    ("fineweb_quality", FineWebQualityFilter, fineweb_quality.FineWebQualityFilter, {}),
    ("fineweb_quality", FineWebQualityFilter, fineweb_quality.FineWebQualityFilter, {"char_duplicates_ratio": 1}),
]
PARAMS = {
    "gopher_repetition": gopher_repetition.GopherRepetitionParams,
    "gopher_quality": gopher_quality.GopherQualityParams,
    "c4_quality": c4_quality.C4QualityParams,
    "fineweb_quality": fineweb_quality.FineWebQualityParams,
}


@pytest.mark.parametrize("index", range(len(FILTERS)))
def test_filters_decide_as_datatrove_on_long_runs(texts, index):
    name, reference_cls, curate_cls, kwargs = FILTERS[index]
    reference, ours = reference_cls(**kwargs), curate_cls(PARAMS[name](**kwargs))
    outcomes = set()
    for text_name, text in texts.items():
        ref_doc, our_doc = Document(text=text, id=text_name), Document(text=text, id=text_name)
        expected = outcome(reference.filter(ref_doc))
        assert outcome(ours.filter(our_doc)) == expected, (name, kwargs, text_name)
        assert our_doc.text == ref_doc.text, (name, kwargs, text_name)
        outcomes.add(expected)
    assert len(outcomes) >= 2 or name == "gopher_repetition", outcomes


def test_faster_url_match_answers_as_spacys():
    """The user-info group rewritten ``(?:\\S+@)?`` matches where spaCy's own URL pattern matches."""
    import random

    import spacy

    original = spacy.blank("en").tokenizer.url_match
    faster = equivalent_url_match(original)
    assert faster is not None
    rng = random.Random(4)
    pieces = ["http", "://", "www.", "example", ".com", ":", "@", "user", "pass", "/", "8080", "a", "..", "?q=1", "#"]
    pieces += ["192.168.0.1", "10.0.0.1", "é", "xn--", "-", "_", "日本", "localhost", "mailto:", ":@", "@@", "%20"]
    strings = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 9))) for _ in range(20_000)]
    strings += [t for _, text in load_web_corpus()[:200] for t in text.split()]
    assert sum(bool(original(s)) for s in strings) > 300
    assert all(bool(faster(s)) == bool(original(s)) for s in strings)


def test_tail_suffix_search_answers_as_spacys():
    """The suffix search that looks only at the string's end finds suffixes of the same length as spaCy's."""
    import random

    import spacy

    from pipeline.filters.spacy_regexes import TailSuffixSearch

    original = spacy.blank("en").tokenizer.suffix_search
    tail = TailSuffixSearch.replacing(original)
    assert tail is not None and tail.dots is not None
    rng = random.Random(5)
    alphabet = list(".,;!?…)]}\"'%abcXYZ019°CFkmgé日本😀·-+*#&。：") + ["km", "mph", "’s", "'s", "...", "—", "MB"]
    found = 0
    for _ in range(60_000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 15)))
        a, b = original(s), tail(s)
        assert (a.end() - a.start() if a else 0) == (b.end() - b.start() if b else 0), s
        found += a is not None
    assert found > 20_000


def test_runs_of_affixes_tokenize_as_spacy_in_linear_time():
    """A run of punctuation is one token per character, as spaCy makes it, without spaCy's quadratic search."""
    import spacy

    from pipeline.filters.word_analysis import chunk_tokenizer

    reference = spacy.blank("en").tokenizer
    fast = chunk_tokenizer("eng")
    for run in [".,;!?" * 300, "😀" * 1000, "a.b,c!" * 300, "..." * 500 + "x", "((((" * 200 + "word" + "))))" * 200]:
        assert fast._tokenize_chunks([run])[0] == tuple(t.text for t in reference(run))
    assert len(fast._tokenize_chunks([".,;!?" * 4000])[0]) == 20_000  # about a minute in plain spaCy
