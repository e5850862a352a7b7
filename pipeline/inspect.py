"""``curate inspect PATH``: what a file, folder or run output holds, without writing anything.

* A run's output folder (it has ``manifest.json``): the kept shards' schema, rows and a few documents, the ledger
  and bad-input counts.
* Parquet (a file, folder or glob): schema, row count, a few rows.
* JSON lines (plain, ``.gz``, ``.zst``): the first record's fields, the number of records and of damaged lines.
"""

from __future__ import annotations

import json
import os

import fsspec
import pyarrow.dataset as ds
from rich.console import Console

from pipeline.readers.files import BadInput, iter_jsonl

PREVIEW_CHARS = 300


def _preview(value: object) -> str:
    text = str(value).replace("\n", " ")
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + f"... ({len(str(value)):,} chars)"


def _show_rows(rows: list[dict], console: Console) -> None:
    for i, row in enumerate(rows):
        console.print(f"[bold]-- document {i}[/bold]")
        for key, value in row.items():
            console.print(f"  {key}: {_preview(value)}", markup=False)


def _inspect_parquet(paths: list[str], n: int, console: Console) -> int:
    dataset = ds.dataset(paths, format="parquet")
    console.print(f"Parquet: {len(paths)} file(s), {dataset.count_rows():,} rows")
    console.print(str(dataset.schema), markup=False)
    _show_rows(dataset.head(n).to_pylist(), console)
    return 0


def _inspect_jsonl(path: str, n: int, console: Console) -> int:
    fs, fs_path = fsspec.core.url_to_fs(path)
    rows, bad, shown = 0, 0, []
    for item in iter_jsonl(fs, fs_path):
        if isinstance(item, BadInput):
            bad += 1
            console.print(f"[yellow]bad input[/yellow] {item.message()}", markup=True)
            continue
        rows += 1
        if len(shown) < n:
            shown.append(item.data)
    console.print(f"JSON lines: {path}: {rows:,} records, {bad:,} damaged")
    if shown:
        console.print("fields: " + ", ".join(shown[0].keys()), markup=False)
    _show_rows(shown, console)
    return 0


ARCHIVE_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz", ".wet", ".wet.gz")


def _inspect_archive(path: str, n: int, console: Console) -> int:
    """Record types of a WARC/ARC/WET file and the first ``n`` pages (response or conversion records)."""
    from collections import Counter

    from pipeline.readers.warc_io import iter_archive, splittable

    fs, fs_path = fsspec.core.url_to_fs(path)
    kinds, bad, shown = Counter(), 0, []
    for item in iter_archive(fs, fs_path):
        if isinstance(item, BadInput):
            bad += 1
            console.print(f"[yellow]bad input[/yellow] {item.message()}", markup=True)
            continue
        kinds[item.kind] += 1
        if item.kind in ("response", "conversion") and len(shown) < n:
            h = item.headers
            shown.append(
                {
                    "offset": item.offset,
                    "id": h.get("WARC-Record-ID"),
                    "url": h.get("WARC-Target-URI") or h.get("uri"),
                    "type": h.get("WARC-Identified-Payload-Type") or (item.http_headers or {}).get("content-type"),
                    "status": item.http_status,
                    "payload": item.payload[:300].decode("utf-8", "replace"),
                }
            )
    split = "one gzip member per record (splittable)" if splittable(fs, fs_path) else "one gzip stream"
    console.print(f"archive: {path}: {dict(kinds)}, {bad:,} damaged; {split}", markup=False)
    _show_rows(shown, console)
    return 0


def inspect_path(path: str, n: int, console: Console) -> int:
    if os.path.isdir(path) and os.path.exists(os.path.join(path, "manifest.json")):
        with open(os.path.join(path, "manifest.json")) as f:
            manifest = json.load(f)
        console.print(f"Curate output of recipe {manifest.get('recipe')!r} ({manifest.get('created')})")
        console.print(f"  kept: {manifest['data']['rows']:,} rows in {len(manifest['data']['shards'])} shard(s)")
        for label, info in manifest.get("removed", {}).items():
            console.print(f"  removed by {label}: {info['rows']:,} rows")
        console.print(f"  bad input: {manifest.get('bad_input', {}).get('rows', 0):,} records")
        shards = [os.path.join(path, s["path"]) for s in manifest["data"]["shards"]]
        return _inspect_parquet(shards, n, console) if shards else 0
    fs, fs_path = fsspec.core.url_to_fs(path)
    if fs.isdir(fs_path):
        files = sorted(f for f in fs.find(fs_path) if not os.path.basename(f).startswith("."))
    else:
        files = (
            sorted(fs.glob(fs_path)) if any(c in fs_path for c in "*?[") else ([fs_path] if fs.exists(fs_path) else [])
        )
    if not files:
        raise FileNotFoundError(f"nothing found at {path}")
    parquet = [f for f in files if f.endswith(".parquet")]
    if parquet:
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        prefix = "" if protocol in ("file", "local") else f"{protocol}://"
        return _inspect_parquet([prefix + p for p in parquet], n, console)
    code = 0
    for f in files:
        target = f if "://" not in path else path
        if f.endswith(ARCHIVE_SUFFIXES):
            code |= _inspect_archive(target, n, console)
        else:
            code |= _inspect_jsonl(target, n, console)
    return code
