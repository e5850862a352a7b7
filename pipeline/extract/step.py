"""``extract``: the step that turns the HTML of ``warc`` sources into text, and drops the pages that have none.

The plan adds it by itself whenever a recipe reads a ``warc`` source (there is no stage to list): right after the
reader, or after the recipe's leading URL-level stages (``url_filter``) when the recipe puts them first, so a page
that its URL already rules out is never parsed (FineWeb's order: URL filter, then trafilatura). Documents of other
sources pass through untouched.

Per page, with the source's ``extractor``, ``extractor_options`` and ``extract_timeout``: the text replaces the
HTML. A page is dropped into ``removed/extract/`` with its reason, and counted in ``stats.json``, when it is
``not_html`` (the reader saw another content type), ``undecodable`` (no charset decodes it), ``empty`` (the
extractor found no main text), ``timeout`` (slower than ``extract_timeout``), ``error`` (the library raised) or
``crashed`` (the worker process died, ``extract_isolation: process`` only). Nothing stops the task.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.filters.base_filter import BaseFilter
from loguru import logger

from pipeline.document import SOURCE
from pipeline.extract.timeout import ExtractCrashed, ExtractTimeout, make_guard
from pipeline.readers.warc import SKIP

LABEL = "extract"
URL_LEVEL_STAGES = frozenset({"url_filter"})  # decide on the URL alone: may run before extraction


@dataclass(frozen=True)
class ExtractConfig:
    extractor: str = "trafilatura"
    options: dict[str, Any] = field(default_factory=dict)
    timeout: float = 1.0
    isolation: str = "signal"  # "signal" (SIGALRM in the task) or "process" (a worker process per source)


def _safe(fn):
    """In a worker process, a library exception comes back as a value instead of killing the worker."""

    def call(html: str):
        try:
            return fn(html)
        except Exception as e:  # noqa: BLE001
            return e

    return call


class HtmlExtract(BaseFilter):
    name = "⛏ HTML extraction"

    def __init__(self, configs: dict[str, ExtractConfig], label: str = LABEL):
        super().__init__()
        self.configs = configs
        self.label = label
        self._active: dict[str, tuple[Any, Any]] = {}
        self._warned: set[str] = set()

    def output_columns(self) -> dict[str, pa.DataType]:
        return {}

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        from pipeline.extract.extractors import make_extractor

        with ExitStack() as stack:
            for source, cfg in self.configs.items():
                fn = make_extractor(cfg.extractor, cfg.options)
                warm_up(fn)
                guard = stack.enter_context(make_guard(cfg.timeout, cfg.isolation))
                self._active[source] = (guard, fn if cfg.isolation == "signal" else _safe(fn))
            yield from super().run(data, rank, world_size)
        self._active.clear()

    def extract(self, source: str, html: str) -> str:
        """The text of one page (raises ``ExtractTimeout``, ``ExtractCrashed`` or the library's error)."""
        guard, fn = self._active[source]
        result = guard.call(fn, html)
        if isinstance(result, Exception):
            raise result
        return result

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        source = doc.metadata.get(SOURCE)
        if source not in self._active:
            return True
        skip = doc.metadata.pop(SKIP, None)
        if skip:
            return False, skip
        try:
            text = self.extract(source, doc.text)
        except ExtractTimeout:
            return False, "timeout"
        except ExtractCrashed as e:
            logger.warning(f"extraction worker died on {doc.id} ({e}); a new one is started")
            return False, "crashed"
        except Exception as e:  # noqa: BLE001 - a library failure on one page drops that page only
            kind = type(e).__name__
            if kind not in self._warned:
                self._warned.add(kind)
                logger.warning(f"{self.configs[source].extractor} failed on {doc.id}: {kind}: {e} (once per kind)")
            return False, "error"
        if not text or not text.strip():
            return False, "empty"
        doc.text = text
        self.stat_update(f"extracted/{source}")
        return True


# a page with too little main text: trafilatura falls back to jusText and loads its stoplists (0.5 s, once)
WARM_UP_HTML = "<html><body><div>Short text here.</div><div>Another one.</div></body></html>"


def warm_up(fn) -> None:
    """One untimed call first: the libraries import and build their caches on the first page they see (0.5 s
    for trafilatura), which would otherwise count against the first real page's time limit."""
    try:
        fn(WARM_UP_HTML)
    except Exception:  # noqa: BLE001 - a failing library shows on the real pages
        pass


def extraction_position(stage_names: list[str]) -> int:
    """Where extraction goes among the recipe's stages: after its leading URL-level stages."""
    position = 0
    while position < len(stage_names) and stage_names[position] in URL_LEVEL_STAGES:
        position += 1
    return position


def extract_configs(sources: list[Any]) -> dict[str, ExtractConfig]:
    """The extraction settings of each ``warc`` source of a recipe, by source name."""
    return {
        s.name: ExtractConfig(
            extractor=s.extractor or "trafilatura",
            options=dict(s.extractor_options),
            timeout=float(s.extract_timeout),
            isolation=s.extract_isolation,
        )
        for s in sources
        if s.format == "warc"
    }
