"""``url_filter``: drop documents whose URL is on the user's blocklists (domains, URLs, banned words).

Same decisions and reasons as datatrove's ``URLFilter`` on the lists it is given: ``domain`` (registered domain
listed), ``subdomain`` (full host listed), ``url`` (exact URL listed), ``hard_blacklisted`` (a banned word is a
word of the URL), ``soft_blacklisted`` (at least ``soft_word_threshold`` soft-banned words) and
``blacklisted_subword`` (a banned sub-word occurs anywhere in the normalised URL). Adult, spam and malware sites
are cheapest to remove by address before any text rule runs.

Unlike datatrove's default, nothing is downloaded: the lists are the user's local files (one entry per line,
``#`` comments and blank lines ignored) and/or inline lists, and domains are split with tldextract's bundled
public-suffix snapshot. Documents without a URL are kept (or dropped as ``no_url`` with ``drop_missing_url``),
where datatrove would stop the whole run on an assertion.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from datatrove.data import Document
from datatrove.pipeline.filters.url_filter import URLFilter as DatatroveURLFilter

from pipeline.recipe_paths import RecipeFile
from pipeline.registry import StageContext, StageParams, register_stage

LIST_KINDS = ("domains", "urls", "banned_words", "banned_subwords", "soft_banned_words")


class URLFilterParams(StageParams):
    domains_file: RecipeFile | None = None
    urls_file: RecipeFile | None = None
    banned_words_file: RecipeFile | None = None
    banned_subwords_file: RecipeFile | None = None
    soft_banned_words_file: RecipeFile | None = None
    extra_domains: list[str] = []
    extra_urls: list[str] = []
    banned_words: list[str] = []
    banned_subwords: list[str] = []
    soft_banned_words: list[str] = []
    soft_word_threshold: int = 2
    drop_missing_url: bool = False
    record_signals: bool = False  # no signals: the reasons say everything


def read_list(path: str | None, inline: list[str]) -> list[str]:
    """Entries of a blocklist file plus inline entries: stripped, without blanks and ``#`` comments."""
    entries = list(inline)
    if path is not None:
        with open(Path(path).expanduser(), encoding="utf-8", errors="replace") as f:
            entries.extend(f)
    return [e.strip() for e in entries if e.strip() and not e.strip().startswith("#")]


class URLFilter(DatatroveURLFilter):
    """datatrove's URLFilter on user-given lists only, offline."""

    def __init__(self, params: URLFilterParams, label: str = "url_filter"):
        from tldextract import TLDExtract

        super().__init__(
            soft_word_threshold=params.soft_word_threshold,
            extra_domains=read_list(params.domains_file, params.extra_domains),
            extra_urls=read_list(params.urls_file, params.extra_urls),
            banned_words=read_list(params.banned_words_file, params.banned_words),
            banned_subwords=read_list(params.banned_subwords_file, params.banned_subwords),
            soft_banned_words=read_list(params.soft_banned_words_file, params.soft_banned_words),
            use_integrated_lists=False,
        )
        # the bundled public-suffix snapshot: no fetch of publicsuffix.org, no cache directory
        self.tldextractor = TLDExtract(suffix_list_urls=(), cache_dir=None)
        self.params = params
        self.label = label
        # a word list normalised to "" (e.g. "---") would match the empty pieces of every URL: drop such entries
        for name in ("banned_words", "soft_banned_words"):
            setattr(self, name, {w for w in getattr(self, name) if w})

    def output_columns(self) -> dict[str, pa.DataType]:
        return {}

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        url = doc.metadata.get("url")
        if not url or not isinstance(url, str):
            self.stat_update("no_url")
            return (False, "no_url") if self.params.drop_missing_url else True
        return super().filter(doc)


@register_stage("url_filter", URLFilterParams)
def build_url_filter(params: URLFilterParams, ctx: StageContext) -> URLFilter:
    """Drop documents whose URL matches the user's domain, URL or word blocklists (datatrove's rules, offline)."""
    return URLFilter(params, label=ctx.label)
