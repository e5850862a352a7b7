"""Reading and writing the dedup stages' scratch files under ``ctx.work_dir`` (a local path or an fsspec URL).

Arrays are ``.npy`` (memory-mapped when the work folder is local, so a task touches only the rows it needs) and
per-document tables are Parquet (written with polars). Every file is written under a temporary name and renamed,
so a task killed half-way never leaves a truncated file for the next phase to read.
"""

from __future__ import annotations

import io
import json
import os
import re

import numpy as np
import polars as pl
from datatrove.io import DataFolder, get_datafolder


def folder(work_dir: str) -> DataFolder:
    return get_datafolder(work_dir)


def _write_bytes(f: DataFolder, path: str, payload: bytes) -> None:
    tmp = f"{path}.tmp"
    with f.open(tmp, "wb") as out:
        out.write(payload)
    if f.exists(path):
        f.rm(path)
    f.mv(tmp, path)


def save_array(f: DataFolder, path: str, array: np.ndarray) -> None:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    _write_bytes(f, path, buf.getvalue())


def load_array(f: DataFolder, path: str, mmap: bool = False) -> np.ndarray:
    if mmap and f.is_local():
        return np.load(f.resolve_paths(path), mmap_mode="r", allow_pickle=False)
    with f.open(path, "rb") as src:
        return np.load(io.BytesIO(src.read()), allow_pickle=False)


def save_table(f: DataFolder, path: str, table: pl.DataFrame) -> None:
    buf = io.BytesIO()
    table.write_parquet(buf, compression="zstd")
    _write_bytes(f, path, buf.getvalue())


def load_table(f: DataFolder, path: str) -> pl.DataFrame:
    with f.open(path, "rb") as src:
        return pl.read_parquet(io.BytesIO(src.read()))


def save_json(f: DataFolder, path: str, value: object) -> None:
    _write_bytes(f, path, json.dumps(value, indent=2, sort_keys=True).encode())


def load_json(f: DataFolder, path: str) -> object:
    with f.open(path, "rb") as src:
        return json.loads(src.read())


def ranks_of(f: DataFolder, pattern: str) -> list[int]:
    """The ranks ``N`` of the files matching ``pattern`` (a glob with ``rank-*``), sorted."""
    found = []
    for path in f.glob(pattern):
        m = re.search(r"rank-(\d+)\.", os.path.basename(path))
        if m:
            found.append(int(m.group(1)))
    return sorted(found)


def rank_name(rank: int) -> str:
    return f"rank-{rank:05d}"


def shard_name(shard: int) -> str:
    return f"shard-{shard:05d}"


class RawAppender:
    """Appends arrays' raw bytes to one file (written as ``path.tmp``, renamed on ``close``): a stream of rows
    written chunk by chunk, so a collect task never holds its whole rank in memory."""

    def __init__(self, f: DataFolder, path: str):
        self.f = f
        self.path = path
        self._out = f.open(f"{path}.tmp", "wb")
        self.rows = 0

    def append(self, array: np.ndarray) -> None:
        if len(array):
            self._out.write(np.ascontiguousarray(array).tobytes())
            self.rows += len(array)

    def close(self) -> None:
        self._out.close()
        if self.f.exists(self.path):
            self.f.rm(self.path)
        self.f.mv(f"{self.path}.tmp", self.path)


def load_raw(f: DataFolder, path: str, dtype: np.dtype, width: int, mmap: bool = False) -> np.ndarray:
    """A file written by ``RawAppender`` as a ``(rows, width)`` array (memory-mapped when local and asked)."""
    dtype = np.dtype(dtype)
    if mmap and f.is_local():
        local = f.resolve_paths(path)
        if os.path.getsize(local) == 0:
            return np.empty((0, width), dtype=dtype)
        return np.memmap(local, dtype=dtype, mode="r").reshape(-1, width)
    with f.open(path, "rb") as src:
        return np.frombuffer(src.read(), dtype=dtype).reshape(-1, width)


class RawRows:
    """Rows of a ``RawAppender`` file, read on demand: ``rows[indices]`` and ``rows.slice(start, end)``.

    A local file is read with ``os.pread``, only the rows asked for, so a bucket task's memory holds the rows of
    its own candidate pairs and never the whole file (a memory map would keep every touched page resident). A
    remote file is read whole once.
    """

    def __init__(self, f: DataFolder, path: str, dtype: np.dtype, width: int):
        self.dtype = np.dtype(dtype)
        self.width = width
        self.row_bytes = self.dtype.itemsize * width
        self._fd: int | None = None
        self._array: np.ndarray | None = None
        if f.is_local():
            self._fd = os.open(f.resolve_paths(path), os.O_RDONLY)
        else:
            self._array = load_raw(f, path, dtype, width)

    def __getitem__(self, index: np.ndarray) -> np.ndarray:
        if self._array is not None:
            return self._array[index]
        unique, inverse = np.unique(np.asarray(index, dtype=np.int64), return_inverse=True)
        rb = self.row_bytes
        buf = bytearray(len(unique) * rb)
        view = memoryview(buf)
        for k, i in enumerate(unique.tolist()):
            view[k * rb : (k + 1) * rb] = os.pread(self._fd, rb, i * rb)
        return np.frombuffer(buf, dtype=self.dtype).reshape(-1, self.width)[inverse.reshape(-1)]

    def slice(self, start: int, end: int) -> np.ndarray:
        if self._array is not None:
            return self._array[start:end]
        data = os.pread(self._fd, (end - start) * self.row_bytes, start * self.row_bytes)
        return np.frombuffer(data, dtype=self.dtype).reshape(-1, self.width)

    def __del__(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
