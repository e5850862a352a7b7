"""Curate's PII detection returns exactly the spans of Presidio's ``AnalyzerEngine.analyze``.

The reference is a plain ``AnalyzerEngine`` (Presidio's default recognizers, ``NoOpNlpEngine``), called per
document with the same entities, threshold and allow-list. Curate's ``FastAnalyzer`` runs the same engine with
windowed recognizers; spans are compared as sets of ``(entity, start, end, score)``.
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest

from pipeline.pii import DEFAULT_ENTITIES
from pipeline.pii.detect.analyzer import FastAnalyzer, build_presidio_analyzer
from pipeline.pii.detect.windowed import MAX_TRIES, WindowedPhoneRecognizer, tries_bound, wrap_recognizer
from pipeline.pii.planting import plant

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ENTITIES = list(DEFAULT_ENTITIES)


def read_jsonl(path: Path, text_key: str = "text", limit: int | None = None) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    texts = []
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            texts.append(json.loads(line)[text_key])
            if limit and len(texts) >= limit:
                break
    return texts


@pytest.fixture(scope="module")
def web_texts() -> list[str]:
    """Real web text from every corpus in shared/data (about 1.5 MB), some with real e-mails and phones."""
    texts = read_jsonl(DATA / "web" / "cleaneval-gold-dev.jsonl.gz", limit=150)
    texts += read_jsonl(DATA / "web" / "mozilla-readability.jsonl", limit=60)
    texts += read_jsonl(DATA / "web" / "olmo-c4.jsonl")
    texts += read_jsonl(DATA / "web" / "hf-datasets-c4-dummy.jsonl")
    for path in sorted((DATA / "web" / "dolma-ccnet").glob("*.jsonl")):
        texts += read_jsonl(path)
    for path in sorted((DATA / "web" / "data-juicer-redpajama").glob("*.jsonl")):
        texts += read_jsonl(path)
    texts += read_jsonl(DATA / "quality" / "dclm-annotations-dev.jsonl", limit=80)
    with gzip.open(DATA / "pii" / "dolma" / "provided" / "documents" / "000.json.gz", "rt") as f:
        texts += [json.loads(line)["text"] for line in f]
    return texts


@pytest.fixture(scope="module")
def synthetic_texts() -> list[str]:
    records = json.loads((DATA / "pii" / "presidio-synthetic-synth_dataset_v2.json").read_text())
    return [r["full_text"] for r in records]


@pytest.fixture(scope="module")
def reference():
    return build_presidio_analyzer()


@pytest.fixture(scope="module")
def fast():
    return FastAnalyzer(ENTITIES)


def spans(results) -> list[tuple[str, int, int, float]]:
    return sorted((r.entity_type, r.start, r.end, round(r.score, 6)) for r in results)


def assert_parity(texts, reference, fast, **kwargs) -> int:
    """Assert equal spans on every text; return how many spans there were."""
    total = 0
    for i, text in enumerate(texts):
        expected = spans(reference.analyze(text, language="en", entities=fast.entities, **kwargs))
        got = spans(fast.analyze(text))
        assert got == expected, (
            f"text {i}: only Presidio {set(expected) - set(got)}, only Curate {set(got) - set(expected)}"
        )
        total += len(expected)
    return total


def test_every_default_recognizer_is_windowed(fast):
    names = sorted(type(r).__name__ for r in fast.recognizers)
    assert names == ["WindowedPatternRecognizer"] * 5 + ["WindowedPhoneRecognizer"]


def test_parity_on_real_web_text(web_texts, reference, fast):
    assert sum(map(len, web_texts)) > 1_000_000
    assert assert_parity(web_texts, reference, fast) > 50  # real pages hold real phone numbers and addresses


def test_parity_on_real_web_text_with_planted_pii(web_texts, reference, fast):
    rng = random.Random(6)
    planted_texts, planted = [], []
    for text in web_texts[::3]:
        new_text, values = plant(text, rng, count=4)
        planted_texts.append(new_text)
        planted += values
    found = assert_parity(planted_texts, reference, fast)
    assert found >= len(planted)
    kinds = {kind for kind, _ in planted}
    assert kinds == set(ENTITIES)


def test_parity_on_presidio_synthetic_set(synthetic_texts, reference, fast):
    assert len(synthetic_texts) == 1500
    assert assert_parity(synthetic_texts, reference, fast) > 200


def test_parity_with_threshold_and_allow_lists(web_texts, synthetic_texts, reference):
    texts = synthetic_texts[:300] + web_texts[:40]
    for kwargs in (
        {"score_threshold": 0.5},
        {"score_threshold": 0.0},
        {"allow_list": ["jdoe@example.com", "192.168.0.1"], "allow_list_match": "exact"},
        {"allow_list": [r"@example\.(com|org)$", r"^(10|192\.168)\."], "allow_list_match": "regex"},
    ):
        fast = FastAnalyzer(ENTITIES, **kwargs)
        assert_parity(texts, reference, fast, **kwargs)


def test_parity_on_other_presidio_entities_by_name(synthetic_texts, reference):
    fast = FastAnalyzer(["URL", "US_PASSPORT", "EMAIL_ADDRESS", "DATE_TIME", "US_BANK_NUMBER"])
    assert_parity(synthetic_texts[:400], reference, fast)


def _number_soup(rng: random.Random) -> str:
    """Digits, separators, letters and look-alikes in the combinations the windows' arguments are about."""
    parts = []
    for _ in range(rng.randint(5, 40)):
        kind = rng.random()
        if kind < 0.45:
            parts.append("".join(rng.choice("0123456789") for _ in range(rng.randint(1, 12))))
        elif kind < 0.85:
            parts.append(
                rng.choice(
                    [
                        " ",
                        "-",
                        ".",
                        "/",
                        "(",
                        ")",
                        "+",
                        ":",
                        ", ",
                        " x ",
                        "ext. ",
                        "#",
                        "\n",
                        "\t",
                        "@",
                        "::",
                        "%",
                        "$",
                        "€",
                        "ı",
                        "ſ",
                        "K",
                        "１２",
                        "٣",
                        "—",
                        "–",
                        " - ",
                        "; ",
                        "a",
                        "AB",
                        " extension ",
                        " Extn: ",
                        " anexo ",
                        " int. ",
                        " xt ",
                        " at ",
                        " to ",
                        " in ",
                        "     ",
                        "de",
                        "DE89",
                        "at ",
                        "\u00a0",
                        "'",
                        "_",
                        "*",
                    ]
                )
            )
        else:
            parts.append(
                rng.choice(
                    [
                        "john@x.io",
                        "10.0.0.1",
                        "fe80::1",
                        "4111 1111 1111 1111",
                        "123-45-6789",
                        "+1 (212) 555-0187",
                        "2020-08-01 17:58:00",
                        "May 30, 2005",
                        "GB82 WEST 1234 5698 7654 32",
                    ]
                )
            )
    return "".join(parts)


