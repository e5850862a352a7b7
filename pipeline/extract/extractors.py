"""The extractor libraries, called exactly as their authors document them, with the settings the big corpora used.

* ``trafilatura`` (default): ``trafilatura.extract(html, favor_precision=True, include_comments=False,
  deduplicate=True)``, FineWeb's settings (datatrove's ``Trafilatura`` step with ``favour_precision=True``).
  trafilatura's ``deduplicate`` drops text segments it has seen more than twice, in a process-wide cache; that
  makes a page's text depend on which pages the same process extracted before it (so on the task count and the
  order of files). Curate gives each page its own fresh cache (trafilatura accepts an ``LRUCache`` as
  ``deduplicate``): repeats within a page are still removed, and the text of a page is the same in any run.
* ``resiliparse``: ``extract_plain_text(html, main_content=True)``, DCLM's choice (its ``resiliparse`` extractor).
* ``justext``: the paragraphs ``justext.justext(html, get_stoplist("English"))`` does not mark as boilerplate,
  one per line (option ``language``: another stoplist, or ``null`` for jusText's language-independent mode).

``extractor_options`` in a recipe are passed through to the library call (and override the defaults above); an
unknown option is a recipe error naming it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

EXTRACTORS = ("trafilatura", "resiliparse", "justext")
DEFAULTS: dict[str, dict[str, Any]] = {
    "trafilatura": {"favor_precision": True, "include_comments": False, "deduplicate": True},
    "resiliparse": {"main_content": True},
    "justext": {"language": "English"},
}
JUSTEXT_OPTIONS = (
    "language",
    "length_low",
    "length_high",
    "stopwords_low",
    "stopwords_high",
    "max_link_density",
    "max_heading_distance",
    "no_headings",
)


def _library_options(name: str) -> list[str]:
    if name == "trafilatura":
        from trafilatura import extract

        fn: Any = extract
        skip = {"filecontent", "config", "options"}
    elif name == "resiliparse":
        from resiliparse.extract.html2text import extract_plain_text

        fn, skip = extract_plain_text, {"html"}
    else:
        return list(JUSTEXT_OPTIONS)
    return [p for p in inspect.signature(fn).parameters if p not in skip]


def check_options(name: str, options: dict[str, Any]) -> None:
    """Raise ``ValueError`` naming an option the extractor library does not take."""
    if not options:
        return
    from pipeline.registry import nearest_name

    valid = _library_options(name)
    for key in options:
        if key not in valid:
            hint = nearest_name(key, valid)
            raise ValueError(
                f"extractor_options.{key}: not an option of {name}"
                + (f"; did you mean {hint!r}?" if hint else "")
                + f" (options: {', '.join(valid)})"
            )


def make_extractor(name: str, options: dict[str, Any] | None = None) -> Callable[[str], str]:
    """A function from HTML to text (``""`` when the library finds no main text)."""
    opts = {**DEFAULTS[name], **(options or {})}
    if name == "trafilatura":
        from trafilatura import extract
        from trafilatura.deduplication import LRUCache
        from trafilatura.settings import LRU_SIZE

        per_page_cache = opts.get("deduplicate") is True

        def run_trafilatura(html: str) -> str:
            if per_page_cache:
                opts["deduplicate"] = LRUCache(maxsize=LRU_SIZE)
            return extract(html, **opts) or ""

        return run_trafilatura
    if name == "resiliparse":
        from resiliparse.extract.html2text import extract_plain_text

        def run_resiliparse(html: str) -> str:
            return extract_plain_text(html, **opts) or ""

        return run_resiliparse
    if name == "justext":
        import justext

        language = opts.pop("language")
        stoplist = justext.get_stoplist(language) if language else frozenset()

        def run_justext(html: str) -> str:
            paragraphs = justext.justext(html, stoplist, **opts)
            return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)

        return run_justext
    raise ValueError(f"unknown extractor {name!r} (known: {', '.join(EXTRACTORS)})")
