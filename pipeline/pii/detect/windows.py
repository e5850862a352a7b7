"""Exact pre-checks for Presidio's pattern recognizers: run each recognizer only on the windows that can match.

Presidio runs every recognizer over the whole document. Most of a web page cannot hold an e-mail address, an IP,
an IBAN, a card or a social security number, and most of the time goes into the phone recognizer, which runs
libphonenumber's matcher eight times (once per region) over the whole text and parses every number-like string it
meets (years, prices, counts). Here each recognizer is wrapped so that it sees only the *windows* of the text
that can hold a match, and the wrapped recognizer returns exactly the spans the original returns on the whole
text. The argument, recognizer by recognizer:

* **Runs.** Every character a recognizer's regex can consume lies in a character set ``S`` (for the e-mail
  pattern: word characters, ``@``, ``.``, ``-`` and the RFC 5322 specials). A match is a contiguous stretch of
  ``S`` characters, so it lies inside one maximal run of ``S`` characters. Every pattern also needs a *trigger*
  inside its match (``@`` for e-mail, a dotted quad, ``::`` or a full eight-group IPv6 for IP, two capitals and
  two digits for IBAN, ...; ``RUN_SPECS``), so only runs that contain a trigger are looked at.
* **Context.** The patterns' look-arounds (``\\b``, ``(?<![\\w:])``, ``(?![\\w:]|\\.\\d)``) read at most two
  characters beyond a match. A window is its run plus ``MARGIN`` characters on each side, so every regex decision
  at a position inside the run reads the same characters as on the whole text.
* **Scanning.** ``finditer`` scans left to right without overlaps. No match crosses a character outside ``S``, so
  the scan enters each run fresh on the whole text as in the window, and meets the same matches inside it.
  Matches the window finds in its margins (the tail of a neighbouring run) are discarded; they cannot overlap the
  run, so they never hide a match inside it (Presidio's de-duplication only removes contained spans).

The phone recognizer is handled the same way with libphonenumber's own candidate regex (``_PATTERN``): windows are
the stretches between *blocker* characters that no candidate can contain, trimmed to the first character a
candidate can start with and the last one it can end with; the matcher only ever reads one character before a
candidate, one after it and three after it for the time-stamp check, all of which the window keeps. The matcher
gives up after 65,535 failed tries per text; the wrapper counts the tries each window used, and if a document
could come near that limit it runs the original recognizer on the whole text instead.

The regexes these arguments rest on are the ones of the installed Presidio and phonenumbers. ``wrap_recognizer``
only wraps a recognizer whose patterns are exactly the ones recorded in ``EXPECTED_PATTERNS``; any other
recognizer (a newer Presidio, a user's custom one) runs unwrapped on the whole text, which is slower but still
exact. ``tests/test_pii_parity.py`` compares the wrapped recognizers with the originals on real and adversarial
text.
"""

from __future__ import annotations

import hashlib
import logging
import re as std_re
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

import regex
from phonenumbers.phonenumberutil import _VALID_PUNCTUATION

logger = logging.getLogger(__name__)

MARGIN = 2  # the widest look-around of the wrapped patterns reads two characters past a match


@dataclass(frozen=True)
class RunSpec:
    """Where a recognizer can match: runs of ``member`` characters that contain a ``trigger``.

    ``member`` is a character class (without brackets) that holds every character the recognizer's patterns can
    consume; ``trigger`` matches something every match must contain, made of member characters only.
    """

    member: str
    trigger: str
    fast_trigger: str = ""  # optional regex finding a superset of ``trigger``'s matches, faster
    fast_with_re: bool = False  # compile ``fast_trigger`` with the standard library's ``re`` (else ``regex``)

    def compile(self, flags: int) -> tuple[regex.Pattern, regex.Pattern, regex.Pattern]:
        """Trigger, outside-the-set and outside-the-set-searching-backwards regexes, with the recognizer's flags.

        Compiled with the flags the recognizer's own patterns run with, so case-insensitive matching folds the
        same characters into the set (with IGNORECASE, ``[A-Z]`` also holds ``ı``, ``ſ`` and the Kelvin sign).
        """
        outside = f"[^{self.member}]"
        return (
            self._fast() if self.fast_trigger else regex.compile(self.trigger, flags),
            regex.compile(outside, flags),
            regex.compile(f"(?r){outside}", flags),
        )

    def _fast(self) -> std_re.Pattern | regex.Pattern:
        """The fast trigger, compiled without flags (its character classes spell out every case fold)."""
        return std_re.compile(self.fast_trigger) if self.fast_with_re else regex.compile(self.fast_trigger)


