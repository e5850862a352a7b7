"""Reading training and evaluation documents for the classifier commands, in any format Curate reads.

Everything goes through :func:`iter_documents`, the one place that knows how files are read: it hands the file
to the backbone's ``pipeline.readers.read_source`` (every corpus format: fineweb-edu, dclm, redpajama, jsonl,
parquet, compressed or not) when that is available, and otherwise reads JSONL (plain, gzip, zstd) and Parquet
itself. Either way the record's fields other than text and id are in ``doc.metadata["original"]``, where
:func:`read_labeled` finds the ``label``.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import io
from collections.abc import Iterable, Iterator
from pathlib import Path

import orjson
from datatrove.data import Document

FORMATS = ("jsonl", "parquet", "fineweb-edu", "dclm", "redpajama-v1", "redpajama-v2")


def infer_format(path: str) -> str:
    """``parquet`` for ``*.parquet`` files and folders of them, else ``jsonl``."""
    p = Path(path)
    if p.suffix == ".parquet" or (p.is_dir() and any(p.glob("**/*.parquet"))):
        return "parquet"
    return "jsonl"


def _backbone_reader():
    try:
        from pipeline.readers.corpus_reader import read_source  # noqa: F401
    except ImportError:
        return None
    return read_source


def iter_documents(
    path: str, fmt: str | None = None, text_key: str | None = None, id_key: str | None = None
) -> Iterator[Document]:
    """Documents of a file, folder or glob, read as ``fmt`` (inferred from the name when ``None``)."""
    fmt = fmt or infer_format(path)
    read_source = _backbone_reader()
    if read_source is not None:
        source = {"name": _source_name(path), "format": fmt, "path": path}
        if text_key:
            source["text_key"] = text_key
        if id_key:
            source["id_key"] = id_key
        yield from read_source(source)
        return
    if fmt not in ("jsonl", "parquet"):
        raise ValueError(f"format {fmt!r} needs Curate's readers (pipeline.readers); only jsonl and parquet here")
    for file in _expand(path, fmt):
        records = _iter_parquet(file) if fmt == "parquet" else _iter_jsonl(file)
        for i, record in enumerate(records):
            text = record.pop(text_key or "text", None)
            if not isinstance(text, str):
                continue
            doc_id = record.pop(id_key or "id", None)
            if doc_id is None:
                doc_id = f"{Path(file).name}/{i}-{hashlib.sha256(text.encode('utf-8', 'replace')).hexdigest()[:12]}"
            yield Document(
                text=text,
                id=str(doc_id),
                metadata={"source": _source_name(path), "url": record.get("url"), "original": record},
            )


def iter_texts(paths: Iterable[str], fmt: str | None = None, text_key: str | None = None) -> Iterator[str]:
    for path in paths:
        for doc in iter_documents(path, fmt, text_key):
            yield doc.text


def read_labeled(path: str, label_key: str = "label", fmt: str | None = None) -> tuple[list[str], list[int]]:
    """Texts and 0/1 labels of a labelled file (1 = good), e.g. ``dclm-annotations-dev.jsonl``.

    Labels may be 0/1 numbers, booleans, or the strings ``"1"``/``"0"``/``"hq"``/``"cc"``; a record without a
    usable label is an error naming it, since a silently skipped label would bias every metric.
    """
    texts: list[str] = []
    labels: list[int] = []
    for doc in iter_documents(path, fmt):
        original = doc.metadata.get("original") or {}
        value = original.get(label_key)
        label = _as_label(value)
        if label is None:
            raise ValueError(f"{path}: document {doc.id!r} has no 0/1 {label_key!r} field (got {value!r})")
        texts.append(doc.text)
        labels.append(label)
    return texts, labels


def _as_label(value) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float) and value in (0, 1):
        return int(value)
    if isinstance(value, str) and value.strip().lower() in ("0", "1", "hq", "cc", "__label__hq", "__label__cc"):
        return int(value.strip().lower() in ("1", "hq", "__label__hq"))
    return None


def _source_name(path: str) -> str:
    name = Path(path.rstrip("/")).name.split(".")[0] or "input"
    return "".join(c if c.isalnum() or c in "_.-" else "_" for c in name)


def _expand(path: str, fmt: str) -> list[str]:
    p = Path(path)
    if p.is_dir():
        pattern = "**/*.parquet" if fmt == "parquet" else "**/*.json*"
        return sorted(str(f) for f in p.glob(pattern) if f.is_file())
    if any(c in path for c in "*?["):
        return sorted(glob.glob(path, recursive=True))
    if not p.exists():
        raise FileNotFoundError(path)
    return [path]


def _iter_jsonl(file: str) -> Iterator[dict]:
    if file.endswith(".gz"):
        fh = gzip.open(file, "rb")
    elif file.endswith(".zst"):
        import zstandard

        fh = io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(open(file, "rb")))
    else:
        fh = open(file, "rb")
    with fh:
        for line in fh:
            if line.strip():
                record = orjson.loads(line)
                if isinstance(record, dict):
                    yield record


def _iter_parquet(file: str) -> Iterator[dict]:
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(file).iter_batches(batch_size=1024):
        yield from batch.to_pylist()
