"""Exact stand-ins for two of spaCy's tokenizer regex calls whose cost grows with a whitespace-free run.

spaCy's tokenizer calls ``url_match`` and ``suffix_search`` on the whole remaining chunk, the latter once per
turn of its affix loop. On long runs (minified JSON, runs of punctuation) both take time quadratic in the run.
Curate's private tokenizing pipeline (``word_analysis.ChunkTokenizer``) uses these equivalents, which give spaCy
the same answers (``tests/test_filters_parity_long_runs.py`` compares them with spaCy's own), so the tokens stay
datatrove's.
"""

from __future__ import annotations

import re

# spaCy's URL_MATCH opens with an optional user-info part whose nested \\S runs make Python's regex engine take time
# quadratic in a long whitespace-free run holding ':' (minified JSON: seconds per 100,000 characters).
_URL_USER_INFO = r"(?:\S+(?::\S*)?@)?"
_URL_USER_INFO_LINEAR = r"(?:\S+@)?"


def equivalent_url_match(url_match):
    """spaCy's ``url_match`` with its user-info group ``(?:\\S+(?::\\S*)?@)?`` written ``(?:\\S+@)?``, or None.

    Both groups match the same strings (``:\\S*`` is itself a run of non-space characters), so the whole pattern
    matches where it matched; spaCy only asks *whether* it matches. Returns None where ``url_match`` is not a
    compiled pattern's ``match`` holding that group once (another spaCy: left as it is).
    """
    pattern = getattr(url_match, "__self__", None)
    if not isinstance(pattern, re.Pattern) or getattr(url_match, "__name__", "") != "match":
        return None
    if not isinstance(pattern.pattern, str) or pattern.pattern.count(_URL_USER_INFO) != 1:
        return None
    return re.compile(pattern.pattern.replace(_URL_USER_INFO, _URL_USER_INFO_LINEAR), pattern.flags).match


class TailSuffixSearch:
    """spaCy's ``suffix_search`` (``re.search`` of ``alt1$|alt2$|...``) that looks only at the end of the string.

    spaCy strips one prefix and one suffix per turn of its affix loop and searches the whole remaining string for
    a suffix each turn: time quadratic in a run of affix characters (10,000 characters of ``.,;!?`` take about a
    minute, in datatrove too). Every alternative ends with ``$`` (the strings never hold a newline: spaCy splits
    at whitespace first), so a match ends at the end, and ``re.search`` returns the one that starts leftmost. An
    alternative at most ``width`` characters long can only start in the last ``width`` characters: searching from
    there (look-behinds still see the text before) finds the same leftmost start among those. The one unbounded
    alternative of spaCy's lists, ``\\.\\.+$``, starts leftmost where the trailing run of dots starts. The leftmost of
    the two is spaCy's match; spaCy reads only its length.
    """

    DOTS = r"\.\.+$"

    def __init__(self, bounded: re.Pattern, width: int, dots: bool):
        self.bounded = bounded
        self.width = width
        self.dots = re.compile(self.DOTS) if dots else None

    @classmethod
    def replacing(cls, suffix_search) -> TailSuffixSearch | None:
        """The tail search for a compiled pattern's ``search`` of that shape, else None (left as it is)."""
        try:
            from re import _parser as sre_parse  # Python >= 3.11
        except ImportError:  # pragma: no cover - Python 3.10
            import sre_parse  # type: ignore[no-redef]

        pattern = getattr(suffix_search, "__self__", None)
        if not isinstance(pattern, re.Pattern) or getattr(suffix_search, "__name__", "") != "search":
            return None
        if not isinstance(pattern.pattern, str) or pattern.flags & (re.MULTILINE | re.VERBOSE):
            return None
        try:
            tree = sre_parse.parse(pattern.pattern, pattern.flags)
            items = list(tree)
            if len(items) != 1 or str(items[0][0]) != "BRANCH":
                return None
            branches = [sre_parse.SubPattern(tree.state, list(b)) for b in items[0][1][1]]
            texts = _split_top_level(pattern.pattern)
        except Exception:  # noqa: BLE001 - any pattern we cannot read stays as it is
            return None
        if len(texts) != len(branches):
            return None
        bounded, width, dots = [], 0, False
        for text, branch in zip(texts, branches, strict=True):
            if not list(branch) or not _ends_at_end(branch):
                return None
            high = branch.getwidth()[1]
            if high < 1_000:
                bounded.append(text)
                width = max(width, high)
            elif text == cls.DOTS:
                dots = True
            else:
                return None
        return cls(re.compile("|".join(bounded), pattern.flags), width, dots)

    def __call__(self, string: str):
        n = len(string)
        found = self.bounded.search(string, max(0, n - self.width))
        if self.dots is not None:
            run = n - len(string.rstrip("."))
            if run >= 2 and (found is None or n - run < found.start()):
                return self.dots.search(string, n - run)
        return found


def _ends_at_end(branch) -> bool:
    last = list(branch)[-1]
    return str(last[0]) == "AT" and str(last[1]) == "AT_END"


def _split_top_level(pattern: str) -> list[str]:
    """The top-level alternatives of a regex's source (``|`` outside brackets, groups and escapes)."""
    parts, depth, in_class, escaped, start = [], 0, False, False, 0
    for i, ch in enumerate(pattern):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]" or pattern[i - 1] == "[" or pattern[i - 2 : i] == "[^"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
    parts.append(pattern[start:])
    return parts