_ANY_DIGIT = "[0-9\\u0080-\\U0010ffff]"  # ASCII digits and anything non-ASCII: every digit of either regex engine
# A digit, then (looking back at it) one of 1, 3-6: the same matches as [13-6]\d{3}[- ]?\d{3}, but the regex
# module scans for a first character in [0-9] three times faster than for one in [13-6].
_CC_FAST = "[0-9](?<=[13-6])" + _ANY_DIGIT * 3 + "[- ]?" + _ANY_DIGIT * 3
_HEX = "[0-9A-Fa-f]"
# Member sets and triggers, per Presidio recognizer class. Fast triggers are spelled out ([0-9][0-9] rather than
# [0-9]{2}, a plain character class first), the form both engines scan fastest; the regex module scans for a
# leading [0-9] about four times faster than the standard library, which is faster where the first character is
# a frequent one like '.' (the IP trigger). Each comment says why every match holds a trigger.
RUN_SPECS: dict[str, RunSpec] = {
    # local@domain: the local part is [\w!#$%&'*+\-/=?^_`{|}~.], the domain \w, '-' and '.'; '@' is mandatory.
    "EmailRecognizer": RunSpec(member=r"\w!#$%&'*+\-/=?^_`{|}~.@", trigger="@", fast_trigger="@"),
    # Members: hex digits, the zone id [0-9a-zA-Z], '.', ':', '%' and the '/' of a prefix length. Every match holds
    # one of: a dotted quad, its first '.' between a digit and 1-3 digits '.' 1-3 digits '.' a digit (IPv4, and
    # the IPv4 part of IPv4-mapped and -embedded); '::' (IPv4-mapped, IPv6-unspecified, the compressed IPv6 forms
    # and IPv4-embedded with fewer than six groups); or hex ':' 1-4 hex ':' hex (the full eight-group IPv6 form).
    # No character folds into [0-9A-Fa-f] under IGNORECASE. A decimal like 3.5 or a time like 10:30 holds none.
    "IpRecognizer": RunSpec(
        member=r"0-9A-Za-z.:/%",
        trigger=(
            r"[.:](?:(?<=[0-9]\.)(?=[0-9][0-9]?[0-9]?\.[0-9][0-9]?[0-9]?\.[0-9])|(?<=:)(?=:)"
            rf"|(?<={_HEX}:)(?={_HEX}{{1,4}}:{_HEX}))"
        ),
        fast_trigger=(
            r"[.:](?:(?<=[0-9]\.)(?=[0-9][0-9]?[0-9]?\.[0-9][0-9]?[0-9]?\.[0-9])|(?<=:)(?=:)"
            rf"|(?<={_HEX}:)(?={_HEX}{{1,4}}:{_HEX}))"
        ),
        fast_with_re=True,
    ),
    # [A-Z]{2}[0-9]{2} then groups of [A-Z0-9] separated by an optional ' ' or '-'.
    # The fast trigger looks for the digits first (rarer than letters) and lets [A-Z] fold case as the regex
    # module does under IGNORECASE (ASCII letters and U+0130, U+0131, U+017F, U+212A), whatever the flags.
    "IbanRecognizer": RunSpec(
        member=r"A-Z0-9 \-",
        trigger=r"[A-Z]{2}[0-9]{2}",
        fast_trigger=r"[0-9][0-9](?<=[A-Za-z\u0130\u0131\u017f\u212a][A-Za-z\u0130\u0131\u017f\u212a][0-9][0-9])",
    ),
    # The SSN patterns are 5-4, 3-6, 3-2-4, 3 2 4 (split by '-', ' ' or '.') and 9 digits: each holds three
    # digits, an optional separator, two digits, an optional separator and a digit.
    "UsSsnRecognizer": RunSpec(
        member=r"0-9 .\-",
        trigger=r"[0-9]{3}[\- .]?[0-9]{2}[\- .]?[0-9]",
        fast_trigger=r"[0-9][0-9][0-9][\- .]?[0-9][0-9][\- .]?[0-9]",
    ),
    # Every card pattern starts with one of 4/5/6/1/3 and three more digits, then an optional ' ' or '-' and a
    # group of three or four digits (and more groups). A lone year like 1990 holds no trigger.
    "CreditCardRecognizer": RunSpec(member=r"\d \-", trigger=r"[13-6]\d{3}[- ]?\d{3}", fast_trigger=_CC_FAST),
}

# sha256 of the patterns (name, regex, score) each wrapped recognizer had when the arguments above were made
# (presidio-analyzer 2.2.366). A recognizer with other patterns is not wrapped. Flags are not part of it: the
# windows are compiled with the recognizer's own flags.
EXPECTED_PATTERNS: dict[str, str] = {
    "EmailRecognizer": "b316759864d6f5d8647337282801107beeae0e5755da63a1fa618297750e9bf8",
    "IpRecognizer": "deddeb67ceb5543b7615a5f05382a98cb02a46787e1569b7eb1dffc4def0e821",
    "IbanRecognizer": "2d383d2362d69b27ca61b049f28895d9880bd8d3d8250f454a929b43ebf61e77",
    "UsSsnRecognizer": "af994ed03a2fe08c0593807dc87c8205893c08a7ee5cda89e2bb6b9392f524dd",
    "CreditCardRecognizer": "0e82f6a47c2394e47ffd064316e4c256d9bcbaaf4f25a74d6565a7d787f244d0",
}


def patterns_fingerprint(recognizer) -> str:
    """A digest of a pattern recognizer's pattern names, regexes and scores."""
    parts = [f"{p.name}\x00{p.regex}\x00{p.score}" for p in recognizer.patterns]
    return hashlib.sha256("\x01".join(parts).encode()).hexdigest()


