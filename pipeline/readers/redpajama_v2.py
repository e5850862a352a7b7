"""RedPajama-V2: CCNet documents joined with their quality signals.

Layout: ``documents/<snapshot>/<shard>/<lang>_<bucket>.json.gz`` (``raw_content, url, title, nlines,
original_nlines, line_ids, source_domain, length, original_length, language, language_score, perplexity, bucket,
digest, cc_segment, date_download``) beside ``quality_signals/<same path>.signals.json.gz`` (``{id, id_int,
metadata, quality_signals: {name: [[start, end, score], ...]}}``). A document's id is RPv2's own,
``<snapshot>/<shard>/<lang>_<bucket>.json.gz/<line index>``, and the signals are joined on it, so they become
``metadata["original"]["quality_signals"]`` and later stages threshold them without recomputing anything.

A documents file without its signals file is read all the same (with one warning); the signal lookup is by id,
not by line, so a reordered or partial signals file cannot attach the wrong signals to a document.
"""

from __future__ import annotations

from typing import Any

import orjson
from datatrove.data import Document
from loguru import logger

from pipeline.readers.files import BadInput, iter_jsonl, relative_path
from pipeline.readers.formats import CorpusFormat, RecordContext, make_document, take_text

SIGNAL_TREES = ("/quality_signals/", "/minhash/", "/duplicates/")


def documents_relpath(file: str, root: str) -> str:
    """Path below ``documents/`` (RPv2's id prefix), or below the source root when there is no such folder."""
    i = file.rfind("/documents/")
    return file[i + len("/documents/") :] if i >= 0 else relative_path(file, root)


def signals_path(file: str, root: str, quality_signals_root: str | None) -> str:
    """Where RPv2 keeps a documents file's signals: the same path under ``quality_signals/``."""
    rel = documents_relpath(file, root)
    name = rel.removesuffix(".json.gz").removesuffix(".jsonl.gz").removesuffix(".jsonl") + ".signals.json.gz"
    if quality_signals_root:
        return f"{quality_signals_root.rstrip('/')}/{name}"
    i = file.rfind("/documents/")
    return f"{file[:i] if i >= 0 else root}/quality_signals/{name}"


def load_signals(fs: Any, file: str, root: str, source: Any) -> dict[str, Any]:
    qs_root = getattr(source, "quality_signals_path", None)
    if qs_root:
        import fsspec

        _, qs_root = fsspec.core.url_to_fs(qs_root)
    path = signals_path(file, root, qs_root)
    extras: dict[str, Any] = {"id_prefix": documents_relpath(file, root), "signals": {}}
    if not fs.exists(path):
        logger.warning(f"{file}: no quality signals file at {path}; its documents are read without signals")
        extras["missing_signals_file"] = True
        return extras
    for item in iter_jsonl(fs, path):
        if isinstance(item, BadInput):
            logger.warning(f"quality signals {item.message()}")
            continue
        sid = item.data.get("id")
        if isinstance(sid, str):
            extras["signals"][sid] = item.data.get("quality_signals")
    return extras


def adapt(record: dict, ctx: RecordContext) -> Document:
    text = take_text(record, ctx.text_key)
    original = {k: v for k, v in record.items() if k != ctx.text_key}
    # Hugging Face's RPv2 loader yields doc_id and the signals as a JSON string; files carry them beside
    doc_id = record.get("doc_id") or f"{ctx.extras.get('id_prefix', ctx.relpath)}/{ctx.index - 1}"
    signals = original.get("quality_signals")
    if isinstance(signals, str):
        signals = orjson.loads(signals)
    if signals is None:
        signals = ctx.extras.get("signals", {}).get(doc_id)
    original["quality_signals"] = signals
    return make_document(doc_id, text, ctx.source, record.get("url"), original)


def is_signal_file(file: str) -> bool:
    return file.endswith(".signals.json.gz") or any(t in f"/{file}" for t in SIGNAL_TREES)


REDPAJAMA_V2 = CorpusFormat(
    name="redpajama-v2",
    container="jsonl",
    patterns=("*.json.gz", "*.jsonl.gz", "*.jsonl"),
    adapt=adapt,
    default_text_key="raw_content",
    open_file=load_signals,
    skip_file=is_signal_file,
)
