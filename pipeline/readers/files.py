"""Finding a source's files and reading records out of them, turning every kind of damage into ``BadInput``.

Local paths, globs and any fsspec URL (``s3://``, ``gs://``, ``hf://datasets/...``) are listed the same way, in a
sorted, deterministic order, so task ``r`` of ``N`` always reads the same files. Reading yields either a record
(a ``dict``) with its position, or a ``BadInput`` saying what is wrong and where: a corrupt JSON line, invalid
UTF-8, a truncated ``.gz``/``.zst``, an unreadable Parquet file or row group, an empty file. The reader counts
and logs those and goes on with the rest; nothing here raises on bad data.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import fsspec
import orjson

GLOB_CHARS = "*?["


@dataclass(frozen=True)
class BadInput:
    """A record or file that could not be read: where it is and what is wrong (never its text)."""

    file: str
    position: str  # "line 12", "row 40", "row group 3", "file"
    problem: str
    doc_id: str | None = None

    def message(self) -> str:
        return f"{self.file}, {self.position}: {self.problem}"


@dataclass(frozen=True)
class Record:
    data: dict
    index: int  # 1-based line number (jsonl) or 0-based row index (parquet)


def list_files(
    path: str, patterns: tuple[str, ...], glob: str | None = None
) -> tuple[fsspec.AbstractFileSystem, str, list[str]]:
    """``(fs, root, files)``: the files of a source, sorted. ``root`` is what ids and messages are relative to."""
    fs, fs_path = fsspec.core.url_to_fs(path)
    if any(c in fs_path for c in GLOB_CHARS):
        root = fs_path[: min(fs_path.find(c) for c in GLOB_CHARS if c in fs_path)].rsplit("/", 1)[0]
        files = [f for f in fs.glob(fs_path) if fs.isfile(f)]
    elif fs.isdir(fs_path):
        root = fs_path.rstrip("/")
        pats = (glob,) if glob else patterns
        found = set()
        for pat in pats:
            found.update(f for f in fs.glob(f"{root}/{pat}") if fs.isfile(f))
            if "/" not in pat:  # plain patterns match at any depth, like a recursive listing
                found.update(f for f in fs.glob(f"{root}/**/{pat}") if fs.isfile(f))
        files = list(found)
    elif fs.isfile(fs_path):
        root = fs_path.rsplit("/", 1)[0] if "/" in fs_path else ""
        files = [fs_path]
    else:
        files = []
        root = fs_path
    return fs, root, sorted(files)


def is_local(fs: fsspec.AbstractFileSystem) -> bool:
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return protocol in ("file", "local")


def relative_path(file: str, root: str) -> str:
    return file[len(root) :].lstrip("/") if root and file.startswith(root) else file


def _compression(file: str, compression: str) -> str | None:
    if compression == "none":
        return None
    if compression == "infer":
        return fsspec.utils.infer_compression(file)
    return compression


def _describe_json_error(line: bytes, err: Exception) -> str:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as u:
        return f"invalid UTF-8 at byte {u.start} of the line"
    return f"corrupt JSON ({err})"


def _zstd_lines(raw) -> Iterator[bytes]:
    """Lines of a (multi-frame) zstd stream; a stream that ends inside a frame raises ``EOFError``.

    zstandard's stream reader returns a clean end of file for a truncated stream, which would hide the damage;
    a decompression object tells whether its frame was complete.
    """
    import zstandard

    dctx = zstandard.ZstdDecompressor()
    obj, fed, pending = dctx.decompressobj(), False, b""
    while chunk := raw.read(1 << 20):
        while chunk:
            pending += obj.decompress(chunk)
            fed = True
            if obj.eof:
                chunk, obj, fed = obj.unused_data, dctx.decompressobj(), False
            else:
                chunk = b""
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line + b"\n"
    if fed and not obj.eof:
        if pending:
            yield pending
        raise EOFError("zstd stream ends inside a frame")
    if pending:
        yield pending


def _open_lines(fs: fsspec.AbstractFileSystem, file: str, compression: str):
    codec = _compression(file, compression)
    if codec == "zstd":
        raw = fs.open(file, "rb")
        return raw, _zstd_lines(raw)
    f = fs.open(file, "rb", compression=codec)
    return f, f


def iter_jsonl(fs: fsspec.AbstractFileSystem, file: str, compression: str = "infer") -> Iterator[Record | BadInput]:
    """Records of a JSON-lines file (plain, gzip or zstd), one ``BadInput`` per damaged line or truncated end."""
    lineno = 0
    seen_any = False
    try:
        handle, lines = _open_lines(fs, file, compression)
        with handle:
            for lineno, line in enumerate(lines, start=1):  # noqa: B007 - lineno is used after the loop
                seen_any = True
                if not line.strip():
                    continue
                try:
                    data = orjson.loads(line)
                except orjson.JSONDecodeError as e:
                    complete = line.endswith(b"\n")
                    problem = _describe_json_error(line, e)
                    if not complete:
                        problem += " (last line has no newline: the file may be truncated)"
                    yield BadInput(file, f"line {lineno}", problem)
                    continue
                if not isinstance(data, dict):
                    yield BadInput(file, f"line {lineno}", f"expected a JSON object, got {type(data).__name__}")
                    continue
                yield Record(data, lineno)
    except (EOFError, OSError, zlib.error, ValueError) as e:  # truncated/corrupt gzip or zstd stream, I/O error
        kind = type(e).__name__
        yield BadInput(file, f"after line {lineno}", f"truncated or corrupt file ({kind}: {e}); the rest is skipped")
        return
    except Exception as e:  # zstandard.ZstdError and other codec errors  # noqa: BLE001
        yield BadInput(
            file, f"after line {lineno}", f"cannot decompress ({type(e).__name__}: {e}); the rest is skipped"
        )
        return
    if not seen_any:
        yield BadInput(file, "file", "empty file")


def iter_parquet(
    fs: fsspec.AbstractFileSystem, file: str, columns: list[str] | None = None, batch_size: int = 1024
) -> Iterator[Record | BadInput]:
    """Rows of a Parquet file; an unreadable file or row group becomes one ``BadInput`` and the rest goes on."""
    import pyarrow.parquet as pq

    try:
        f = open(file, "rb") if is_local(fs) else fs.open(file, "rb")  # noqa: SIM115 - native I/O is much faster
    except OSError as e:
        yield BadInput(file, "file", f"cannot open ({e})")
        return
    with f:
        try:
            pf = pq.ParquetFile(f)
        except Exception as e:  # noqa: BLE001 - pyarrow raises ArrowInvalid/OSError for truncated or non-Parquet files
            size = fs.size(file)
            problem = "empty file" if not size else f"not a readable Parquet file, truncated or corrupt ({e})"
            yield BadInput(file, "file", problem)
            return
        if pf.metadata.num_rows == 0:
            yield BadInput(file, "file", "Parquet file has no rows")
            return
        row = 0
        for rg in range(pf.num_row_groups):
            rg_rows = pf.metadata.row_group(rg).num_rows
            try:
                table = pf.read_row_group(rg, columns=columns)
            except Exception as e:  # noqa: BLE001
                yield BadInput(
                    file,
                    f"row group {rg} (rows {row}-{row + rg_rows - 1})",
                    f"unreadable ({e}); {rg_rows} rows skipped",
                )
                row += rg_rows
                continue
            for batch in table.to_batches(max_chunksize=batch_size):
                try:
                    rows = batch.to_pylist()
                except Exception:  # noqa: BLE001 - e.g. invalid UTF-8 in a string column: find the bad rows
                    rows = []
                    for i in range(batch.num_rows):
                        try:
                            rows.append(batch.slice(i, 1).to_pylist()[0])
                        except Exception as e:  # noqa: BLE001
                            rows.append(BadInput(file, f"row {row + i}", f"undecodable value ({e})"))
                for i, data in enumerate(rows):
                    yield data if isinstance(data, BadInput) else Record(data, row + i)
                row += batch.num_rows