class RunWindows:
    """Finds the runs of member characters that contain a trigger, each with its window around it."""

    def __init__(self, spec: RunSpec, flags: int):
        self.trigger, self.outside, self.outside_before = spec.compile(flags)

    def __call__(self, text: str) -> Iterator[tuple[int, int, int, int]]:
        """Yield ``(window_start, window_end, run_start, run_end)`` for every run holding a trigger."""
        n = len(text)
        search = self.trigger.search
        pos = 0
        while pos < n:
            m = search(text, pos)
            if m is None:
                return
            before = self.outside_before.search(text, 0, m.start())
            run_start = before.end() if before else 0
            after = self.outside.search(text, m.end())
            run_end = after.start() if after else n
            yield max(0, run_start - MARGIN), min(n, run_end + MARGIN), run_start, run_end
            pos = max(run_end, m.start() + 1)


def _phone_pattern_items():
    """The parsed items of libphonenumber's candidate regex, or None where it uses a construct we cannot bound."""
    try:
        from re import _parser as sre_parse  # Python >= 3.11
    except ImportError:  # pragma: no cover - Python 3.10
        import sre_parse  # type: ignore[no-redef]
    from phonenumbers import phonenumbermatcher

    pattern = phonenumbermatcher._PATTERN
    literals: set[int] = set()
    ranges: list[tuple[int, int]] = []
    ok = True

    def walk(items) -> None:
        nonlocal ok
        for op, av in items:
            name = str(op)
            if name == "LITERAL":
                literals.add(av)
            elif name == "IN":
                for op2, av2 in av:
                    name2 = str(op2)
                    if name2 == "LITERAL":
                        literals.add(av2)
                    elif name2 == "RANGE":
                        ranges.append(av2)
                    elif not (name2 == "CATEGORY" and str(av2) == "CATEGORY_DIGIT"):
                        ok = False  # a negated set or a category other than \d
            elif name in ("MAX_REPEAT", "MIN_REPEAT"):
                walk(av[2])
            elif name == "SUBPATTERN":
                walk(av[3])
            elif name == "BRANCH":
                for branch in av[1]:
                    walk(branch)
            else:
                ok = False  # '.', look-arounds, anchors, back-references: not part of the argument

    walk(sre_parse.parse(pattern.pattern, pattern.flags))
    return (pattern, literals, ranges) if ok else None


# sha256 of phonenumbers' ``PhoneNumberMatcher._PATTERN`` (phonenumbers 9.0.x) that the cut rules below were
# checked against; with another pattern the phone recognizer is not wrapped.
EXPECTED_PHONE_PATTERN = "f5af5fee4448fcd045acfd4d2a9ccfe4ecc4cf8e842f4f14b3d6210bfa913fbb"


