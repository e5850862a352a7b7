"""Token shards: Megatron-LM's indexed dataset or datatrove's ``.ds``, each with a Parquet provenance sidecar.

Written with datatrove's own writers, so the files are exactly what its tokenizer steps write:

* ``megatron``: ``NAME.bin`` (the ids) + ``NAME.idx`` (``MegatronTokenizedFile``): the ``MMIDIDX\\x00\\x00``
  header, version 1, the dtype code (8 = uint16, 4 = int32), the sequence count, the document count, then the
  sequence lengths (int32), their byte offsets (int64) and the document indices (int64, 0 then one per sequence):
  the layout of Megatron-LM's ``megatron/core/datasets/indexed_dataset.py``, read by Megatron, NeMo and GPT-NeoX.
* ``datatrove``: ``NAME.ds`` (the ids), ``NAME.ds.index`` (uint64 end of each document, in tokens) and
  ``NAME.ds.metadata`` (``TokenizedFile``), what nanotron's datatrove loader reads.

Beside each, ``NAME.parquet`` has one row per sequence in file order: ``position`` (its index in the file),
``token_start`` (its first token's index in the file), ``tokens`` (count, end-of-document token included), ``id``,
``source``, ``repetition`` (0 for the first copy in training order), ``input_file``, ``input_row``. Every file is
written in ``OUTPUT/tokens/.tmp-NAME/`` and moved in place once complete.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from datatrove.io import get_datafolder
from datatrove.pipeline.tokens.megatron_tokenizer import MegatronTokenizedFile
from datatrove.pipeline.tokens.tokenizer import TokenizedFile

from pipeline.dedup import workfiles as wf

TOKENS_DIR = "tokens"
SIDECAR_COLUMNS = ["position", "token_start", "tokens", "id", "source", "repetition", "input_file", "input_row"]


def shard_name(index: int) -> str:
    return f"part-{index:05d}"


def shard_files(fmt: str, name: str) -> list[str]:
    if fmt == "megatron":
        return [f"{name}.bin", f"{name}.idx", f"{name}.parquet"]
    return [f"{name}.ds", f"{name}.ds.index", f"{name}.ds.metadata", f"{name}.parquet"]


def write_shard(
    output_dir: str,
    fmt: str,
    index: int,
    plan: pl.DataFrame,
    id_files: dict[int, np.ndarray],
    dtype: np.dtype,
    tokenizer_name: str,
) -> int:
    """Write shard ``index`` from its plan rows (``rank``, ``offset``, ``tokens`` + provenance); returns tokens."""
    folder = get_datafolder(f"{output_dir.rstrip('/')}/{TOKENS_DIR}")
    name = shard_name(index)
    tmp = f".tmp-{name}"
    folder.makedirs(tmp, exist_ok=True)
    token_size = np.dtype(dtype).itemsize
    if fmt == "megatron":
        out = MegatronTokenizedFile(folder, f"{tmp}/{name}", token_size=token_size)
    else:
        out = TokenizedFile(
            folder,
            f"{tmp}/{name}.ds",
            save_index=True,
            tokenizer_name_or_path=tokenizer_name,
            save_final_metadata=True,
            token_size=token_size,
        )
    ranks = plan["rank"].to_numpy()
    offsets = plan["offset"].to_numpy()
    lengths = plan["tokens"].to_numpy()
    for r, o, n in zip(ranks.tolist(), offsets.tolist(), lengths.tolist(), strict=True):
        ids = id_files[r][o : o + n]
        if fmt == "megatron":
            out.write(ids)
        else:
            out.write_bytes(np.ascontiguousarray(ids).astype(f"<u{token_size}", copy=False).tobytes())
    out.close()
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])) if len(lengths) else np.empty(0, np.int64)
    sidecar = plan.with_columns(
        pl.Series("position", np.arange(len(plan), dtype=np.int64)),
        pl.Series("token_start", starts.astype(np.int64)),
    ).select(SIDECAR_COLUMNS)
    wf.save_table(folder, f"{tmp}/{name}.parquet", sidecar)
    for file in shard_files(fmt, name):
        if folder.exists(file):
            folder.rm(file)
        folder.mv(f"{tmp}/{file}", file)
    folder.rm(tmp, recursive=True)
    return int(lengths.sum())


def tokens_manifest(folder, describe) -> dict | None:
    """``manifest.json``'s ``tokens`` entry: every shard file under ``tokens/`` with bytes and sha256."""
    files = sorted(p for p in folder.glob(f"{TOKENS_DIR}/part-*") if not p.rsplit("/", 1)[-1].startswith("."))
    if not files:
        return None
    from pipeline.finalize import _sha256  # noqa: PLC0415 - finalize imports this module lazily

    entries = []
    for path in files:
        if path.endswith(".parquet"):  # the provenance sidecar: rows = sequences
            entries.append(describe(folder, path))
        else:
            entries.append({"path": path, "bytes": folder.size(path), "sha256": _sha256(folder, path)})
    sequences = sum(e.get("rows", 0) for e in entries if e["path"].endswith(".parquet"))
    return {"sequences": sequences, "bytes": sum(e["bytes"] for e in entries), "files": entries}
