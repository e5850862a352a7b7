"""What every corpus format provides: how its files look and how one record becomes a ``Document``.

A format is a small declaration (container, default file patterns, an ``adapt`` function). ``adapt`` maps the
corpus's real schema to Curate's document layout (see ``pipeline/document.py``): the id (the corpus's own, or a
stable derived one), the text, the URL, and every original field kept under ``metadata["original"]``. A record
that cannot be a document (no text, text not a string) raises ``BadRecord`` with what is wrong.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from datatrove.data import Document

from pipeline.document import ORIGINAL, SOURCE, URL


class BadRecord(ValueError):
    """A record that was read but cannot become a document; the message says why."""


@dataclass
class RecordContext:
    """Where a record comes from: used for derived ids and messages."""

    source: str  # the recipe's source name
    relpath: str  # file path relative to the source root (or the HF dataset id)
    index: int  # line number (jsonl, 1-based) or row index (parquet / stream, 0-based)
    text_key: str = "text"
    id_key: str = "id"
    extras: dict[str, Any] = field(default_factory=dict)  # per-file data a format prepared (RPv2 signals)
    id_from_text: bool = False  # streams: a position is not stable across task counts, the text is

    def derived_id(self, text: str) -> str:
        """Stable id for records without one: source name, file and position (unique, stable across runs)."""
        if self.id_from_text:
            return (
                f"{self.source}/{self.relpath}/{hashlib.sha1(text.encode('utf-8', 'surrogatepass')).hexdigest()[:20]}"
            )
        return f"{self.source}/{self.relpath}/{self.index}"


@dataclass(frozen=True)
class CorpusFormat:
    name: str
    container: Literal["jsonl", "parquet", "warc", "wet"]
    patterns: tuple[str, ...]
    adapt: Callable[[dict, RecordContext], Document]
    default_text_key: str = "text"
    default_id_key: str = "id"
    # prepare per-file context (e.g. load the RPv2 quality signals that sit beside a documents file)
    open_file: Callable[[Any, str, str, Any], dict[str, Any]] | None = None
    skip_file: Callable[[str], bool] | None = None
    # cutting a big file into parts that tasks read apart: ``(fs, file, size, target_bytes, source) -> [Span]`` or
    # None (read it whole). None here: the container's own (JSON lines by byte range when uncompressed, Parquet by
    # row groups); see ``pipeline/readers/work_plan.py``. A format with its own container sets it with ``read``.
    split_units: Callable[[Any, str, int, int, Any], Any] | None = None
    # reading records of a file or of one of its parts: ``(fs, file, span | None, source) -> Iterator[Record |
    # BadInput]``, positions in the whole file. None here: the container's reader.
    read: Callable[[Any, str, Any, Any], Any] | None = None


def take_text(record: dict, key: str) -> str:
    if key not in record:
        raise BadRecord(f"no {key!r} field (fields: {', '.join(sorted(record)[:12])})")
    text = record[key]
    if not isinstance(text, str):
        raise BadRecord(f"{key!r} is {type(text).__name__}, not a string")
    if not text:
        raise BadRecord(f"{key!r} is empty")
    return text


def make_document(doc_id: Any, text: str, source: str, url: Any, original: dict) -> Document:
    return Document(
        text=text,
        id=str(doc_id),
        metadata={SOURCE: source, URL: url if isinstance(url, str) and url else None, ORIGINAL: original},
    )


JSONL_PATTERNS = ("*.jsonl", "*.jsonl.gz", "*.jsonl.zst", "*.jsonl.zstd", "*.json.gz", "*.jsonl.bz2", "*.jsonl.xz")
PARQUET_PATTERNS = ("*.parquet",)