class PhoneWindows:
    """Windows of text that can hold a phone number, for libphonenumber's ``PhoneNumberMatcher``.

    The text is cut at characters that no candidate of the matcher's ``_PATTERN`` can contain:

    * *blockers*: ASCII characters that are not digits and match no literal or range of the pattern (compared
      with the pattern's own flags). Non-ASCII characters are never blockers (conservative).
    * ``:`` right after a digit: in ``_PATTERN`` a colon only follows an extension keyword (``ext:``, ``x:``,
      ``#:``), never a digit. This splits times (``20:30:47``).
    * ``,`` with a digit before it (skipping spaces, tabs, commas and hyphens) and a digit after it (skipping
      spaces, tabs and commas): a comma only occurs in the runs ``[ \t,]*`` before an extension keyword and
      ``[ \t,-]*`` after one. This splits lists and dates (``May 30, 2005``).
    * five or more spaces or tabs between two digits, unless the digits after them are an extension
      ``[- ]+(\\d{1,6})#``: digit groups are at most four punctuation characters apart, and the other unbounded
      runs of an extension (``[ \\t,]*``) follow or precede a keyword, not a digit. This splits table columns.
    * an ASCII word with no letter (ASCII or not) right before or after it that is not an extension keyword
      (``ext``, ``xtn``, ``extension``, ``extensin``, ``anexo``, ``int``, ``x``, in any case) or one to four ``x``:
      the only letters a candidate holds are those keywords' and ``x``, a punctuation character of ``_PATTERN``
      (up to four between digit groups: ``0xx11``, ``0 XX 11``, the carrier-code placeholder of Brazilian pages).
      This splits ``1990 to 2005``, ``43 in 2000``, ``at 05``.
      Words touching a non-ASCII character are left alone (``ı`` and ``ó`` can be part of a keyword).

    Each piece between cuts that holds a digit is a *core*, trimmed to its first possible candidate start (a
    digit, ``(``, ``[``, ``+`` or their full-width forms) and last possible candidate end (a digit or ``#``).
    The window is the core plus one character before it and three after it: all the matcher reads around a
    candidate (the previous and next character, and ``:[0-5]\\d`` after it for the time-stamp check).
    Candidates in the right margin belong to the next core; the caller drops matches outside the core.
    """

    def __init__(self) -> None:
        items = _phone_pattern_items()
        pattern_digest = ""
        if items is not None:
            pattern_digest = hashlib.sha256(items[0].pattern.encode()).hexdigest()
        self.ok = items is not None and pattern_digest == EXPECTED_PHONE_PATTERN
        if not self.ok:
            logger.warning("phonenumbers' candidate pattern is not the one the phone windows were checked against")
            return
        pattern, literals, ranges = items
        import re as std_re

        members = std_re.compile(
            "["
            + "".join(std_re.escape(chr(c)) for c in sorted(literals))
            + "".join(f"{std_re.escape(chr(a))}-{std_re.escape(chr(b))}" for a, b in ranges)
            + "]",
            pattern.flags,
        )
        blockers = [chr(c) for c in range(128) if not chr(c).isdigit() and not members.fullmatch(chr(c))]
        self.blockers = frozenset(blockers)
        cut = (
            "["
            + "".join(regex.escape(c) for c in blockers)
            + "]"
            + r"|(?<=\d):"
            + r"|(?<=\d[ \xa0\t,\-]*),(?=[ \xa0\t,]*\d)"
            + r"|(?<=\d)[ \xa0\t]{5,}(?=\d)(?!\d{1,6}#)"
            + r"|(?<![A-Za-z\x80-\U0010ffff])(?!(?i:e?xt(?:ensio?)?n?|anexo|int|x{1,4})(?![A-Za-z\x80-\U0010ffff]))"
            + r"[A-Za-z]+(?![A-Za-z\x80-\U0010ffff])"
        )
        self.cut = regex.compile(cut)
        self.cut_before = regex.compile("(?r)" + cut)
        self.digit = regex.compile(r"\d")  # Unicode digits, as the pattern's \d under re.UNICODE
        self.start_char = regex.compile(r"[\d(\[\uff08\uff3b+\uff0b]")
        self.end_char_before = regex.compile(r"(?r)[\d#]")

    def __call__(self, text: str) -> Iterator[tuple[int, int, int, int]]:
        """Yield ``(window_start, window_end, core_start, core_end)`` for every core, left to right."""
        for start, end in self.pieces(text):
            yield self.window(text, start, end)

    def pieces(self, text: str) -> Iterator[tuple[int, int]]:
        """Yield ``(start, end)`` of every piece between cuts that holds a digit, left to right.

        Each piece holds one core (``window``), no longer than the piece: the caller can tell most pieces too
        short to hold a number without trimming them.
        """
        n = len(text)
        pos = 0
        digit, cut_before, cut = self.digit.search, self.cut_before.search, self.cut.search
        while pos < n:
            d = digit(text, pos)
            if d is None:
                return
            before = cut_before(text, pos, d.end())  # up to the digit, so look-aheads can see it
            start = before.end() if before else pos
            after = cut(text, d.end())
            end = after.start() if after else n
            yield start, end
            pos = max(end, d.end())

    def window(self, text: str, start: int, end: int) -> tuple[int, int, int, int]:
        """``(window_start, window_end, core_start, core_end)`` of the piece ``text[start:end]``.

        The core is the piece trimmed to its first possible candidate start and last possible candidate end
        (the piece's digit is both). The window reaches one character before the core and three past it when
        the core is followed by ``:`` (the time-stamp check reads ``:[0-5]\\d``), else one.
        """
        n = len(text)
        first = self.start_char.search(text, start, end).start()
        last = self.end_char_before.search(text, start, end).end()
        right = 3 if last < n and text[last] == ":" else 1
        return max(0, first - 1), min(n, last + right), first, last

    @staticmethod
    def cache_key(text: str, window_start: int, window_end: int, core_start: int, core_end: int) -> tuple[str, int]:
        """The window with its margins replaced by canonical characters that the matcher treats the same way.

        The matcher reads the character before a candidate and the one after it only through "is it a Latin
        letter, ``%`` or a currency symbol" (``b`` stands for yes, ``!`` for no; neither can be part of a
        candidate), and the two after a ``:`` only through ``:[0-5]\\d`` (``0``, ``9`` or ``!``). Candidates never
        reach into the margins, so results for the core are the same, and windows that differ only in their
        neighbours share a cache entry. Returns the key and the core's offset in it.
        """
        context = context_char
        left = context(text[window_start]) if window_start < core_start else ""
        right = ""
        if core_end < window_end:
            if text[core_end] == ":":
                right = ":" + "".join(
                    "0" if c in "012345" else "9" if _STD_DIGIT.match(c) else "!"
                    for c in text[core_end + 1 : window_end]
                )
            else:
                right = context(text[core_end])
        return left + text[core_start:core_end] + right, len(left)


_STD_DIGIT = std_re.compile(r"\d")
_CONTEXT: dict[str, str] = {}


def context_char(c: str) -> str:
    """``b`` where the matcher refuses a neighbouring character (Latin letter, ``%``, currency sign), else ``!``."""
    canonical = _CONTEXT.get(c)
    if canonical is None:
        from phonenumbers.phonenumbermatcher import PhoneNumberMatcher

        flagged = PhoneNumberMatcher._is_invalid_punctuation_symbol(c) or PhoneNumberMatcher._is_latin_letter(c)
        canonical = "b" if flagged else "!"
        if len(_CONTEXT) < 100_000:
            _CONTEXT[c] = canonical
    return canonical


