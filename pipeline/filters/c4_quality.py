"""``c4_quality``: C4's line cleaning and page rules (Raffel et al. 2020), as datatrove's ``C4QualityFilter``.

Removes lines that are not prose (no terminal punctuation, fewer than ``min_words_per_line`` words, a word longer
than ``max_word_length``, mentions of javascript, cookie / terms-of-use boilerplate, Wikipedia citation marks) and
drops pages that contain "lorem ipsum" or a curly bracket (code) or keep fewer than ``min_num_sentences``
sentences. **This stage changes the text** of the documents it keeps: the kept lines, joined by newlines. Same
parameters, defaults, drop reasons and output text as datatrove's filter; FineWeb ran it with
``filter_no_terminal_punct: false``.

Faster than datatrove, same decisions: datatrove splits every kept line into spaCy sentences only to count them.
Every line counts for at least one sentence (datatrove's sentence split never returns an empty list), so once
the kept lines reach ``min_num_sentences`` the count cannot fall short; the exact spaCy count is made only for
pages with fewer kept lines than that (or when ``record_signals`` asks for it). Per-line statistics are added
once per document instead of once per line.

``language`` picks datatrove's word tokenizer (a FineWeb-2 code such as ``cmn_Hani`` or a language-ID label such
as ``zh``; ``auto``: each document's language from ``language_filter``), and ``thresholds: fineweb2`` loads
FineWeb-2's settings for the language, as its pipeline script gives them to datatrove (see ``thresholds.py``).
"""

from __future__ import annotations

import re

import pyarrow as pa
from datatrove.data import Document
from datatrove.pipeline.filters.c4_filters import CITATION_REGEX, ELLIPSIS, END_PUNCTUATION, POLICY_SUBSTRINGS

from pipeline.filters.thresholds import LanguageAwareFilter, UnconfiguredAction
from pipeline.filters.word_analysis import count_sentences, split_sentences
from pipeline.recipe_paths import RecipePathOrName
from pipeline.registry import StageContext, StageParams, register_stage

# ``any(phrase in line for phrase in POLICY_SUBSTRINGS)`` as one scan of the line
_POLICY = re.compile("|".join(map(re.escape, POLICY_SUBSTRINGS)))

SIGNALS: dict[str, pa.DataType] = {
    "lines": pa.int64(),  # lines (or sentences with split_paragraph: false) before cleaning
    "kept_lines": pa.int64(),
    "sentences": pa.int64(),  # sentences in the kept lines, as datatrove counts them
    "lorem_ipsum": pa.bool_(),
    "curly_bracket": pa.bool_(),
}


def _phrases_on_page(text: str, p: C4QualityParams) -> bool:
    """Whether the page, lowercased, may hold a lorem ipsum, javascript or policy phrase that is checked for;
    where not, no line's check can fire, and the per-line lowercasing and phrase checks are skipped.

    The page is read with its citation marks removed, as each line is ("java[1]script" is a javascript line).
    Each cleaned line is then a piece of that page (a mark never spans a line end, and no checked phrase holds a
    bracket, so removing marks never cuts into one), and lowercasing maps character by character (Greek final
    sigma aside, which no phrase holds): a phrase in a lowercased line is in the lowercased page. Every policy
    phrase holds "cookie", "policy" or "terms of use": three substring scans stand for the six.
    """
    if not (p.filter_lorem_ipsum or p.filter_javascript or p.filter_policy):
        return False
    page = (CITATION_REGEX.sub("", text) if p.remove_citations and "[" in text else text).lower()
    return bool(
        (p.filter_lorem_ipsum and "lorem ipsum" in page)
        or (p.filter_javascript and "javascript" in page)
        or (p.filter_policy and ("cookie" in page or "policy" in page or "terms of use" in page))
    )


assert all(any(w in phrase for w in ("cookie", "policy", "terms of use")) for phrase in POLICY_SUBSTRINGS)


class C4QualityParams(StageParams):
    split_paragraph: bool = True
    remove_citations: bool = True
    filter_no_terminal_punct: bool = True
    min_num_sentences: int = 5
    min_words_per_line: int = 3
    max_word_length: int = 1000
    filter_lorem_ipsum: bool = True
    filter_javascript: bool = True
    filter_curly_bracket: bool = True
    filter_policy: bool = True
    language: str = "eng"
    thresholds: RecipePathOrName | None = None  # "fineweb2", or a file written by `curate calibrate`
    unconfigured_language: UnconfiguredAction = "keep"  # with language: auto, a language without settings
    record_signals: bool = False