def test_parity_on_adversarial_number_soup(reference, fast):
    rng = random.Random(66)
    texts = [_number_soup(rng) for _ in range(1000)]
    assert assert_parity(texts, reference, fast) > 700


def test_parity_on_short_numbers_around_the_phone_bounds(reference, fast):
    """Every 4- and 5-digit number (Germany has valid 4-digit numbers) and samples of 6-11 digits, in context."""
    rng = random.Random(7)
    numbers = [f"{i:04d}" for i in range(0, 10_000, 7)] + [f"0{i:04d}" for i in range(0, 10_000, 13)]
    numbers += ["".join(rng.choice("0123456789") for _ in range(n)) for n in range(6, 12) for _ in range(150)]
    separators = [" ", ", ", "; ", " / ", " tel ", "\n"]
    texts = [rng.choice(separators).join(numbers[i : i + 40]) for i in range(0, len(numbers), 40)]
    assert assert_parity(texts, reference, fast) > 0


def test_tries_bound_covers_the_matchers_real_tries(web_texts, synthetic_texts, fast):
    import phonenumbers

    phone = next(r for r in fast.recognizers if isinstance(r, WindowedPhoneRecognizer))
    checked = 0
    for text in web_texts[:40] + synthetic_texts[:200]:
        for window_start, window_end, _, _ in phone.windows(text):
            window = text[window_start:window_end]
            bound = tries_bound(window)
            for region in phone.inner.supported_regions:
                matcher = phonenumbers.PhoneNumberMatcher(window, region, leniency=phone.inner.leniency)
                for _ in matcher:
                    pass
                assert MAX_TRIES - matcher._max_tries <= bound, (window, region)
                checked += 1
    assert checked > 1000


