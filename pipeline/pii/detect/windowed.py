"""Presidio recognizers that look only at the windows of a text that can hold a match (see ``windows.py``).

``wrap_recognizer`` returns a recognizer with the wrapped one's name, id, entities, context and thresholds, so
Presidio's ``AnalyzerEngine`` treats it as the original: context enhancement, score thresholds, de-duplication and
allow-lists all still run in Presidio, on the whole text. Only where the recognizer's regexes run changes.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import logging
import re
from collections.abc import Iterator

from phonenumbers import Leniency, PhoneNumberMatch, PhoneNumberMatcher, phonenumbermatcher
from presidio_analyzer import EntityRecognizer, LocalRecognizer, PatternRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

from pipeline.pii.detect.windows import (
    EXPECTED_PATTERNS,
    RUN_SPECS,
    LruCache,
    PhoneBounds,
    PhoneWindows,
    RunWindows,
    context_char,
    patterns_fingerprint,
)

logger = logging.getLogger(__name__)

MAX_TRIES = 65535  # PhoneNumberMatcher's default budget of failed candidates per text
CACHED_WINDOW_CHARS = 256  # longer windows are rare and would make big cache keys


class _Windowed(LocalRecognizer):
    """Common part: copy the wrapped recognizer's identity so Presidio cannot tell the two apart."""

    def __init__(self, inner: EntityRecognizer):
        self.inner = inner
        super().__init__(
            supported_entities=list(inner.supported_entities),
            name=inner.name,
            supported_language=inner.supported_language,
            version=inner.version,
            context=list(inner.context or []),
            score_thresholds=inner.score_thresholds or None,
        )
        self._id = inner.id  # results carry the inner recognizer's id; thresholds and context look it up
        self._last: tuple[str, list] | None = None
        self._held: tuple[str, list[str], list[RecognizerResult]] | None = None

    def load(self) -> None:  # noqa: D102 - nothing to load: the inner recognizer is loaded
        pass

    def enhance_using_context(
        self, text, raw_recognizer_results, other_raw_recognizer_results, nlp_artifacts, context=None
    ):  # noqa: D102
        return self.inner.enhance_using_context(
            text, raw_recognizer_results, other_raw_recognizer_results, nlp_artifacts, context
        )

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        """The wrapped recognizer's results on ``text``: the held ones if ``first_pass`` just ran on this text."""
        held, self._held = self._held, None
        if held is not None and held[0] is text and held[1] == entities:
            return held[2]
        return self._analyze(text, entities)

    def first_pass(self, text: str, entities: list[str]) -> bool:
        """Whether the recognizer finds anything in ``text``; the results are held for the next ``analyze``.

        ``FastAnalyzer`` asks every recognizer before it calls Presidio's engine (most texts hold nothing, and
        then the engine is not called). The engine then asks again for the same text; handing it the results
        of the first pass (once, and only for the same text object and entities) saves computing them twice.
        Nothing else sees those results, so the engine may change them as it does its own.
        """
        results = self._analyze(text, entities)
        self._held = (text, entities, results)
        return bool(results)

    def _analyze(self, text: str, entities: list[str]) -> list[RecognizerResult]:
        raise NotImplementedError

    def windows(self, text: str) -> list:
        """The windows of ``text`` (remembered for the last text)."""
        if self._last is not None and self._last[0] is text:
            return self._last[1]
        found = list(self._find(text))
        self._last = (text, found)
        return found

    def _find(self, text: str) -> Iterator:
        raise NotImplementedError