class LruCache:
    """A small least-recently-used dictionary (windows repeat a lot: years, prices, counts). Picklable."""

    def __init__(self, size: int = 100_000):
        self.size = size
        self.entries: OrderedDict = OrderedDict()

    def __len__(self) -> int:
        return len(self.entries)

    def get_or(self, key, compute: Callable):
        entries = self.entries
        value = entries.get(key)
        if value is None:
            value = compute(key)
            entries[key] = value
            if len(entries) > self.size:
                entries.popitem(last=False)
        else:
            entries.move_to_end(key)
        return value

    def get(self, key):
        """The value stored for ``key`` (now the most recently used), or None."""
        value = self.entries.get(key)
        if value is not None:
            self.entries.move_to_end(key)
        return value

    def put(self, key, value):
        """Store ``value`` (not None) for ``key`` and return it."""
        self.entries[key] = value
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return value


@dataclass(frozen=True)
class PhoneBounds:
    """Which regions' matchers can find a valid number in a core at all, from libphonenumber's metadata.

    At Presidio's leniency (VALID) a match must pass ``is_valid_number``: its national significant number (NSN)
    must have one of the ``possible_length`` values of a region of its calling code, and fully match that
    region's general ``national_number_pattern``. Every NSN digit comes from a digit of the candidate or (in a
    vanity number, when the candidate holds three ASCII letters) a letter, apart from the digits a region's
    ``national_prefix_transform_rule`` inserts (``"0549\\1"`` for San Marino inserts four). Hence, for the
    matcher of default region ``d``:

    * national format: at least ``national[d]`` letters-or-digits (the shortest NSN of any region sharing
      ``d``'s calling code, minus what ``d``'s transform rule inserts); and, when ``d`` has no transform rule and
      the core has only ASCII digits, fewer than three ASCII letters and at most 12 digit runs of at most 20
      digits (at most 9 if an extension mark ``x``, ``#``, ``~`` or ``int`` is present: extension digits are
      capped at 9), every string the matcher parses is a sequence of whole digit runs of the core (candidates
      and their inner groups start and end at non-digits); parse() strips at most a national prefix (a match of
      ``national_prefix_for_parsing``) or the calling code and up to two national prefixes from its front, and
      an extension from its back. So ``national_pattern[d]`` (the general patterns of ``d``'s calling code) must
      fully match such a stretch less one of ``prefix_lengths[d]`` leading digits;
    * with ``+``: at least ``plus`` (calling-code digits plus the shortest NSN, minimised over all codes);
    * with ``d``'s international dialling prefix (``00``, ``011``, ...): at least ``idd[d]``, and (when the core
      is checkable as above) the prefix must match at the start of a digit run, followed by a digit other than 0.

    A region none of whose conditions holds is not run on the core. ``tests/test_pii_parity.py`` checks the
    result against the unwrapped recognizer on real text and on brute-forced short digit strings.
    """

    national: dict[str, float]
    idd: dict[str, float]
    plus: int
    national_pattern: dict[str, std_re.Pattern | None]
    idd_pattern: dict[str, std_re.Pattern | None]
    prefix_lengths: dict[str, tuple[int, ...] | None]
    shapes: dict[str, list | None]
    prefix_checks: dict[str, tuple | None]

    @cached_property
    def least_weight(self) -> float:
        """Below this weight no region runs (``regions_to_run``); a core's weight is at most its length."""
        return min(self.plus, *self.national.values(), *self.idd.values())

    @cached_property
    def nsn_lengths(self) -> dict[str, frozenset | None]:
        """Per region, the lengths an NSN passing ``_valid_shape`` can have (None: any length).

        ``_valid_shape`` asks some region of the calling code for its general description's possible lengths;
        where one of them lists none, any length may pass.
        """
        found: dict[str, frozenset | None] = {}
        for region, shapes in self.shapes.items():
            entries = [shape for shape in shapes or () if not isinstance(shape, std_re.Pattern)]
            if shapes is None or any(not general[0] for general, _ in entries):
                found[region] = None
            else:
                found[region] = frozenset().union(*(general[0] for general, _ in entries))
        return found

    @cached_property
    def twins(self) -> dict[str, str]:
        """Per region, the first region with the same national and international checks (US and CA share all)."""
        seen: list[tuple[tuple, str]] = []  # shapes hold lists: compared by value, not hashed
        twins = {}
        for region in self.national:
            key = (
                self.national[region],
                self.idd[region],
                self.national_pattern[region],
                self.idd_pattern[region],
                self.prefix_lengths[region],
                self.shapes[region],
                self.prefix_checks[region],
            )
            twins[region] = next((twin for other, twin in seen if other == key), region)
            if twins[region] == region:
                seen.append((key, region))
        return twins

    @classmethod
    def for_regions(cls, regions) -> PhoneBounds:
        try:
            from re import _parser as sre_parse
        except ImportError:  # pragma: no cover - Python 3.10
            import sre_parse  # type: ignore[no-redef]
        from phonenumbers import PhoneMetadata
        from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE, region_code_for_country_code

        def metadata(cc: int, region: str):
            if region == "001":
                return PhoneMetadata.metadata_for_nongeo_region(cc)
            return PhoneMetadata.metadata_for_region(region)

        def shortest_nsn(cc: int) -> int:
            lengths = []
            for region in COUNTRY_CODE_TO_REGION_CODE.get(cc, ()):
                md = metadata(cc, region)
                if md is not None and md.general_desc is not None and md.general_desc.possible_length:
                    lengths.extend(x for x in md.general_desc.possible_length if x > 0)
            return min(lengths) if lengths else 1

        def general_patterns(cc: int) -> std_re.Pattern | None:
            patterns = []
            for region in COUNTRY_CODE_TO_REGION_CODE.get(cc, ()):
                md = metadata(cc, region)
                pattern = md.general_desc.national_number_pattern if md and md.general_desc else None
                if not pattern:
                    return None  # a region without a pattern: no check
                patterns.append(f"(?:{pattern})")
            return std_re.compile("|".join(patterns)) if patterns else None

        def desc_shape(desc) -> tuple[frozenset, std_re.Pattern] | None:
            if desc is None or not desc.national_number_pattern:
                return None
            lengths = frozenset(x for x in (desc.possible_length or ()) if x > 0)
            return lengths, std_re.compile(desc.national_number_pattern)

        def number_shapes(cc: int) -> list | None:
            """Per region of the calling code: its general description and its number types' descriptions."""
            found = []
            for region in COUNTRY_CODE_TO_REGION_CODE.get(cc, ()):
                md = metadata(cc, region)
                general = desc_shape(md.general_desc) if md is not None else None
                if general is None:
                    return None
                kinds = [desc_shape(getattr(md, kind, None)) for kind in NUMBER_TYPES]
                found.append((general, [k for k in kinds if k is not None]))
            every_type = [k[1].pattern for _, kinds in found for k in kinds]
            if every_type:  # last entry: one regex for "some type of some region", a quick first test
                found.append(std_re.compile("|".join(f"(?:{p})" for p in every_type)))
            return found

        def inserted(md) -> int:
            rule = md.national_prefix_transform_rule if md is not None else None
            return len(std_re.sub(r"\\\d|\$\d", "", rule)) if rule else 0

        plus = min(
            len(str(cc)) + shortest_nsn(cc) - inserted(metadata(cc, region_code_for_country_code(cc)))
            for cc in COUNTRY_CODE_TO_REGION_CODE
        )
        national: dict[str, float] = {}
        idd: dict[str, float] = {}
        national_pattern: dict[str, std_re.Pattern | None] = {}
        idd_pattern: dict[str, std_re.Pattern | None] = {}
        prefix_lengths: dict[str, tuple[int, ...] | None] = {}
        shapes: dict[str, list | None] = {}
        prefix_checks: dict[str, tuple | None] = {}
        for region in regions:
            md = PhoneMetadata.metadata_for_region(region)
            if md is None:
                national[region] = idd[region] = float("inf")  # parse() refuses numbers without '+' here
                national_pattern[region] = idd_pattern[region] = prefix_lengths[region] = shapes[region] = None
                prefix_checks[region] = None
                continue
            national[region] = shortest_nsn(md.country_code) - inserted(md)
            rule = md.national_prefix_transform_rule
            suffix_only = bool(rule) and _keeps_trailing_group(md.national_prefix_for_parsing, rule)
            national_pattern[region] = general_patterns(md.country_code) if (not rule or suffix_only) else None
            shapes[region] = number_shapes(md.country_code)
            prefix = md.international_prefix
            idd[region] = (sre_parse.parse(prefix).getwidth()[0] + plus) if prefix else float("inf")
            idd_pattern[region] = std_re.compile(prefix) if prefix else None
            # What parse() strips in front of a national-format NSN: nothing, a national prefix (a match of
            # national_prefix_for_parsing), or the region's calling code followed by either.
            strip = md.national_prefix_for_parsing or md.national_prefix
            low, high = sre_parse.parse(strip).getwidth() if strip else (0, 0)
            if suffix_only:
                prefix_lengths[region] = ()  # any prefix: the NSN is checked as a suffix of its possible lengths
            elif high > 6:
                prefix_lengths[region] = None  # too many possibilities: no check
            else:
                national_prefixes = {0, *range(low, high + 1)}
                code = len(str(md.country_code))
                # With the calling code written without '+', the national prefix can be stripped twice: once by
                # _maybe_extract_country_code, once more by parse() (4900948022576220 in DE is 49 0 0 948022576220).
                prefix_lengths[region] = tuple(
                    sorted(national_prefixes | {code + a + b for a in national_prefixes for b in national_prefixes})
                )
            main = PhoneMetadata.metadata_for_region(region_code_for_country_code(md.country_code))
            patterns = [
                p for p in {md.national_prefix_for_parsing, getattr(main, "national_prefix_for_parsing", None)} if p
            ]
            prefix_checks[region] = (
                (tuple(std_re.compile(p) for p in patterns), str(md.country_code), main) if main is not None else None
            )
        return cls(
            national=national,
            idd=idd,
            plus=max(plus, 0),
            national_pattern=national_pattern,
            idd_pattern=idd_pattern,
            prefix_lengths=prefix_lengths,
            shapes=shapes,
            prefix_checks=prefix_checks,
        )

    @staticmethod
    def _weight(text: str) -> tuple[int, int]:
        """``text``'s weight (digits, and letters too with three ASCII letters: a vanity number) and ASCII letters."""
        weight = sum(map(str.isdigit, text))
        if text.isascii():
            ascii_letters = sum(map(str.isalpha, text))
        else:
            ascii_letters = sum(1 for c in text if c.isascii() and c.isalpha())
        if ascii_letters >= 3:
            weight += sum(map(str.isalpha, text))
        return weight, ascii_letters

    def too_light(self, region: str, text: str) -> bool:
        """Whether ``text`` itself cannot parse as a valid number of ``region``: its weight is under the region's
        national and international bounds, and under ``plus`` or without a plus sign (see the class docstring)."""
        if len(text) < self.least_weight:
            return True
        weight = self._weight(text)[0]
        if weight >= self.national[region] or weight >= self.idd[region]:
            return False
        return not (weight >= self.plus and ("+" in text or "\uff0b" in text))

    def regions_to_run(self, regions, core: str) -> list[str]:
        """The regions whose matcher may find a valid number inside ``core``."""
        weight, ascii_letters = self._weight(core)
        has_plus = "+" in core or "\uff0b" in core
        if has_plus and weight >= self.plus:
            return list(regions)
        matches = list(_DIGIT_RUN.finditer(core))
        runs = [m.group() for m in matches]
        digits = "".join(runs)
        # linked[k]: runs k and k+1 can be in one candidate's digit part (at most four punctuation characters)
        linked = [
            _PUNCTUATION_GAP.fullmatch(core, matches[k].end(), matches[k + 1].start()) is not None
            for k in range(len(matches) - 1)
        ]
        # Without vanity letters, non-ASCII digits or runs longer than _PATTERN's 20-digit blocks, every string the
        # matcher parses is a sequence of whole digit runs of the core. An extension after 'x', '#', '~' or 'int'
        # takes at most 9 digits, so with one of those, a run of 10 or more digits can be cut: not checkable.
        checkable = (
            ascii_letters < 3
            and digits.isascii()
            and len(runs) <= 12
            and all(len(r) <= 20 for r in runs)
            and (all(len(r) <= 9 for r in runs) or not _EXTENSION_MARK.search(core))
        )
        starts, ends = [], []
        position = 0
        for digit_run in runs:
            starts.append(position)
            position += len(digit_run)
            ends.append(position)
        run = []
        twins = self.twins
        decided: dict[str, bool] = {}  # per twin: regions with the same checks get the same answer
        for r in regions:
            twin = twins.get(r, r)
            if twin in decided:
                if decided[twin]:
                    run.append(r)
                continue
            if weight >= self.national[r] and (
                not checkable or self._national_possible(r, digits, starts, ends, linked)
            ):
                decided[twin] = True
            else:
                decided[twin] = weight >= self.idd[r] and (not checkable or self._idd_possible(r, digits, starts))
            if decided[twin]:
                run.append(r)
        return run

    def _idd_possible(self, region: str, digits: str, starts: list[int]) -> bool:
        """Whether the region's international prefix can open a parsed string (at a run start).

        ``_parse_prefix_as_idd`` only takes the prefix when a digit other than 0 follows it (no calling code starts
        with 0).
        """
        pattern = self.idd_pattern[region]
        if pattern is None:
            return True
        for start in starts:
            m = pattern.match(digits, start)
            if m is not None and m.end() < len(digits) and digits[m.end()] != "0":
                return True
        return False

    def _national_possible(
        self, region: str, digits: str, starts: list[int], ends: list[int], linked: list[bool]
    ) -> bool:
        """Whether some whole-run stretch, less an allowed prefix, can be a valid NSN of the calling code.

        Valid means what ``_number_type_helper`` asks of a region: the general description and at least one
        number type's description (possible lengths and pattern) both match.
        """
        pattern, lengths, shapes = self.national_pattern[region], self.prefix_lengths[region], self.shapes[region]
        if pattern is None or lengths is None:
            return True
        nsn_lengths = self.nsn_lengths.get(region)  # a stretch of another length fails _valid_shape: skipped
        if lengths == ():
            # The transform keeps the digits after the stripped prefix: the NSN is a suffix of some stretch, so
            # any start before a run end will do.
            first = 0  # first run of the current group of linked runs
            for j, end in enumerate(ends):
                if j and not linked[j - 1]:
                    first = j
                for start in range(max(starts[first], end - 17), end):  # the longest NSN has 17 digits
                    if nsn_lengths is not None and end - start not in nsn_lengths:
                        continue
                    if pattern.fullmatch(digits, start, end):
                        if shapes is None or _valid_shape(shapes, digits[start:end]):
                            return True
            return False
        checks = self.prefix_checks[region]
        for i, start in enumerate(starts):
            allowed = self._allowed_prefixes(checks, lengths, digits, start)  # mostly just 0
            for j in range(i, len(ends)):
                if j > i and not linked[j - 1]:
                    break
                end = ends[j]
                for length in allowed:
                    if start + length >= end or (nsn_lengths is not None and end - start - length not in nsn_lengths):
                        continue
                    if not pattern.fullmatch(digits, start + length, end):
                        continue
                    nsn = digits[start + length : end]
                    if shapes is not None and not _valid_shape(shapes, nsn):
                        continue
                    if length or self._prefix_possible(region, digits, start, 0, nsn):
                        return True
        return False

    @staticmethod
    def _allowed_prefixes(checks, lengths: tuple[int, ...], digits: str, start: int) -> Sequence[int]:
        """The prefix lengths parse() can strip at ``start``: every one of ``lengths`` without checks; else only
        prefixes actually written there, a national prefix exactly as national_prefix_for_parsing matches it, or
        the calling code (then up to two national prefixes, any of the lengths)."""
        if checks is None:
            return lengths
        prefixes, code, _ = checks
        if digits.startswith(code, start):
            ends_here = {m.end() - start for m in (p.match(digits, start) for p in prefixes) if m is not None}
            return [n for n in lengths if n == 0 or n in ends_here or n >= len(code)]
        allowed = [0] if 0 in lengths else []
        for prefix in prefixes:
            m = prefix.match(digits, start)
            if m is not None and m.end() > start and m.end() - start in lengths and m.end() - start not in allowed:
                allowed.append(m.end() - start)
        return allowed

    def _prefix_possible(self, region: str, digits: str, start: int, length: int, nsn: str) -> bool:
        """Whether parse() can strip exactly ``length`` digits in front of ``nsn`` and the match still verify.

        A national prefix is stripped only where ``national_prefix_for_parsing`` matches, by exactly its match;
        a calling code only where its digits are written. With nothing stripped, the matcher's
        ``_is_national_prefix_present_if_required`` refuses the number when the formatting rule chosen for the
        NSN requires a national prefix that the written digits do not start with (``1998`` is no German number
        written without its leading 0).
        """
        checks = self.prefix_checks[region]
        if checks is None:
            return True
        prefixes, code, main = checks
        matches = [m for m in (p.match(digits, start) for p in prefixes) if m is not None]
        if length == 0:
            return bool(matches) or not _prefix_required(main, nsn)
        if any(m.end() - start == length for m in matches):
            return True
        return digits.startswith(code, start)