def test_changed_patterns_are_not_wrapped():
    from presidio_analyzer import Pattern
    from presidio_analyzer.predefined_recognizers import EmailRecognizer, PhoneRecognizer

    custom = EmailRecognizer(patterns=[Pattern("any at", r"\S+@\S+", 0.4)])
    assert wrap_recognizer(custom) is custom
    assert type(wrap_recognizer(EmailRecognizer())).__name__ == "WindowedPatternRecognizer"
    assert isinstance(wrap_recognizer(PhoneRecognizer()), WindowedPhoneRecognizer)


def test_bad_input_matches_presidio_and_does_not_crash(reference, fast, web_texts):
    rng = random.Random(3)
    junk = bytes(rng.getrandbits(8) for _ in range(20_000)).decode("latin-1")
    texts = [
        "",
        " \n\t ",
        junk,
        "电话：+86 10 6552 9988，邮箱 wang.li@example.cn。2007年，美国宇航局(NASA)成立了一个小组。",
        "Телефон: +7 495 123-45-67, почта ivan@example.ru",
        "هاتف ٠١٢٣٤٥٦٧٨٩ و support@example.com",
        "\x00\x01 4111111111111111 \ufffd\ud7ff",
        "ref 4900948022576220 and 0049 30 123456 and 4930 1234567, 00 49 89 1234 5678",  # calling code, no '+'
        "call +1 (212) 555-0187856855991     45#9300193412",  # a spaced-out '#' extension
    ]
    assert_parity(texts, reference, fast)
    long_line = " ".join(web_texts[:120]).replace("\n", " ")
    assert len(long_line) > 500_000
    assert spans(fast.analyze(long_line)) == spans(reference.analyze(long_line, language="en", entities=ENTITIES))


def test_regions_skipped_by_the_phone_bounds_find_nothing(web_texts, synthetic_texts, fast):
    """Run libphonenumber's matcher for every region the bounds skip, on every phone window: it finds nothing."""
    import phonenumbers

    phone = next(r for r in fast.recognizers if isinstance(r, WindowedPhoneRecognizer))
    rng = random.Random(5)
    texts = web_texts[::4] + synthetic_texts[::3] + [_number_soup(rng) for _ in range(300)]
    texts.append("ref 4900948022576220 and 0049 30 123456 and 4930 1234567, 00 49 89 1234 5678")
    keys = set()
    for text in texts:
        for window_start, window_end, core_start, core_end in phone.windows(text):
            window, offset = phone._find.cache_key(text, window_start, window_end, core_start, core_end)
            keys.add((window, offset, offset + core_end - core_start))
    skipped = 0
    for window, core_start, core_end in keys:
        to_run = phone.bounds.regions_to_run(phone.inner.supported_regions, window[core_start:core_end])
        for region in set(phone.inner.supported_regions) - set(to_run):
            skipped += 1
            for match in phonenumbers.PhoneNumberMatcher(window, region, leniency=phone.inner.leniency):
                assert not (core_start <= match.start and match.end <= core_end), (window, region, match)
    assert skipped > 5000


def test_parity_with_a_spacy_pipeline_and_context_words(synthetic_texts, tmp_path):
    """With a spaCy NLP engine (a saved blank pipeline: no download), Presidio tokenizes the whole text and its
    context enhancer looks around each span for words like "phone" or "card"; spans and scores stay identical."""
    import spacy

    model = tmp_path / "blank_en"
    spacy.blank("en").to_disk(model)
    entities = ENTITIES + ["PERSON"]
    reference = build_presidio_analyzer(spacy_model=str(model))
    fast = FastAnalyzer(entities, spacy_model=str(model))
    texts = [t for t in synthetic_texts if any(w in t.lower() for w in ("phone", "card", "call", "ssn", "email"))]
    assert len(texts) > 50
    total = 0
    for text in texts[:150]:
        expected = spans(reference.analyze(text, language="en", entities=entities))
        assert spans(fast.analyze(text)) == expected
        total += len(expected)
    assert total > 30


