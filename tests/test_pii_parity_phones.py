"""Curate's phone detection equals Presidio's on every way of writing a number that libphonenumber knows.

The spellings come from libphonenumber itself (``tests/phone_spellings.py``): every region's example numbers in
every format libphonenumber writes, with carrier selection codes and their placeholders (``0 XX 11 91234-5678``),
random matches of each region's ``national_prefix_for_parsing``, and the strings of python-phonenumbers' and
Presidio's own test suites, alone, in libphonenumber's test contexts, and mutated. The reference is Presidio's
``AnalyzerEngine`` with its default recognizers (``build_presidio_analyzer``). These tests run a seeded sample;
``python3 tests/phone_spellings.py`` runs the whole set.
"""

from __future__ import annotations

import random

import phonenumbers
import pytest
from phone_spellings import (
    PRESIDIO_REGIONS,
    carrier_codes,
    in_context,
    metadata_spellings,
    prefix_spellings,
    suite_strings,
)
from test_pii_parity import ENTITIES, assert_parity, spans

from pipeline.pii.detect.analyzer import FastAnalyzer, build_presidio_analyzer


@pytest.fixture(scope="module")
def reference():
    return build_presidio_analyzer()


@pytest.fixture(scope="module")
def fast():
    return FastAnalyzer(ENTITIES)


@pytest.fixture(scope="module")
def spellings() -> list[tuple[str, str]]:
    return metadata_spellings(random.Random(12), per_number=2) + prefix_spellings(random.Random(13), per_region=2)


def lines(texts: list[str], per_text: int = 10) -> list[str]:
    """Texts of ``per_text`` spellings, one per line (a line break ends every candidate of the matcher)."""
    return ["\n".join(texts[i : i + per_text]) for i in range(0, len(texts), per_text)]


def test_carrier_code_placeholders_are_found_like_presidio(reference, fast):
    """Brazilian pages write the carrier selection code as a placeholder: ``0 XX 11``, ``(0xx11)``. libphonenumber
    reads ``x`` as punctuation (up to four between digit groups), so Presidio finds these numbers whole."""
    texts = [
        "Ligue 0 XX 11 91234-5678 ou (0xx11) 3456-7890.",
        "Central: 0xx (21) 2345-6789, 0-xx-61-3345-6789, (0XX11)91234-5678",
        "Atendimento 0 xx 11 3456-7890 / 0 21 11 3456-7890 / 0 15 (11) 91234-5678",
        "call 800 234 1 111 xx 1111 or 0 XXXX 11 91234-5678",
    ]
    for text in texts:
        expected = spans(reference.analyze(text, language="en", entities=ENTITIES))
        assert spans(fast.analyze(text)) == expected, text
    found = {(r.start, r.end) for r in reference.analyze(texts[0], language="en", entities=["PHONE_NUMBER"])}
    assert {(6, 24), (28, 45)} <= found  # '0 XX 11 91234-5678' and '(0xx11) 3456-7890', whole


def test_the_generators_write_numbers_libphonenumber_accepts():
    """The carrier codes are the ones libphonenumber strips, and most spellings parse as valid numbers."""
    md = phonenumbers.PhoneMetadata.metadata_for_region("BR")
    codes = {code for _, code in carrier_codes(md)}
    assert {"12", "14", "15", "21", "31", "41", "99"} <= codes and "10" not in codes
    assert {prefix for prefix, _ in carrier_codes(md)} == {"0", "90"}
    spellings = metadata_spellings(random.Random(1), per_number=3)
    assert {region for region, _ in spellings} >= set(phonenumbers.SUPPORTED_REGIONS) - {"UK", "FE"}
    valid = 0
    for region, text in spellings:
        try:
            valid += phonenumbers.is_valid_number(phonenumbers.parse(text, None if region == "001" else region))
        except phonenumbers.NumberParseException:
            pass
    assert valid > 0.7 * len(spellings)


def test_parity_on_every_regions_example_numbers(spellings, reference, fast):
    assert len(spellings) > 3500
    texts = [text for _, text in spellings]
    assert assert_parity(lines(texts), reference, fast) > 2000


def test_parity_on_presidio_regions_in_context(spellings, reference, fast):
    texts = [text for region, text in spellings if region in PRESIDIO_REGIONS]
    assert len(texts) > 500
    assert assert_parity(in_context(texts, random.Random(14)), reference, fast) > 500


def test_parity_on_mutated_spellings_in_context(spellings, reference, fast):
    """Punctuation swapped for other ``_VALID_PUNCTUATION`` characters, full-width and Arabic-Indic digits,
    extensions, vanity letters, a doubled or dropped ``+``: a sample, in libphonenumber's test contexts."""
    texts = random.Random(15).sample([text for _, text in spellings], 1200)
    assert assert_parity(in_context(texts, random.Random(16), mutated=True), reference, fast) > 500


def test_parity_on_libphonenumbers_and_presidios_test_strings(reference, fast):
    strings = suite_strings()
    assert len(strings) > 1300
    assert assert_parity(lines(strings), reference, fast) > 300
