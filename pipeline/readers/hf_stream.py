"""Reading a source through Hugging Face ``datasets`` with ``streaming=True``.

``hf_dataset`` is a hub id (``mlfoundations/dclm-baseline-1.0``), a packaged builder (``json``, ``parquet``) with
``hf_data_files``, or a local dataset folder. The stream is split across tasks with
``datasets.distributed.split_dataset_by_node`` (by shard when the dataset has enough shards, else by example), and
``limit`` is applied with ``take`` before the split so it bounds the whole source, not each task.

Rows without an id of their own get ``<source>/<split>/<sha1 of text>``: a position in a stream is not stable
across task counts, the text is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pipeline.readers.files import BadInput, Record, SourceIOError


def is_transport_error(e: BaseException) -> bool:
    """A failure of the connection (not of the data): the task fails and the next run retries the stream."""
    if isinstance(e, ConnectionError | TimeoutError):
        return True
    names = {f"{c.__module__.split('.')[0]}.{c.__name__}" for c in type(e).__mro__}
    return bool(names & {"requests.RequestException", "httpx.TransportError", "aiohttp.ClientConnectionError"})


def open_stream(source: Any, rank: int, world_size: int):
    from datasets import load_dataset
    from datasets.distributed import split_dataset_by_node

    ds = load_dataset(
        source.hf_dataset,
        source.hf_config,
        split=source.split,
        streaming=True,
        data_files=source.hf_data_files,
    )
    if source.limit:
        ds = ds.take(source.limit)
    if world_size > 1:
        ds = split_dataset_by_node(ds, rank=rank, world_size=world_size)
    return ds


def iter_stream(source: Any, rank: int, world_size: int) -> Iterator[Record | BadInput]:
    where = f"hf:{source.hf_dataset}[{source.split}]"
    try:
        ds = open_stream(source, rank, world_size)
    except Exception as e:  # noqa: BLE001 - unreachable hub, bad id, bad data_files: one clear line, go on
        yield BadInput(where, "dataset", f"cannot open the dataset ({type(e).__name__}: {e})")
        return
    index = -1
    iterator = iter(ds)
    while True:
        index += 1
        try:
            row = next(iterator)
        except StopIteration:
            return
        except Exception as e:  # noqa: BLE001 - a corrupt shard ends this stream, not the run
            if is_transport_error(e):
                raise SourceIOError(f"{where}: the stream failed at example {index} ({type(e).__name__}: {e})") from e
            yield BadInput(
                where,
                f"example {index}",
                f"stream failed ({type(e).__name__}: {e}); the rest is skipped",
                documents=None,
            )
            return
        yield Record(dict(row), index)
