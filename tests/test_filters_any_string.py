"""No filter raises on any Python string, at any parameter setting: property-style, with a seeded generator.

The strings mix what breaks text code: lone surrogates, NULs and other control characters, every character
``str.isspace`` or ``str.splitlines`` treats as a break (``\\x1c``, ``\\u2028``, ``\\x85``), combining marks,
right-to-left text and marks, emoji sequences, CJK, full-width forms, case-folding oddities, long runs, and the
words the filters look for (``lorem ipsum``, ``javascript``, ``{``, ``...``, bullets). Every filter stage of
``pipeline/filters`` runs on each, at several parameter settings, through ``filter(doc)`` as the pipeline calls
it; it must return True or ``(False, reason)`` and leave a string as the text. URLs are generated the same way
for ``url_filter``.
"""

from __future__ import annotations

import random

import pytest
from datatrove.data import Document

from pipeline.filters import (
    c4_quality,
    fineweb_quality,
    gopher_quality,
    gopher_repetition,
    language_filter,
    length_filter,
    redpajama_v2_signals,
    url_filter,
)

ALPHABET = (
    list("abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789 .,;:!?'\"()[]{}<>-_/\\|@#$%^&*+=~`…•·–—")
    + ["\ud800", "\udfff", "\udc80", "\ud83d"]  # lone surrogates (high, low, a broken emoji half)
    + ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x9f"]  # NUL and control characters
    + ["\n", "\r", "\r\n", "\t", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\u2028", "\u2029", "\u00a0", "\u3000"]
    + ["\u0301", "\u0308", "\u0327", "\u20dd", "\u036f", "e\u0301", "\u1100\u1161"]  # combining marks, jamo
    + ["\u200f", "\u200e", "\u202e", "\u2066", "שלום", "مرحبا", "\u0627\u0644\u0644\u0647"]  # RTL and bidi marks
    + ["😀", "👍🏽", "👨‍👩‍👧", "❤️", "🇧🇷", "\u200d", "\ufe0f", "\U000e0041", "\U0010ffff", "\ufffd", "\ufeff"]
    + ["日本語", "中文。", "한국어", "ｆｕｌｌ", "１２３", "ß", "İ", "ı", "ﬁ", "Ⅻ", "½", "𝔘𝔫𝔦"]
)
WORDS = ["lorem ipsum", "javascript", "cookie policy", "terms of use", "[1]", "[edit]", "...", "•", "- ", "#"]
WORDS += ["the", "and", "of", "to", "that", "is", "http://x.y/z", "www.example.com", "a@b.c", '{"a":1}']


def random_text(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(0, 60)):
        r = rng.random()
        if r < 0.6:
            parts.append(rng.choice(ALPHABET))
        elif r < 0.85:
            parts.append(rng.choice(WORDS) + " ")
        elif r < 0.95:
            parts.append(rng.choice(ALPHABET) * rng.randint(2, 120))  # a run
        else:
            parts.append("\n".join(rng.choice(WORDS) for _ in range(rng.randint(1, 20))) + "\n")
    return "".join(parts)


FIXED_TEXTS = [
    "",
    " ",
    "\n\n\n",
    "\ud800",
    "a\udfffb c d. e f g.\n" * 6,
    "\x00" * 50,
    "lorem ipsum\ud800 {",
    "The cat sat on the mat. " * 20 + "\ud83d",
    "\u2028".join(["Sentence one is here.", "Another sentence here."] * 5),
    "😀" * 500,
    "a" * 5000,
    "\u0301" * 100 + " the and of",
    "\r\n".join(["x"] * 100),
]


def texts() -> list[str]:
    rng = random.Random(20261201)
    return FIXED_TEXTS + [random_text(rng) for _ in range(120)]


FILTERS = {
    "length_filter": (
        length_filter.LengthFilter,
        length_filter.LengthParams,
        [{}, {"min_words": 1, "max_words": 50, "min_chars": 2, "max_lines": 3, "record_signals": True}],
    ),
    "gopher_repetition": (
        gopher_repetition.GopherRepetitionFilter,
        gopher_repetition.GopherRepetitionParams,
        [
            {},
            {"record_signals": True},
            {"dup_line_frac": 0.0, "dup_para_frac": 0.0, "top_n_grams": ((1, 0.0), (2, 0.01)), "dup_n_grams": ()},
            {"dup_line_frac": None, "dup_para_frac": None, "dup_line_char_frac": None, "dup_para_char_frac": None},
            {"top_n_grams": (), "dup_n_grams": ((1, 0.5), (20, 0.01)), "language": "deu", "record_signals": True},
        ],
    ),
    "gopher_quality": (
        gopher_quality.GopherQualityFilter,
        gopher_quality.GopherQualityParams,
        [
            {},
            {"record_signals": True},
            {"min_doc_words": 0, "min_avg_word_length": 0, "max_avg_word_length": 0, "min_stop_words": 0},
            {
                "min_doc_words": None,
                "max_doc_words": None,
                "min_avg_word_length": None,
                "max_avg_word_length": None,
                "max_symbol_word_ratio": None,
                "max_bullet_lines_ratio": None,
                "max_ellipsis_lines_ratio": None,
                "max_non_alpha_words_ratio": None,
                "min_stop_words": None,
                "record_signals": True,
            },  # fmt: skip
            {"stop_words": [], "min_stop_words": 1, "language": "deu"},
            {"language": "zh", "record_signals": True},  # jieba, not spaCy
            {"stop_words": ["\ud800", "😀", ""], "min_stop_words": 1},
        ],
    ),
    "c4_quality": (
        c4_quality.C4QualityFilter,
        c4_quality.C4QualityParams,
        [
            {},
            {"record_signals": True},
            {"split_paragraph": False},
            {"split_paragraph": False, "record_signals": True, "min_num_sentences": 1},
            {"filter_no_terminal_punct": False, "min_num_sentences": -1, "max_word_length": -1},
            {"remove_citations": False, "min_words_per_line": 0, "max_word_length": 0, "language": "deu"},
            {"split_paragraph": False, "remove_citations": False, "filter_no_terminal_punct": False},
            {"split_paragraph": False, "language": "ja", "min_num_sentences": 2},  # Sudachi, not spaCy
        ],
    ),
    "fineweb_quality": (
        fineweb_quality.FineWebQualityFilter,
        fineweb_quality.FineWebQualityParams,
        [
            {},
            {"record_signals": True},
            {"line_punct_exclude_zero": True, "stop_chars": (".", "\ud800", ""), "short_line_length": 0},
            {"line_punct_thr": 0, "short_line_thr": 0, "char_duplicates_ratio": 0, "new_line_ratio": 0},
            {"line_punct_thr": 1, "short_line_thr": 1, "char_duplicates_ratio": 1, "new_line_ratio": 1},
        ],
    ),
    "language_filter": (
        language_filter.LanguageFilter,
        language_filter.LanguageFilterParams,
        [
            {},
            {"languages": ["en", "de"], "language_threshold": 0.0},
            {"languages": None, "label_only": True},
            {"languages": ["fr"], "keep_top_pairs_threshold": 0.01, "language_threshold": 1.0},
        ],
    ),
    "redpajama_v2_signals": (
        redpajama_v2_signals.RedPajamaV2SignalsFilter,
        redpajama_v2_signals.RedPajamaV2SignalsParams,
        [
            {"thresholds": {"rps_doc_word_count": {"min": 50}}},
            {"thresholds": {"rps_doc_frac_unique_words": {"max": 0.9, "aggregate": "mean"}}, "on_missing": "drop"},
        ],
    ),
    "url_filter": (
        url_filter.URLFilter,
        url_filter.URLFilterParams,
        [
            {},
            {"drop_missing_url": True},
            {
                "extra_domains": ["example.com", "\ud800.org"],
                "extra_urls": ["http://x.y/z"],
                "banned_words": ["porn"],
                "banned_subwords": ["xxx", "😀"],
                "soft_banned_words": ["sex", "cam"],
                "soft_word_threshold": 1,
            },  # fmt: skip
        ],
    ),
}
SETTINGS = [(name, i) for name, (_, _, variants) in FILTERS.items() for i in range(len(variants))]


def random_url(rng: random.Random) -> object:
    r = rng.random()
    if r < 0.1:
        return None
    if r < 0.15:
        return ""
    host = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 12)))
    path = "".join(rng.choice(ALPHABET + WORDS) for _ in range(rng.randint(0, 8)))
    scheme = rng.choice(["http://", "https://", "", "ftp://", "//", "http://xxx.", "http://[::1]:"])
    return scheme + host + rng.choice([".com", ".co.uk", ".xn--p1ai", "", ".", ":80"]) + "/" + path


@pytest.fixture(scope="module")
def documents() -> list[tuple[str, object]]:
    rng = random.Random(7)
    return [(text, random_url(rng)) for text in texts()]


@pytest.mark.parametrize("name, variant", SETTINGS)
def test_filter_never_raises(documents, name, variant):
    cls, params_cls, variants = FILTERS[name]
    step = cls(params_cls(**variants[variant]))
    outcomes = set()
    for k, (text, url) in enumerate(documents):
        metadata = {} if url is None else {"url": url}
        doc = Document(text=text, id=f"doc-{k}", metadata=metadata)
        try:
            result = step.filter(doc)
        except Exception as error:  # noqa: BLE001 - the assertion names the input that raised
            raise AssertionError(f"{name} {variants[variant]} raised {error!r} on text {text[:200]!r}") from error
        assert result is True or (isinstance(result, tuple) and result[0] is False and isinstance(result[1], str))
        assert isinstance(doc.text, str)
        outcomes.add(result if result is True else result[1])
    assert outcomes