class WindowedPatternRecognizer(_Windowed):
    """A Presidio pattern recognizer run on the runs of ``RunSpec`` characters that hold a trigger.

    A window's results depend on the window's characters only, so they are cached by window text (most windows,
    like ``3.5`` or ``10:30`` for the IP recognizer, recur and hold nothing).
    """

    def __init__(self, inner: PatternRecognizer, finder: RunWindows, cache_size: int = 100_000):
        super().__init__(inner)
        self._find = finder
        self.cache = LruCache(cache_size)

    def _window_results(self, key: tuple[str, int, int]) -> tuple:
        window, run_start, run_end = key
        kept = [
            r
            for r in self.inner.analyze(window, self.supported_entities, None)
            if run_start <= r.start and r.end <= run_end
        ]
        return tuple(kept)

    def _analyze(self, text: str, entities: list[str]) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        for window_start, window_end, run_start, run_end in self.windows(text):
            key = (text[window_start:window_end], run_start - window_start, run_end - window_start)
            if window_end - window_start <= CACHED_WINDOW_CHARS:
                found = self.cache.get_or(key, self._window_results)
            else:
                found = self._window_results(key)
            results += [_shifted_copy(cached, window_start) for cached in found]
        return results


def _shifted_copy(result: RecognizerResult, shift: int) -> RecognizerResult:
    """A copy of a cached result, moved by ``shift``, that Presidio can change without touching the cache.

    What ``copy.deepcopy`` would give, at a fraction of its cost: a result's attributes and those of its
    explanation are strings, numbers and None, and its metadata a flat dictionary of them; Presidio's context
    enhancement only reassigns attributes and metadata keys.
    """
    copied = copy.copy(result)
    copied.start += shift
    copied.end += shift
    if result.analysis_explanation is not None:
        copied.analysis_explanation = copy.copy(result.analysis_explanation)
    if result.recognition_metadata is not None:
        copied.recognition_metadata = dict(result.recognition_metadata)
    return copied


class WindowedPhoneRecognizer(_Windowed):
    """Presidio's ``PhoneRecognizer``, with libphonenumber's matcher run per window and results cached by window.

    Same loop as ``PhoneRecognizer.analyze`` (one ``PhoneNumberMatcher`` per region, a result per match, then
    ``remove_duplicates``). A window's result depends on the window's characters only, so results are cached by
    window text. The failed tries each window used are summed per region; a text that could exhaust the matcher's
    budget on the whole text is handed to the original recognizer instead.
    """

    def __init__(
        self, inner: PhoneRecognizer, finder: PhoneWindows, cache_size: int = 200_000, memo_size: int = 50_000
    ):
        super().__init__(inner)
        self._find = finder
        self.cache = LruCache(cache_size)
        self.bounds = PhoneBounds.for_regions(inner.supported_regions)
        self.fallbacks = 0  # texts handed to the original recognizer (too many tries to prove the windows exact)
        # Per region: candidate and its neighbours -> _parse_and_verify's number (the benchmark's 13 M characters
        # leave about 11,000 entries over all regions; the bound keeps a long task's memory in check).
        self.memos: dict[str, LruCache] = {}
        self.memo_size = memo_size

    def _memo(self, region: str) -> LruCache:
        memo = self.memos.get(region)
        if memo is None:
            memo = self.memos[region] = LruCache(self.memo_size)
        return memo

    def _match_window(self, key: tuple[str, int, int]) -> tuple[tuple[tuple[int, int, str], ...], int]:
        """Matches in a window whose core is ``window[core_start:core_end]``, and a bound on the tries spent.

        The regions whose bounds the core cannot reach are not run (no match can lie in the core for them). The
        returned tries are the most any single region may have spent on the window.
        """
        import phonenumbers
        from phonenumbers.phonenumberutil import NumberParseException

        window, core_start, core_end = key
        core = window[core_start:core_end]
        regions = self.inner.supported_regions
        to_run = self.bounds.regions_to_run(regions, core)
        found = []
        most_tries = tries_bound(window) if len(to_run) < len(regions) else 0
        for region in to_run:
            if MEMO_OK:
                matcher = _MemoMatcher(window, region, self.inner.leniency, self._memo(region), self.bounds)
            else:
                matcher = PhoneNumberMatcher(window, region, leniency=self.inner.leniency)
            for match in matcher:
                if match.start < core_start or match.end > core_end:
                    continue  # a candidate of the next core, read here as context
                try:
                    parsed = phonenumbers.parse(window[match.start : match.end])
                    found.append((match.start, match.end, phonenumbers.region_code_for_number(parsed)))
                except NumberParseException:
                    found.append((match.start, match.end, region))
            most_tries = max(most_tries, MAX_TRIES - matcher._max_tries)
        return tuple(found), most_tries

    def _window(self, text: str, window: tuple[int, int, int, int], results: list[RecognizerResult]) -> int:
        """Append the matches in one window to ``results``; return the bound on the tries they cost."""
        window_start, window_end, core_start, core_end = window
        key_window, offset = self._find.cache_key(text, window_start, window_end, core_start, core_end)
        key = (key_window, offset, offset + core_end - core_start)
        if len(key_window) <= CACHED_WINDOW_CHARS:
            found, used = self.cache.get_or(key, self._match_window)
        else:
            found, used = self._match_window(key)
        shift = core_start - offset
        for start, end, region in found:
            result = RecognizerResult(
                entity_type=self.supported_entities[0],
                start=start + shift,
                end=end + shift,
                score=self.inner.SCORE,
                analysis_explanation=self.inner._get_analysis_explanation(region),
                recognition_metadata={
                    RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                },
            )
            results.append(result)
        return used

    def _analyze(self, text: str, entities: list[str]) -> list[RecognizerResult]:
        """Windows whose core is shorter than ``bounds.least_weight`` are not looked at: no region can run on
        them (``regions_to_run`` would return no region), so they hold no match. Their only effect is on the
        count of tries, which ``tries_bound`` caps at 7 per character (a digit costs at most 7): only when that
        cap could reach the matcher's budget are they looked at, exactly as the other windows.
        """
        results: list[RecognizerResult] = []
        tries = 0
        least = self.bounds.least_weight
        find = self._find
        short: list[tuple[int, int]] = []  # pieces whose core is too short for any region
        short_chars = 0  # their windows' lengths at most: a window adds at most 4 characters to its piece
        for start, end in find.pieces(text):
            if end - start >= least:
                window = find.window(text, start, end)
                if window[3] - window[2] >= least:
                    tries += self._window(text, window, results)
                    continue
            short.append((start, end))
            short_chars += end - start + 4
        if short and tries + 7 * short_chars >= MAX_TRIES - 1:
            for start, end in short:
                tries += self._window(text, find.window(text, start, end), results)
        if tries >= MAX_TRIES - 1:
            # The whole-text matcher might have run out of tries where the windows did not: ask the original.
            self.fallbacks += 1
            return self.inner.analyze(text, entities, None)
        return EntityRecognizer.remove_duplicates(results)


