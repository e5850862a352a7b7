"""Fake PII planted into real text, for parity tests, leak tests and the benchmark.

Real web pages hold few e-mail addresses, and almost no card numbers or IBANs, so a parity check on them alone
would leave most recognizers untested. ``plant`` inserts fake but valid-looking values (Luhn-valid card numbers,
IBANs with correct check digits, phone numbers in the formats people write) between the words of a real
document, deterministically from a seed, and returns the values it planted.
"""

from __future__ import annotations

import random
import string

FIRST = ["john", "maria", "wei", "fatima", "olga", "pierre", "kenji", "amara", "lucas", "sofia"]
LAST = ["smith", "garcia", "chen", "okafor", "ivanova", "dubois", "tanaka", "mensah", "silva", "rossi"]
DOMAINS = ["example.com", "mail.example.org", "acme-corp.co.uk", "uni-heidelberg.de", "gmail.com", "t-online.de"]
IBAN_LAYOUTS = {"DE": 18, "GB": 18, "FR": 23, "NL": 14, "ES": 20}  # BBAN lengths


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    digits = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d)
        if i % 2 == 0:
            n *= 2
            n -= 9 if n > 9 else 0
        total += n
    return digits + str((10 - total % 10) % 10)


def _iban(rng: random.Random) -> str:
    country = rng.choice(sorted(IBAN_LAYOUTS))
    bban = "".join(rng.choice(string.digits) for _ in range(IBAN_LAYOUTS[country]))
    if country in ("GB", "NL"):
        bban = "".join(rng.choice(string.ascii_uppercase) for _ in range(4)) + bban[4:]
    moved = (bban + country + "00").translate({ord(c): str(ord(c) - 55) for c in string.ascii_uppercase})
    check = 98 - int(moved) % 97
    raw = f"{country}{check:02d}{bban}"
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4)) if rng.random() < 0.5 else raw


def fake_values(rng: random.Random) -> list[tuple[str, str]]:
    """One fake value of each kind, as ``(kind, value)``."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    area = rng.choice([212, 213, 303, 312, 415, 512, 617, 646, 702, 713, 818, 917])
    exchange, line = rng.randint(201, 989), rng.randint(0, 9999)
    phone = rng.choice(
        [
            f"({area}) {exchange}-{line:04d}",
            f"{area}-{exchange}-{line:04d}",
            f"+1 {area} {exchange} {line:04d}",
            f"+44 20 {rng.randint(7000, 8999)} {rng.randint(1000, 9999)}",
            f"+49 30 {rng.randint(1000000, 9999999)}",
            f"+33 1 {rng.randint(40, 79)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
        ]
    )
    card_prefix = rng.choice(["4", "51", "55", "37", "6011"])
    card = _luhn_complete(card_prefix, 15 if card_prefix == "37" else 16, rng)
    if rng.random() < 0.5:
        card = " ".join(card[i : i + 4] for i in range(0, len(card), 4))
    ip = rng.choice(
        [
            ".".join(str(rng.randint(1, 254)) for _ in range(4)),
            f"2001:db8:{rng.randint(0, 0xFFFF):x}::{rng.randint(1, 0xFFFF):x}",
        ]
    )
    ssn = f"{rng.randint(100, 665):03d}-{rng.randint(10, 99):02d}-{rng.randint(1000, 9999):04d}"
    return [
        ("EMAIL_ADDRESS", f"{first}.{last}{rng.randint(1, 99)}@{rng.choice(DOMAINS)}"),
        ("PHONE_NUMBER", phone),
        ("CREDIT_CARD", card),
        ("IP_ADDRESS", ip),
        ("IBAN_CODE", _iban(rng)),
        ("US_SSN", ssn),
    ]


def plant(text: str, rng: random.Random, count: int = 6) -> tuple[str, list[tuple[str, str]]]:
    """``text`` with ``count`` fake values inserted at random word boundaries, and the values inserted."""
    words = text.split(" ")
    planted: list[tuple[str, str]] = []
    for _ in range(count):
        kind, value = rng.choice(fake_values(rng))
        position = rng.randint(0, len(words))
        lead = rng.choice(["contact", "call", "card", "IP", "write to", "account", "ssn", ""])
        # A ';' after the value keeps it from running into the next word or value (an IBAN followed by "here"
        # reads on into it under IGNORECASE, two numbers side by side are one phone candidate).
        words.insert(position, f"{lead} {value};".strip())
        planted.append((kind, value))
    return " ".join(words), planted