def test_memo_matcher_equals_the_plain_matcher(web_texts, synthetic_texts, fast):
    """``_MemoMatcher`` shares ``_parse_and_verify`` results across windows and answers too-light candidates
    without parsing: same matches and tries as the plain matcher, also where one candidate recurs next to
    letters, ``%``, currency signs, brackets and text ends."""
    import phonenumbers

    from pipeline.pii.detect.windowed import MEMO_OK, _MemoMatcher
    from pipeline.pii.detect.windows import LruCache

    assert MEMO_OK
    phone = next(r for r in fast.recognizers if isinstance(r, WindowedPhoneRecognizer))
    rng = random.Random(8)
    windows = []
    for text in web_texts[::6] + synthetic_texts[::4] + [_number_soup(rng) for _ in range(200)]:
        windows += [text[a:b] for a, b, _, _ in phone.windows(text)]
    numbers = ["212-555-0187", "(030) 1234567", "+44 20 7946 0958", "2005", "0049 30 123456", "4930 1234567"]
    contexts = ["{}", "a{}", "{}b", "%{}", "{}$", "€{} ", " {} ", "({})", "x{}", "{}x", "é{}", "{}ü", "-{}-"]
    windows += [c.format(n) for n in numbers for c in contexts]
    rng.shuffle(windows)
    memos = {region: LruCache(50_000) for region in phone.inner.supported_regions}
    compared = 0
    for window in windows:
        for region in phone.inner.supported_regions:
            plain = phonenumbers.PhoneNumberMatcher(window, region, leniency=phone.inner.leniency)
            memo = _MemoMatcher(window, region, phone.inner.leniency, memos[region], phone.bounds)
            expected = [(m.start, m.end, m.raw_string) for m in plain]
            assert [(m.start, m.end, m.raw_string) for m in memo] == expected, (window, region)
            assert memo._max_tries == plain._max_tries, (window, region)
            compared += 1
    assert compared > 20_000


def test_short_phone_cores_are_skipped_exactly(fast):
    """A core shorter than ``least_weight`` is not looked at: every short string of candidate characters, in
    context, runs no region and no region's matcher finds a number in it."""
    import itertools

    import phonenumbers

    phone = next(r for r in fast.recognizers if isinstance(r, WindowedPhoneRecognizer))
    regions = phone.inner.supported_regions
    least = phone.bounds.least_weight
    assert 3 <= least < 10
    alphabet = "0179+(-) x#.\uff11\u0663"
    checked = 0
    for n in range(1, int(least)):
        for chars in itertools.product(alphabet, repeat=n):
            core = "".join(chars)
            assert phone.bounds.regions_to_run(regions, core) == [], core
            window = f" {core}:05"
            for region in regions:
                for match in phonenumbers.PhoneNumberMatcher(window, region, leniency=phone.inner.leniency):
                    assert not (1 <= match.start and match.end <= 1 + n), (core, region, match)
                checked += 1
    assert checked > 10_000


def test_matcher_budget_with_many_short_windows(reference):
    """Short windows are skipped, but their tries count: where they could exhaust the matcher's budget they are
    counted exactly, and a text that does exhaust it (Presidio then misses the last number) goes to Presidio."""
    fast = FastAnalyzer(["PHONE_NUMBER"])
    phone = fast.recognizers[0]
    near = "Call 212-555-0187. " + "7 " * 5_000 + "or +1 (212) 555-0187 x"  # exact count, under the budget
    over = "Call 212-555-0187. " + "7 " * 66_000 + "or +1 (212) 555-0187 x"  # over the budget
    for text, fallbacks in ((near, 0), (over, 1)):
        expected = spans(reference.analyze(text, language="en", entities=["PHONE_NUMBER"]))
        phone.fallbacks = 0
        assert spans(fast.analyze(text)) == expected
        assert phone.fallbacks == fallbacks
    assert len(spans(fast.analyze(near))) == 2 and len(spans(fast.analyze(over))) == 1