class C4QualityFilter(LanguageAwareFilter):
    name = "⛰ C4 Quality"
    stage_name = "c4_quality"

    def __init__(self, params: C4QualityParams, label: str = "c4_quality"):
        super().__init__(params, label)

    def signal_types(self) -> dict[str, pa.DataType]:
        return dict(SIGNALS)

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        p = self.document_params(doc)
        if p is None:
            return self.unconfigured()
        record = p.record_signals
        text = doc.text
        lines = text.splitlines() if p.split_paragraph else split_sentences(text, p.language)
        counts = {"too_long_word": 0, "no_terminal_punc": 0, "too_few_words": 0, "javascript": 0, "policy": 0}
        kept_lines: list[str] = []
        verdict: str | None = None
        lorem_ipsum = curly_bracket = False
        look_lowered = _phrases_on_page(text, p)

        for line in lines:
            line = line.strip()
            words = line.split()
            if p.max_word_length != -1 and max(map(len, words), default=0) > p.max_word_length:
                counts["too_long_word"] += 1
                continue
            if p.remove_citations and "[" in line:  # every citation form starts with "["
                line = CITATION_REGEX.sub("", line)
            if p.filter_no_terminal_punct and (not line.endswith(END_PUNCTUATION) or line.endswith(ELLIPSIS)):
                counts["no_terminal_punc"] += 1
                continue
            if len(words) < p.min_words_per_line:
                counts["too_few_words"] += 1
                continue
            if not look_lowered:  # no lorem ipsum, javascript or policy phrase anywhere on the page
                if p.filter_curly_bracket and "{" in line:
                    curly_bracket = True
                    verdict = verdict or "curly_bracket"
                    if not record:
                        break
                kept_lines.append(line)
                continue
            line_l = line.lower()
            if p.filter_lorem_ipsum and "lorem ipsum" in line_l:
                lorem_ipsum = True
                verdict = verdict or "lorem_ipsum"
                if not record:
                    break
            if p.filter_javascript and "javascript" in line_l:
                counts["javascript"] += 1
                continue
            if p.filter_curly_bracket and "{" in line:
                curly_bracket = True
                verdict = verdict or "curly_bracket"
                if not record:
                    break
            if p.filter_policy and _POLICY.search(line_l) is not None:
                counts["policy"] += 1
                continue
            kept_lines.append(line)

        self._update_line_stats(len(lines), len(kept_lines), counts, complete=verdict is None)

        sentences: int | None = None
        if record or (verdict is None and p.min_num_sentences != -1 and len(kept_lines) < p.min_num_sentences):
            sentences = self._count_sentences(p, kept_lines)
        if verdict is None and p.min_num_sentences != -1:
            # every kept line holds at least one sentence, so the line count is a lower bound
            enough = len(kept_lines) >= p.min_num_sentences if sentences is None else sentences >= p.min_num_sentences
            if not enough:
                verdict = "too_few_sentences"

        if record:
            values = {
                "lines": len(lines),
                "kept_lines": len(kept_lines),
                "sentences": sentences,
                "lorem_ipsum": lorem_ipsum,
                "curly_bracket": curly_bracket,
            }
            for name, value in values.items():
                doc.metadata[f"{self.label}.{name}"] = value
        if verdict is not None:
            return False, verdict
        doc.text = ("\n" if p.split_paragraph else " ").join(kept_lines).strip()
        return True

    def _count_sentences(self, p: C4QualityParams, kept_lines: list[str]) -> int:
        if not p.split_paragraph:
            return len(kept_lines)
        return sum(count_sentences(line, p.language) for line in kept_lines)

    def _update_line_stats(self, total: int, kept: int, counts: dict[str, int], complete: bool) -> None:
        if not complete:
            return  # datatrove's per-line counts stop at the line that drops the page; ours are per kept page
        self.stat_update("line-total", value=total)
        self.stat_update("line-kept", value=kept)
        for name, value in counts.items():
            if value:
                self.stat_update(f"line-filter-{name}", value=value)


@register_stage("c4_quality", C4QualityParams)
def build_c4_quality(params: C4QualityParams, ctx: StageContext) -> C4QualityFilter:
    """Remove non-prose lines and drop pages with lorem ipsum, code or too few sentences (C4's rules)."""
    return C4QualityFilter(params, label=ctx.label)
