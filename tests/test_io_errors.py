"""A read that fails in the middle of a file (a network blip) fails the task; the re-run reads every document.

The input is served by ``flaky://``, a real fsspec filesystem registered for this test: the local filesystem,
except that the files named in ``FlakyFileSystem.fail_once`` raise ``ConnectionResetError`` after 1,500 bytes the
first time they are read (what an object store's dropped connection looks like to a reader); the WARC reader is
checked the same way. The run uses one
worker, so its tasks run in this process and see the registration. Damaged bytes (a truncated gzip) stay bad
input, counted, and the run goes on: only a failing read fails the task.
"""

from __future__ import annotations

import errno
import gzip
import io
import json
import shutil

import fsspec
import pytest
from conftest import SAMPLES, load_json, output_ids, run_curate, write_recipe
from fsspec.implementations.local import LocalFileSystem

from pipeline.readers.files import BadInput, SourceIOError, iter_jsonl, iter_parquet
from pipeline.readers.warc_io import iter_archive
from pipeline.status_cli import output_status


class _FailAfter(io.RawIOBase):
    def __init__(self, raw, limit: int):
        super().__init__()
        self.raw, self.limit, self.done = raw, limit, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.raw.seek(offset, whence)

    def tell(self) -> int:
        return self.raw.tell()

    def readinto(self, buffer) -> int:
        if self.done >= self.limit:
            raise ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")
        n = self.raw.readinto(memoryview(buffer)[: max(1, min(len(buffer), self.limit - self.done))])
        self.done += n
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


class FlakyFileSystem(LocalFileSystem):
    protocol = ("flaky",)
    root_marker = "/"
    fail_once: set[str] = set()
    fail_after = 1500
    failures: list[str] = []

    @classmethod
    def _strip_protocol(cls, path):
        return super()._strip_protocol(path.removeprefix("flaky://"))

    def _open(self, path, mode="rb", **kwargs):
        f = super()._open(path, mode, **kwargs)
        name = path.rsplit("/", 1)[-1]
        if "r" in mode and name in self.fail_once:
            self.fail_once.discard(name)
            self.failures.append(name)
            return io.BufferedReader(_FailAfter(f, self.fail_after), buffer_size=1024)
        return f


fsspec.register_implementation("flaky", FlakyFileSystem, clobber=True)


def _inputs(root):
    lines = root / "lines"
    lines.mkdir(parents=True)
    rows = [json.dumps({"id": f"gz-{i}", "text": f"line {i} of a compressed file " * 12}) for i in range(2000)]
    (lines / "a.jsonl.gz").write_bytes(gzip.compress("\n".join(rows).encode() + b"\n"))
    shutil.copy(SAMPLES / "jsonl" / "c4-dummy.jsonl", lines / "b.jsonl")
    tables = root / "tables"
    tables.mkdir()
    for f in sorted((SAMPLES / "fineweb-edu").glob("*.parquet")):
        shutil.copy(f, tables / f.name)
    return lines, tables


def _recipe(tmp_path, name: str, lines: str, tables: str):
    return write_recipe(
        tmp_path / f"{name}.yaml",
        {
            "name": "flaky",
            "sources": [
                {"name": "lines", "format": "jsonl", "path": lines},
                {"name": "tables", "format": "fineweb-edu", "path": tables},
            ],
            "stages": [{"length_filter": {"min_words": 60}}],
            "output": {"path": str(tmp_path / name), "shard_max_rows": 500},
            "executor": {"tasks": 2, "workers": 1},
        },
    )


@pytest.mark.parametrize("flaky_file", ["a.jsonl.gz", "b.jsonl", "000_00001.parquet"])
def test_io_error_mid_file_fails_the_task_and_the_rerun_reads_everything(tmp_path, flaky_file, capsys):
    lines, tables = _inputs(tmp_path / "in")
    assert run_curate("run", _recipe(tmp_path, "clean", str(lines), str(tables))) == 0
    clean_kept, clean_removed = output_ids(tmp_path / "clean")

    FlakyFileSystem.fail_once, FlakyFileSystem.failures = {flaky_file}, []
    recipe = _recipe(tmp_path, "flaky", f"flaky://{lines}", f"flaky://{tables}")
    assert run_curate("run", recipe) == 1
    assert FlakyFileSystem.failures == [flaky_file]
    err = capsys.readouterr().err
    assert "Connection reset by peer" in err and "Run the same command again to resume" in err
    out = tmp_path / "flaky"
    failed = [p for p in output_status(str(out)) if p.failed]
    assert failed and not list(out.glob("bad_input/part-*.jsonl"))  # a failed read is not bad input

    assert run_curate("run", recipe) == 0
    kept, removed = output_ids(out)
    assert sorted(kept) == sorted(clean_kept) and sorted(removed) == sorted(clean_removed)
    stats = load_json(out / "stats.json")
    assert stats["bad_input"] == 0 and stats["reconciled"]
    assert stats["documents_read"] == load_json(tmp_path / "clean" / "stats.json")["documents_read"]


def test_damaged_bytes_stay_bad_input_and_a_failing_read_raises(tmp_path):
    lines, tables = _inputs(tmp_path)
    whole = (lines / "a.jsonl.gz").read_bytes()
    (lines / "cut.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    fs = fsspec.filesystem("file")
    items = list(iter_jsonl(fs, str(lines / "cut.jsonl.gz")))
    bad = [i for i in items if isinstance(i, BadInput)]
    assert len(bad) == 1 and "truncated" in bad[0].problem and bad[0].documents is None
    assert 0 < len(items) - 1 < 2000

    flaky = fsspec.filesystem("flaky")
    for name, reader in (("a.jsonl.gz", iter_jsonl), ("000_00000.parquet", iter_parquet)):
        folder = lines if name.endswith(".gz") else tables
        FlakyFileSystem.fail_once = {name}
        with pytest.raises(SourceIOError, match="Connection reset by peer"):
            list(reader(flaky, str(folder / name)))
        assert all(not isinstance(i, BadInput) for i in reader(flaky, str(folder / name)))  # the retry reads it all

    warc = str(SAMPLES / "warc" / "dolma" / "sample-0000.warc.gz")
    whole = list(iter_archive(fs, warc))
    assert whole and not any(isinstance(r, BadInput) for r in whole)
    FlakyFileSystem.fail_once = {"sample-0000.warc.gz"}
    with pytest.raises(SourceIOError, match="Connection reset by peer"):
        list(iter_archive(flaky, warc))
    assert len(list(iter_archive(flaky, warc))) == len(whole)