class _MemoMatcher(PhoneNumberMatcher):
    """libphonenumber's matcher with ``_parse_and_verify`` remembered across windows, per region.

    Windows differ, but the candidates and inner groups the matcher parses in them repeat (``2005``, ``0.914``,
    ``+46``). ``_parse_and_verify(candidate, offset)`` reads nothing of the text but the candidate, the region,
    the leniency and (at ``VALID`` and above) whether the character before the candidate (unless the candidate
    starts with ``(`` or ``+``) and the one after it are a Latin letter, ``%`` or a currency sign; that is the
    key (``context_char`` gives the same yes/no). The matcher's loop, and so its count of tries, is unchanged.
    Used only where ``_parse_and_verify`` is the code this was checked against (``MEMO_OK``).

    A candidate too light to be a valid number of the region (``PhoneBounds.too_light``: the weight bounds the
    phone windows rest on, applied to the one string parse() is given) is answered None without parsing.
    """

    def __init__(self, text: str, region: str, leniency: int, memo: LruCache, bounds: PhoneBounds):
        super().__init__(text, region, leniency=leniency)
        self._memo = memo
        self._bounds = bounds

    def _parse_and_verify(self, candidate, offset):
        text = self.text
        before = after = ""
        if self.leniency >= Leniency.VALID:
            if offset > 0 and not phonenumbermatcher._LEAD_PATTERN.match(candidate):
                before = context_char(text[offset - 1])
            end = offset + len(candidate)
            if end < len(text):
                after = context_char(text[end])
        key = (candidate, before, after)
        memo = self._memo
        found = memo.get(key)
        if found is None:
            if self.leniency >= Leniency.VALID and self._bounds.too_light(self.preferred_region, candidate):
                match = None
            else:
                match = super()._parse_and_verify(candidate, offset)
            found = memo.put(key, (match.number if match is not None else None,))
        numobj = found[0]
        return None if numobj is None else PhoneNumberMatch(offset, candidate, numobj)


