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
