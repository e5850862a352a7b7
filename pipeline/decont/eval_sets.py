"""Reading evaluation sets: JSON lines, Parquet or plain text, local or any fsspec URL, a file, folder or glob.

Each record is one evaluation item; the text of each named field (a string, or a list of strings such as answer
choices) is registered apart, so no n-gram spans two fields. A plain-text file has one item per non-empty line.
Damaged lines are skipped with a warning (the harness reads its sets the same way a corpus is read); a set in which
no record has any of the fields is a recipe mistake and stops the run with a message naming the fields found.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from loguru import logger

from pipeline.readers.files import BadInput, Record, iter_jsonl, iter_parquet, list_files, relative_path

PATTERNS = ("*.jsonl", "*.jsonl.gz", "*.jsonl.zst", "*.json", "*.json.gz", "*.parquet", "*.txt", "*.txt.gz")


@dataclass(frozen=True)
class EvalItem:
    label: str  # the item's id field, else "<file>:<line or row>"
    texts: list[str]


def _kind(file: str, forced: str) -> str:
    if forced != "infer":
        return forced
    name = file.lower().removesuffix(".gz").removesuffix(".zst")
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith(".txt"):
        return "text"
    return "jsonl"


def _texts(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [v for item in value for v in _texts(item)]
    if isinstance(value, dict):
        return [v for item in value.values() for v in _texts(item)]
    return []


def iter_items(
    path: str, fields: list[str], id_field: str | None = None, fmt: str = "infer", name: str = "eval"
) -> Iterator[EvalItem]:
    fs, root, files = list_files(path, PATTERNS)
    if not files:
        raise ValueError(f"evaluation set {name!r}: no files found at {path}")
    seen_fields: set[str] = set()
    found = 0
    records = 0
    for file in files:
        rel = relative_path(file, root) or file.rsplit("/", 1)[-1]
        kind = _kind(file, fmt)
        if kind == "text":
            with fs.open(file, "rt", encoding="utf-8", errors="replace", compression="infer") as f:
                for lineno, line in enumerate(f, start=1):
                    if line.strip():
                        found += 1
                        yield EvalItem(f"{rel}:{lineno}", [line])
            continue
        source = iter_parquet(fs, file) if kind == "parquet" else iter_jsonl(fs, file)
        for item in source:
            if isinstance(item, BadInput):
                logger.warning(f"evaluation set {name!r}: skipped {item.message()}")
                continue
            assert isinstance(item, Record)
            records += 1
            seen_fields.update(item.data)
            texts = [t for f in fields for t in _texts(item.data.get(f))]
            if not texts:
                continue
            found += 1
            label = item.data.get(id_field) if id_field else None
            yield EvalItem(str(label) if label is not None else f"{rel}:{item.index}", texts)
    if records and not found:
        raise ValueError(
            f"evaluation set {name!r}: no record of {path} has the field(s) {', '.join(fields)} "
            f"(fields found: {', '.join(sorted(seen_fields)) or 'none'})"
        )