_DIGIT_RUN = std_re.compile(r"\d+")
# What separates two digit blocks of one candidate: _PATTERN's _PUNCTUATION, with its flags.
_PUNCTUATION_GAP = std_re.compile("[" + _VALID_PUNCTUATION + "]{0,4}", std_re.IGNORECASE | std_re.UNICODE)
_EXTENSION_MARK = std_re.compile(r"[#~xX\u0080-\U0010ffff]|(?i:int)")  # non-ASCII: full-width marks, case folds
# The number types _number_type_helper tries (any one of them makes a number valid).
NUMBER_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


def _keeps_trailing_group(prefix_pattern: str | None, rule: str) -> bool:
    """Whether a transform rule is one back-reference to a group that ends the national-prefix pattern.

    Then the transformed number is that group followed by the rest of the number: a suffix of the digits (for
    Brazil, ``(?:0|90)(?:(carrier)(\\d{10,11}))?`` with rule ``\\2`` drops the prefix and the carrier code).
    """
    m = std_re.fullmatch(r"\\(\d)|\$(\d)", rule)
    if not m or not prefix_pattern:
        return False
    group = int(m.group(1) or m.group(2))
    try:
        from re import _parser as sre_parse
    except ImportError:  # pragma: no cover - Python 3.10
        import sre_parse  # type: ignore[no-redef]
    items = list(sre_parse.parse(prefix_pattern))
    while items:
        op, av = items[-1]
        name = str(op)
        if name == "SUBPATTERN":
            if av[0] == group:
                return True
            if av[0] is not None:
                return False
            items = list(av[3])
        elif name in ("MAX_REPEAT", "MIN_REPEAT") and av[0] == 0 and av[1] == 1:
            items = list(av[2])
        else:
            return False
    return False


