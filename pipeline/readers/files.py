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
    fs, root, sized = list_files_sized(path, patterns, glob)
    return fs, root, [f for f, _ in sized]


def _glob_files(fs: fsspec.AbstractFileSystem, pattern: str) -> dict[str, int]:
    """Files matching ``pattern`` with their sizes, from the listing itself (no request per file)."""
    found = fs.glob(pattern, detail=True)
    return {f: int(info.get("size") or 0) for f, info in found.items() if info.get("type") == "file"}


def list_files_sized(
    path: str, patterns: tuple[str, ...], glob: str | None = None
) -> tuple[fsspec.AbstractFileSystem, str, list[tuple[str, int]]]:
    """``(fs, root, [(file, size)])``: the files of a source, sorted, with their sizes in bytes."""
    fs, fs_path = fsspec.core.url_to_fs(path)
    found: dict[str, int] = {}
    if any(c in fs_path for c in GLOB_CHARS):
        root = fs_path[: min(fs_path.find(c) for c in GLOB_CHARS if c in fs_path)].rsplit("/", 1)[0]
        found = _glob_files(fs, fs_path)
    elif fs.isdir(fs_path):
        root = fs_path.rstrip("/")
        pats = (glob,) if glob else patterns
        for pat in pats:
            found.update(_glob_files(fs, f"{root}/{pat}"))
            if "/" not in pat:  # plain patterns match at any depth, like a recursive listing
                found.update(_glob_files(fs, f"{root}/**/{pat}"))
    elif fs.isfile(fs_path):
        root = fs_path.rsplit("/", 1)[0] if "/" in fs_path else ""
        found = {fs_path: int(fs.size(fs_path) or 0)}
    else:
        root = fs_path
    return fs, root, sorted(found.items())


def is_local(fs: fsspec.AbstractFileSystem) -> bool:
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return protocol in ("file", "local")


def relative_path(file: str, root: str) -> str:
    return file[len(root) :].lstrip("/") if root and file.startswith(root) else file


def compression_of(file: str, compression: str) -> str | None:
    """The codec a file is read with (``None``: uncompressed), from the source's ``compression`` key."""
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
    codec = compression_of(file, compression)
    if codec == "zstd":
        raw = fs.open(file, "rb")
        return raw, _zstd_lines(raw)
    f = fs.open(file, "rb", compression=codec)
    return f, f


def _parse_line(file: str, lineno: int, line: bytes) -> Record | BadInput | None:
    """One JSON line as a record, ``BadInput`` when damaged, ``None`` when blank."""
    if not line.strip():
        return None
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as e:
        problem = _describe_json_error(line, e)
        if not line.endswith(b"\n"):
            problem += " (last line has no newline: the file may be truncated)"
        return BadInput(file, f"line {lineno}", problem)
    if not isinstance(data, dict):
        return BadInput(file, f"line {lineno}", f"expected a JSON object, got {type(data).__name__}")
    return Record(data, lineno)


def iter_jsonl(
    fs: fsspec.AbstractFileSystem,
    file: str,
    compression: str = "infer",
    byte_range: tuple[int, int] | None = None,
) -> Iterator[Record | BadInput]:
    """Records of a JSON-lines file (plain, gzip or zstd), one ``BadInput`` per damaged line or truncated end.

    ``byte_range=(start, end)`` (uncompressed files only) reads the lines that start inside the range, with their
    line numbers in the whole file: see ``iter_jsonl_range``.
    """
    if byte_range is not None:
        yield from iter_jsonl_range(fs, file, *byte_range)
        return
    lineno = 0
    seen_any = False
    try:
        handle, lines = _open_lines(fs, file, compression)
        with handle:
            for lineno, line in enumerate(lines, start=1):  # noqa: B007 - lineno is used after the loop
                seen_any = True
                item = _parse_line(file, lineno, line)
                if item is not None:
                    yield item
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


COUNT_CHUNK = 16 * 2**20


def count_newlines(f, end: int) -> int:
    """Newlines in bytes ``[0, end)`` of an open binary file (leaves the file positioned at ``end``)."""
    f.seek(0)
    count, left = 0, end
    while left > 0:
        chunk = f.read(min(COUNT_CHUNK, left))
        if not chunk:
            break
        count += chunk.count(b"\n")
        left -= len(chunk)
    return count


def iter_jsonl_range(fs: fsspec.AbstractFileSystem, file: str, start: int, end: int) -> Iterator[Record | BadInput]:
    """Records of the lines of an uncompressed JSON-lines file that start in bytes ``[start, end)``.

    The Hadoop/datatrove rule: a line belongs to the range its first byte is in, so adjacent ranges read every
    line exactly once, whatever the cut points. Line numbers are those of the whole file (the newlines before the
    first owned line are counted), so ids, read-order keys and messages are the same as a whole-file read.
    """
    lineno = 0
    try:
        f = open(file, "rb") if is_local(fs) else fs.open(file, "rb")  # noqa: SIM115 - native I/O is much faster
        with f:
            pos = 0
            if start > 0:
                f.seek(start - 1)
                if f.read(1) != b"\n":  # the range starts inside a line: it belongs to the previous range
                    f.readline()
                pos = f.tell()
                lineno = count_newlines(f, pos)
            while pos < end:
                line = f.readline()
                if not line:
                    break
                lineno += 1
                pos += len(line)
                item = _parse_line(file, lineno, line)
                if item is not None:
                    yield item
    except (OSError, ValueError) as e:
        yield BadInput(file, f"after line {lineno}", f"unreadable ({type(e).__name__}: {e}); the rest is skipped")


def iter_parquet(
    fs: fsspec.AbstractFileSystem,
    file: str,
    columns: list[str] | None = None,
    batch_size: int = 1024,
    row_groups: tuple[int, int] | None = None,
) -> Iterator[Record | BadInput]:
    """Rows of a Parquet file; an unreadable file or row group becomes one ``BadInput`` and the rest goes on.

    ``row_groups=(first, end)`` reads only those row groups, with the row indices of the whole file.
    """
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
        first, end = row_groups or (0, pf.num_row_groups)
        row = sum(pf.metadata.row_group(rg).num_rows for rg in range(first))
        for rg in range(first, min(end, pf.num_row_groups)):
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
