"""Finding a source's files and reading records out of them, turning every kind of damage into ``BadInput``.

Local paths, globs and any fsspec URL (``s3://``, ``gs://``, ``hf://datasets/...``) are listed the same way, in a
sorted, deterministic order, so task ``r`` of ``N`` always reads the same files. Reading yields either a record
(a ``dict``) with its position, or a ``BadInput`` saying what is wrong and where: a corrupt JSON line, invalid
UTF-8, a truncated ``.gz``/``.zst``, an unreadable Parquet file or row group, an empty file. The reader counts
and logs those and goes on with the rest; nothing here raises on bad data.

Damaged data and a failing read are told apart by where the error comes from, not by its type (``gzip`` raises
``OSError`` for a corrupt stream, and so does a dropped connection): every byte is read through ``GuardedReader``,
which turns an exception of the underlying file object (a network blip, a disk error, a file that vanished) into
``SourceIOError``. That is never counted as bad input: it fails the task, so that the next run reads the whole
file again. What the decoders (gzip, zstd, JSON, Parquet) raise on bytes that were read is damage.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import fsspec
import orjson

GLOB_CHARS = "*?["


class SourceIOError(OSError):
    """Reading a source file failed for a reason other than damage in its bytes; the task fails and is retried."""


@dataclass(frozen=True)
class BadInput:
    """A record or file that could not be read: where it is and what is wrong (never its text)."""

    file: str
    position: str  # "line 12", "row 40", "row group 3", "file"
    problem: str
    doc_id: str | None = None
    documents: int | None = 1  # documents lost with it; None where that cannot be known (a truncated stream)

    def message(self) -> str:
        lost = ""
        if self.documents is None:
            lost = " (how many documents were lost is unknown)"
        elif self.documents > 1:
            lost = f" ({self.documents:,} documents lost)"
        return f"{self.file}, {self.position}: {self.problem}{lost}"


class GuardedReader(io.RawIOBase):
    """A file object whose read errors become ``SourceIOError``, so decoders' own errors can only mean damage."""

    def __init__(self, raw, name: str):
        super().__init__()
        self._raw = raw
        self.name = name

    def _failed(self, e: Exception) -> SourceIOError:
        return SourceIOError(f"reading {self.name} failed ({type(e).__name__}: {e}); run again to retry the task")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            if hasattr(self._raw, "readinto"):
                return self._raw.readinto(buffer)
            data = self._raw.read(len(buffer))
        except Exception as e:  # noqa: BLE001 - whatever the file object raises is an I/O failure, not damage
            raise self._failed(e) from e
        buffer[: len(data)] = data
        return len(data)

    def seekable(self) -> bool:
        return bool(getattr(self._raw, "seekable", lambda: False)())

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        try:
            return self._raw.seek(offset, whence)
        except Exception as e:  # noqa: BLE001
            raise self._failed(e) from e

    def tell(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


def open_guarded(fs: fsspec.AbstractFileSystem, file: str, local_native: bool = False) -> io.BufferedReader:
    """``file`` opened for reading through ``GuardedReader``; failing to open it is a ``SourceIOError`` too."""
    try:
        raw = open(file, "rb") if local_native and is_local(fs) else fs.open(file, "rb")  # noqa: SIM115
    except Exception as e:  # noqa: BLE001 - a listed file that cannot be opened: not damage, retry the task
        raise SourceIOError(f"cannot open {file} ({type(e).__name__}: {e}); run again to retry the task") from e
    return io.BufferedReader(GuardedReader(raw, file), buffer_size=1 << 20)


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
    raw = open_guarded(fs, file)
    if codec == "zstd":
        return raw, _zstd_lines(raw)
    if codec is None:
        return raw, raw
    f = fsspec.compression.compr[codec](raw, mode="rb")
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
    except SourceIOError:
        raise  # the bytes could not be read: not damage; the task fails and the next run retries it
    except (EOFError, OSError, zlib.error, ValueError) as e:  # truncated/corrupt gzip, bz2 or zstd stream
        kind = type(e).__name__
        problem = f"truncated or corrupt file ({kind}: {e}); the rest is skipped"
        yield BadInput(file, f"after line {lineno}", problem, documents=None)
        return
    except Exception as e:  # zstandard.ZstdError and other codec errors  # noqa: BLE001
        problem = f"cannot decompress ({type(e).__name__}: {e}); the rest is skipped"
        yield BadInput(file, f"after line {lineno}", problem, documents=None)
        return
    if not seen_any:
        yield BadInput(file, "file", "empty file", documents=0)


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
        f = open_guarded(fs, file, local_native=True)  # native I/O is much faster than fsspec's local files
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
    except SourceIOError:
        raise  # the task fails and the next run reads the range again
    except (OSError, ValueError) as e:
        problem = f"unreadable ({type(e).__name__}: {e}); the rest is skipped"
        yield BadInput(file, f"after line {lineno}", problem, documents=None)


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

    f = open_guarded(fs, file, local_native=True)  # native I/O is much faster than fsspec's local files
    with f:
        try:
            pf = pq.ParquetFile(f)
        except SourceIOError:
            raise
        except Exception as e:  # noqa: BLE001 - pyarrow raises ArrowInvalid/OSError for truncated or non-Parquet files
            try:
                size = fs.size(file)
            except Exception as err:  # noqa: BLE001
                raise SourceIOError(f"cannot stat {file} ({type(err).__name__}: {err})") from err
            if not size:
                yield BadInput(file, "file", "empty file", documents=0)
            else:
                problem = f"not a readable Parquet file, truncated or corrupt ({e})"
                yield BadInput(file, "file", problem, documents=None)
            return
        if pf.metadata.num_rows == 0:
            yield BadInput(file, "file", "Parquet file has no rows", documents=0)
            return
        first, end = row_groups or (0, pf.num_row_groups)
        row = sum(pf.metadata.row_group(rg).num_rows for rg in range(first))
        for rg in range(first, min(end, pf.num_row_groups)):
            rg_rows = pf.metadata.row_group(rg).num_rows
            try:
                table = pf.read_row_group(rg, columns=columns)
            except SourceIOError:
                raise
            except Exception as e:  # noqa: BLE001
                yield BadInput(
                    file,
                    f"row group {rg} (rows {row}-{row + rg_rows - 1})",
                    f"unreadable ({e}); {rg_rows} rows skipped",
                    documents=rg_rows,
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