# sha256 of the source of phonenumbers' PhoneNumberMatcher._parse_and_verify (9.0.x) whose inputs _MemoMatcher's
# key was read from; with other code the plain matcher runs.
EXPECTED_PARSE_AND_VERIFY = "d8adb854f3266ed5ce02e02ced5a5a20daf25cbcbe59a6a4b3856f3c7b7ba4e7"


def _parse_and_verify_digest() -> str:
    try:
        source = inspect.getsource(PhoneNumberMatcher._parse_and_verify)
    except (OSError, TypeError, AttributeError):
        return ""
    return hashlib.sha256(source.encode()).hexdigest()


MEMO_OK = _parse_and_verify_digest() == EXPECTED_PARSE_AND_VERIFY and hasattr(phonenumbermatcher, "_LEAD_PATTERN")

_DIGIT_RUN = re.compile(r"\d+")
_DASHES = re.compile("[\u2012-\u2015\uff0d]")


def tries_bound(window: str) -> int:
    """The most failed tries one region's ``PhoneNumberMatcher`` can spend on ``window`` (for regions not run).

    The matcher spends one try per failed candidate and, in ``_extract_inner_match``, one per failed inner group:
    for each of its six inner patterns, one for the text before the first match and one per match, and a match
    of those patterns starts at a ``/``, a ``(``, a space or ``-``, a dash, a ``.`` or a space respectively.
    Candidates do not overlap and each holds a digit run of at most 20 digits, so there are at most
    ``ceil(len/20)`` candidates per run of digits.
    """
    candidates = sum(-(-len(run) // 20) for run in _DIGIT_RUN.findall(window))
    spaces = sum(1 for c in window if c.isspace())
    return (
        7 * candidates
        + window.count("/")
        + window.count("(")
        + 2 * spaces
        + window.count("-")
        + len(_DASHES.findall(window))
        + window.count(".")
    )


_RUN_FINDERS: dict[tuple[str, int], RunWindows] = {}
_PHONE_FINDER: list[PhoneWindows] = []


def wrap_recognizer(recognizer: EntityRecognizer) -> EntityRecognizer:
    """The windowed twin of a Presidio recognizer, or the recognizer itself where no exact window argument holds."""
    cls = type(recognizer).__name__
    if type(recognizer) is PhoneRecognizer:
        if not _PHONE_FINDER:
            _PHONE_FINDER.append(PhoneWindows())
        finder = _PHONE_FINDER[0]
        # The bounds assume leniency VALID or stricter (a match must pass is_valid_number).
        if finder.ok and hasattr(_probe_matcher(), "_max_tries") and recognizer.leniency >= Leniency.VALID:
            return WindowedPhoneRecognizer(recognizer, finder)
        return recognizer
    if cls in RUN_SPECS and isinstance(recognizer, PatternRecognizer):
        module = type(recognizer).__module__
        if not module.startswith("presidio_analyzer.predefined_recognizers"):
            return recognizer
        if patterns_fingerprint(recognizer) != EXPECTED_PATTERNS[cls]:
            logger.warning("%s has other patterns than the ones its windows were proven for; it runs unwrapped", cls)
            return recognizer
        flags = int(recognizer.global_regex_flags or 0)
        if (cls, flags) not in _RUN_FINDERS:
            _RUN_FINDERS[(cls, flags)] = RunWindows(RUN_SPECS[cls], flags)
        return WindowedPatternRecognizer(recognizer, _RUN_FINDERS[(cls, flags)])
    return recognizer


def _probe_matcher():
    import phonenumbers

    return phonenumbers.PhoneNumberMatcher("", "US")
