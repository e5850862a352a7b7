"""Ways of writing phone numbers, generated from libphonenumber's own metadata and test suites.

Used by ``tests/test_pii_parity_phones.py`` to compare Curate's windowed phone detection with Presidio's. Every
spelling here is something libphonenumber formats, parses or was tested on:

* ``metadata_spellings``: each region's (and each non-geographic calling code's) example numbers, written in
  national, international, E.164 and RFC 3966 format, as dialled from other countries, for mobile dialling, with
  the national prefix in brackets (``+49 (0)30 ...``), and, where the region's ``national_prefix_for_parsing``
  strips a carrier selection code, with every such code (found by asking libphonenumber's own
  ``_maybe_strip_national_prefix_carrier_code``) and with the placeholders people type for it (``0 XX 11
  91234-5678``, ``(0xx11) 1234-5678``, the ``$CC`` of ``domestic_carrier_code_formatting_rule``);
* ``prefix_spellings``: random strings matching each region's ``national_prefix_for_parsing`` (a small sampler of
  the regex), alone and in front of the region's example numbers;
* ``suite_strings`` / ``CONTEXTS``: the string literals of python-phonenumbers' test suite and Presidio's
  phone tests (``tests/data/phone_test_strings.json``), and libphonenumber's matcher-test contexts;
* ``mutate``: the same numbers with their punctuation swapped for other characters of libphonenumber's
  ``_VALID_PUNCTUATION`` (``x``, ``~``, full-width forms, soft hyphens), full-width or Arabic-Indic digits,
  extensions in every keyword, vanity letters, a doubled or dropped ``+``.

``python3 tests/phone_spellings.py`` runs the whole set (about 15,000 spellings alone, in context and mutated;
a few minutes) where the test runs a seeded sample.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Iterator
from pathlib import Path

import phonenumbers as pn
from phonenumbers import PhoneMetadata
from phonenumbers import PhoneNumberFormat as Format
from phonenumbers.phonenumberutil import COUNTRY_CODES_FOR_NON_GEO_REGIONS, _maybe_strip_national_prefix_carrier_code

try:
    from re import _parser as sre_parse  # Python >= 3.11
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse  # type: ignore[no-redef]

TEST_STRINGS = Path(__file__).resolve().parent / "data" / "phone_test_strings.json"
NUMBER_TYPES = (
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "personal_number",
    "voip",
    "pager",
    "uan",
    "voicemail",
    "no_international_dialling",
)
PRESIDIO_REGIONS = ("US", "GB", "DE", "FR", "IL", "IN", "CA", "BR")  # PhoneRecognizer's default regions
DIALLING_FROM = PRESIDIO_REGIONS + ("SG", "AU", "JP", "AR", "MX")
PLACEHOLDERS = ("XX", "xx", "Xx", "xxx", "x", "CC")


def _test_data() -> dict:
    return json.loads(TEST_STRINGS.read_text(encoding="utf-8"))


def suite_strings() -> list[str]:
    """Every string of libphonenumber's and Presidio's phone tests (numbers, non-numbers, contexts)."""
    return [s for strings in _test_data()["strings"].values() for s in strings]


CONTEXTS: list[tuple[str, str]] = [tuple(pair) for pair in _test_data()["contexts"]] + [
    ("Tel.: ", "."),
    ("Telefone: ", " (WhatsApp)"),
    ("Fone/Fax ", " - ramal 22"),
    ("[", "]"),
    ("tel:", ";"),
    ("", " ext. 123"),
    ("", " x 45"),
]


def carrier_codes(md) -> list[tuple[str, str]]:
    """(national prefix, carrier code) pairs that libphonenumber strips as a carrier selection code in the region.

    Every one- and two-digit code is tried in front of the region's example number, after the national prefix,
    ``90`` (Brazil's collect-call prefix) and ``0``.
    """
    if not md.national_prefix_for_parsing:
        return []
    example = next((d.example_number for d in _descs(md) if d.example_number), None)
    if not example:
        return []
    found = []
    for length in (1, 2):
        for digits in itertools.product("0123456789", repeat=length):
            code = "".join(digits)
            for prefix in dict.fromkeys([md.national_prefix or "", "90", "0"]):
                carrier, _, stripped = _maybe_strip_national_prefix_carrier_code(prefix + code + example, md)
                if stripped and carrier == code:
                    found.append((prefix, code))
    return found


def _descs(md):
    return [d for d in (getattr(md, kind, None) for kind in NUMBER_TYPES) if d is not None]


def example_numbers() -> Iterator[tuple[str, object, pn.PhoneNumber]]:
    """(region, metadata, number) for every example number of every region and non-geographic code."""
    for region in sorted(pn.SUPPORTED_REGIONS):
        md = PhoneMetadata.metadata_for_region(region)
        for desc in _descs(md):
            if desc.example_number:
                yield region, md, pn.parse(desc.example_number, region)
    for code in sorted(COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        md = PhoneMetadata.metadata_for_nongeo_region(code)
        for desc in _descs(md):
            if desc.example_number:
                yield "001", md, pn.parse(f"+{code}{desc.example_number}", None)


def _forms(region: str, md, number: pn.PhoneNumber, carriers: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """The number's plain spellings, and those with a carrier code or a placeholder for one."""
    national = pn.format_number(number, Format.NATIONAL)
    international = pn.format_number(number, Format.INTERNATIONAL)
    nsn = pn.national_significant_number(number)
    code = number.country_code
    forms = [national, international, pn.format_number(number, Format.E164), pn.format_number(number, Format.RFC3966)]
    forms += [pn.format_out_of_country_calling_number(number, origin) for origin in DIALLING_FROM]
    forms.append(pn.format_number_for_mobile_dialing(number, "US", True))
    forms.append(pn.format_number_for_mobile_dialing(number, region if region != "001" else "US", True))
    forms.append(nsn)
    if md.national_prefix:
        prefix = md.national_prefix
        rest = international.split(" ", 1)[-1]
        forms += [prefix + nsn, f"+{code} ({prefix}){nsn}", f"+{code} ({prefix}) {rest}", f"{code} {prefix}{nsn}"]
        forms.append(f"00{code}{prefix}{nsn}")
    carrier_forms = []
    for prefix, carrier in carriers:
        carrier_forms.append(pn.format_national_number_with_carrier_code(number, carrier))
        carrier_forms += [prefix + carrier + nsn, f"{prefix} {carrier} {nsn}", f"({prefix}{carrier}) {national}"]
    if carriers or any(f.domestic_carrier_code_formatting_rule for f in md.number_format):
        carrier_forms += [pn.format_national_number_with_carrier_code(number, p) for p in PLACEHOLDERS]
        prefix = md.national_prefix or "0"
        area, _, local = national.lstrip("0 (").partition(" ")
        area = area.rstrip(")")
        carrier_forms += [
            f"({prefix}xx{area}) {local}",
            f"{prefix} XX {area} {local}",
            f"{prefix}xx{area} {local}",
            f"({prefix}XX{area}){local}",
            f"{prefix}xx ({area}) {local}",
            f"{prefix}-xx-{area}-{local}",
            f"({prefix}**{area}) {local}",
            f"{prefix} ** {area} {local}",
        ]
    return forms, carrier_forms


def metadata_spellings(rng: random.Random | None = None, per_number: int | None = None) -> list[tuple[str, str]]:
    """(region, spelling) for every example number. With ``rng`` and ``per_number``, a seeded sample: outside
    Presidio's regions, the national and international format and ``per_number - 2`` other plain forms per
    number; everywhere, every carrier-code placeholder form, with two of the region's carrier codes."""
    seen: dict[str, str] = {}
    carriers: dict[str, list] = {}
    sample = rng is not None and per_number is not None
    for region, md, number in example_numbers():
        if region not in carriers:
            carriers[region] = carrier_codes(md) if region != "001" else []
        codes = carriers[region]
        if sample and len(codes) > 2:
            codes = rng.sample(codes, 2)
        forms, carrier_forms = _forms(region, md, number, codes)
        if sample and region not in PRESIDIO_REGIONS:
            forms = forms[:2] + rng.sample(forms[2:], min(per_number - 2, len(forms) - 2))
        for form in forms + carrier_forms:
            if form and form not in seen:
                seen[form] = region
    return [(region, form) for form, region in seen.items()]


def sample_regex(pattern: str, rng: random.Random) -> str:
    """A random string that ``pattern`` fully matches (literals, classes, repeats, groups, branches, refs)."""
    groups: dict[int, str] = {}

    def walk(items) -> str:
        out = []
        for op, av in items:
            name = str(op)
            if name == "LITERAL":
                out.append(chr(av))
            elif name == "IN":
                choices: list[str] = []
                for op2, av2 in av:
                    if str(op2) == "LITERAL":
                        choices.append(chr(av2))
                    elif str(op2) == "RANGE":
                        choices += [chr(c) for c in range(av2[0], av2[1] + 1)]
                    else:  # \d, the only category in phone metadata
                        choices += list("0123456789")
                out.append(rng.choice(choices))
            elif name in ("CATEGORY", "ANY"):
                out.append(rng.choice("0123456789"))
            elif name in ("MAX_REPEAT", "MIN_REPEAT"):
                low, high, sub = av
                out += [walk(sub) for _ in range(rng.randint(low, min(high, low + 3)))]
            elif name == "SUBPATTERN":
                text = walk(av[3])
                if av[0]:
                    groups[av[0]] = text
                out.append(text)
            elif name == "BRANCH":
                out.append(walk(rng.choice(av[1])))
            elif name == "GROUPREF":
                out.append(groups.get(av, ""))
            elif name != "AT":
                raise ValueError(f"unexpected regex item {name} in {pattern!r}")
        return "".join(out)

    return walk(sre_parse.parse(pattern))


def prefix_spellings(rng: random.Random, per_region: int = 4) -> list[tuple[str, str]]:
    """Matches of every region's ``national_prefix_for_parsing``, alone and before the region's example numbers."""
    found: dict[str, str] = {}
    for region in sorted(pn.SUPPORTED_REGIONS):
        md = PhoneMetadata.metadata_for_region(region)
        if not md.national_prefix_for_parsing:
            continue
        examples = [d.example_number for d in _descs(md) if d.example_number][:3]
        for _ in range(per_region):
            prefix = sample_regex(md.national_prefix_for_parsing, rng)
            found.setdefault(prefix, region)
            for example in examples:
                found.setdefault(prefix + rng.choice(["", " ", "-", " (", "xx"]) + example, region)
    return [(region, text) for text, region in found.items() if text]


PUNCTUATION = [
    "-", "x", "X", "\u2010", "\u2013", "\u2212", "\u30fc", "\uff0d", "\uff0f", " ", "\xa0", "\xad", "\u200b", "\u2060",
    "\u3000", "(", ")", "\uff08", "\uff09", "\uff3b", "\uff3d", ".", "[", "]", "/", "~", "\u2053", "\u223c", "\uff5e",
    "  ", " - ", " / ", "xx", " XX ", "--", ")(", ". ",
]  # fmt: skip
FULL_WIDTH = str.maketrans("0123456789+", "０１２３４５６７８９＋")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
EXTENSIONS = [" ext. 12", " x 345", " #12", " ext: 7", ";ext=99", " extension 4", " anexo 12", " int 5", " ~ 88"]
EXTENSIONS += [" - 12#", " ,, ext 1234567890", "x1", " ramal 22", " доб 5", " extensión 3", " ｅｘｔ 4"]


def mutate(text: str, rng: random.Random) -> str:
    """``text`` with random punctuation, digits and extensions swapped for others libphonenumber accepts."""
    out = []
    for ch in text:
        r = rng.random()
        if ch in " -./()" and r < 0.35:
            out.append(rng.choice(PUNCTUATION))
        elif ch.isdigit() and r < 0.03:
            out.append(ch + rng.choice(PUNCTUATION))
        elif ch.isalpha() and r < 0.5:
            out.append(ch.swapcase())
        else:
            out.append(ch)
    text = "".join(out)
    r = rng.random()
    if r < 0.1:
        text = text.translate(FULL_WIDTH)
    elif r < 0.15:
        text = text.translate(ARABIC_INDIC)
    r = rng.random()
    if r < 0.2:
        text += rng.choice(EXTENSIONS)
    elif r < 0.25:
        text = "+" + text
    elif r < 0.3:
        text = text.lstrip("+")
    elif r < 0.35:
        text = "(" + text + ")"
    elif r < 0.4:
        text = text.replace("+", "00", 1)
    elif r < 0.45:  # a vanity number: the last four digits as letters
        last = [i for i, c in enumerate(text) if c.isdigit()][-4:]
        text = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") if i in last else c for i, c in enumerate(text))
    elif r < 0.5:
        text = text.replace(" ", "", rng.randint(1, 3))
    return text


SEPARATORS = [" ", "\n", "; ", " / ", " | ", ", ", "", "-", ",", "  ", "     ", ":", "x", " x ", "/", "."]


def in_context(spellings: list[str], rng: random.Random, per_text: int = 8, mutated: bool = False) -> list[str]:
    """Texts of ``per_text`` spellings each, every one in a libphonenumber test context, joined by a separator."""
    spellings = list(spellings)
    rng.shuffle(spellings)
    texts = []
    for i in range(0, len(spellings), per_text):
        parts = []
        for spelling in spellings[i : i + per_text]:
            before, after = rng.choice(CONTEXTS)
            parts.append(before + (mutate(spelling, rng) if mutated else spelling) + after)
        texts.append(rng.choice(SEPARATORS).join(parts))
    return texts


def main() -> None:
    """The whole set: every spelling alone, in context and mutated; prints the texts where the spans differ."""
    import sys
    import time

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from pipeline.pii import DEFAULT_ENTITIES
    from pipeline.pii.detect.analyzer import FastAnalyzer, build_presidio_analyzer

    reference, fast = build_presidio_analyzer(), FastAnalyzer(list(DEFAULT_ENTITIES))
    rng = random.Random(0)
    spellings = [s for _, s in metadata_spellings()] + [s for _, s in prefix_spellings(rng, 8)] + suite_strings()
    sets = {
        "alone": spellings,
        "mutated": [mutate(s, rng) for s in spellings],
        "in context": in_context(spellings, rng),
        "mutated in context": in_context(spellings, rng, mutated=True),
    }
    differ = 0
    for name, texts in sets.items():
        start, found = time.perf_counter(), 0
        for text in texts:
            expected = sorted(
                (r.entity_type, r.start, r.end, r.score) for r in reference.analyze(text, "en", entities=fast.entities)
            )
            got = sorted((r.entity_type, r.start, r.end, r.score) for r in fast.analyze(text))
            found += len(expected)
            if got != expected:
                differ += 1
                print(f"DIFFERENT: {text!r}\n  Presidio {expected}\n  Curate   {got}")
        print(f"{name}: {len(texts):,} texts, {found:,} spans, {time.perf_counter() - start:.0f}s")
    print(f"{differ} texts differ")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
