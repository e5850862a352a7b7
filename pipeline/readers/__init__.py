"""Corpus readers: one module per corpus format, each mapping the real schema to datatrove Documents."""

from collections.abc import Iterator
from typing import Any


def read_source(source: Any, rank: int = 0, world_size: int = 1) -> Iterator:
    """Documents of one recipe source mapping (see ``corpus_reader.read_source``)."""
    from pipeline.readers.corpus_reader import read_source as _read_source

    return _read_source(source, rank, world_size)