def test_fast_triggers_find_every_match():
    """Every match of a wrapped recognizer's patterns, and of its trigger, holds a match of its fast trigger, on
    random text with planted entities."""
    import re as std_re

    import presidio_analyzer.predefined_recognizers as predefined
    import regex

    from pipeline.pii.detect.windows import RUN_SPECS

    flags = std_re.DOTALL | std_re.MULTILINE | std_re.IGNORECASE
    rng = random.Random(9)
    alphabet = "0123456789" * 3 + "13456" + "aAfFzZdeDEkKıſ\u212a\u0130" + " -.:@/%\n\u0663\uff11\u00e9\u2013"
    planted = ["10.0.0.1", "fe80::1", "::", "::ffff:1.2.3.4", "a:b", "GB82 WEST 1234 5698", "de89370400440532013000"]
    planted += ["4111 1111 1111 1111", "3782-822463-10005", "123-45-6789", "078 05 1120", "a.b@c.io", "x@y"]
    planted += ["2001:db8:85a3:0:0:8a2e:370:7334", "0:0:0:0:0:ffff:1.2.3.4", "1:2::3:4.5.6.7", "255.1.10.100/24"]
    planted += ["12345-6789", "123-456789", "123456789", "123.45.6789", "6011-1111-1111-1117", "1.2.3", "10:30:47"]
    texts = []
    for _ in range(3000):
        parts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20))) for _ in range(3)]
        texts.append(parts[0] + rng.choice(planted) + parts[1] + rng.choice(planted) + parts[2])
    for name, spec in RUN_SPECS.items():
        if not spec.fast_trigger:
            continue
        recognizer = getattr(predefined, name)()
        patterns = [regex.compile(p.regex, flags) for p in recognizer.patterns]
        patterns.append(regex.compile(spec.trigger, flags))
        fast = spec.compile(flags)[0]
        found = 0
        for text in texts:
            fast_spans = {(m.start(), m.end()) for i in range(len(text)) if (m := fast.search(text, i))}
            for pattern in patterns:
                for m in pattern.finditer(text, overlapped=True):
                    if m.end() > m.start():
                        assert any(m.start() <= a and b <= m.end() for a, b in fast_spans), (name, text, m)
                        found += 1
        assert found > 200, name


def test_first_pass_results_are_handed_over_once(synthetic_texts, reference, fast):
    """The engine gets the first pass's results only for the same text; a second analysis computes afresh."""
    text = next(t for t in synthetic_texts if spans(reference.analyze(t, language="en", entities=ENTITIES)))
    expected = spans(reference.analyze(text, language="en", entities=ENTITIES))
    assert spans(fast.analyze(text)) == expected
    assert spans(fast.analyze(text)) == expected
    phone = next(r for r in fast.recognizers if isinstance(r, WindowedPhoneRecognizer))
    phone.first_pass(text, fast.entities)
    assert phone.analyze("no number here", fast.entities) == []
    assert spans(fast.analyze(text)) == expected


def test_shifted_copy_is_a_deep_copy(synthetic_texts, fast):
    import copy

    from pipeline.pii.detect.windowed import WindowedPatternRecognizer, _shifted_copy

    compared = 0
    for recognizer in fast.recognizers:
        if not isinstance(recognizer, WindowedPatternRecognizer):
            continue
        for text in synthetic_texts:
            for result in recognizer.inner.analyze(text, recognizer.supported_entities, None):
                deep, cheap = copy.deepcopy(result), _shifted_copy(result, 5)
                deep.start += 5
                deep.end += 5
                assert cheap.start == deep.start and cheap.end == deep.end and cheap.score == deep.score
                assert vars(cheap.analysis_explanation) == vars(deep.analysis_explanation)
                assert cheap.recognition_metadata == deep.recognition_metadata
                cheap.analysis_explanation.set_improved_score(0.99)
                cheap.recognition_metadata["x"] = 1
                assert result.analysis_explanation.score != 0.99 and "x" not in result.recognition_metadata
                compared += 1
    assert compared > 150


def test_too_light_candidates_never_verify(fast):
    """``PhoneBounds.too_light`` answers for ``_parse_and_verify`` without parsing: wherever it says a string is
    too light for a region, libphonenumber's own ``_parse_and_verify`` finds no number in it."""
    import itertools

    import phonenumbers

    phone = next(r for r in fast.recognizers if isinstance(r, WindowedPhoneRecognizer))
    regions = phone.inner.supported_regions
    rng = random.Random(10)
    strings = ["".join(chars) for n in range(1, 5) for chars in itertools.product("0179+(- x", repeat=n)]
    pieces = ["0", "00", "1", "49", "+", "+1", "(0)", " ", "-", ".", "/", "x", "ext ", "#", "abc", "\uff11", "\u0663"]
    for _ in range(4000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 9)))
        strings.append("".join(rng.choice(pieces) for _ in range(rng.randint(0, 3))) + digits)
        strings.append(digits + "".join(rng.choice(pieces) for _ in range(rng.randint(0, 3))))
    light = 0
    for text in strings:
        for region in regions:
            if phone.bounds.too_light(region, text):
                matcher = phonenumbers.PhoneNumberMatcher(text, region, leniency=phone.inner.leniency)
                assert matcher._parse_and_verify(text, 0) is None, (text, region)
                light += 1
    assert light > 20_000