def _prefix_required(metadata, nsn: str) -> bool:
    """Whether libphonenumber requires a written national prefix for ``nsn`` (see the matcher's VALID check)."""
    from phonenumbers.phonenumberutil import (
        _choose_formatting_pattern_for_number,
        _formatting_rule_has_first_group_only,
    )

    rule = _choose_formatting_pattern_for_number(metadata.number_format, nsn)
    if rule is None or not rule.national_prefix_formatting_rule:
        return False
    if rule.national_prefix_optional_when_formatting:
        return False
    return not _formatting_rule_has_first_group_only(rule.national_prefix_formatting_rule)


def _desc_matches(shape: tuple[frozenset, std_re.Pattern], nsn: str) -> bool:
    lengths, pattern = shape
    return (not lengths or len(nsn) in lengths) and pattern.fullmatch(nsn) is not None


def _valid_shape(shapes: list, nsn: str) -> bool:
    """Whether ``nsn`` matches some region's general description and one of its number types."""
    any_type = shapes[-1] if shapes and isinstance(shapes[-1], std_re.Pattern) else None
    if any_type is not None and any_type.fullmatch(nsn) is None:
        return False  # no number type of any region of the calling code has this form
    return any(
        _desc_matches(general, nsn) and any(_desc_matches(k, nsn) for k in kinds)
        for general, kinds in (shape for shape in shapes if not isinstance(shape, std_re.Pattern))
    )
