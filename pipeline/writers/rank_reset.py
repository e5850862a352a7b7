"""``RankOutputReset``: the first step of every per-task phase, deleting what an earlier attempt of this task left.

Resuming is datatrove's: a task whose completion marker exists is skipped. A task that has none (it failed, or
was killed with SIGKILL) runs again from the start, so whatever its earlier attempt wrote (finished shards,
temporary shards, ledger shards) must go first, or documents would be written twice. Files are per rank
(``part-<rank>-*``), so this never touches another task's output.
"""

from __future__ import annotations

from datatrove.data import DocumentsPipeline
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep
from loguru import logger


class RankOutputReset(PipelineStep):
    type = "🧹 - RESET"
    name = "🧹 Rank output reset"

    def __init__(self, output_dir: str, subdirs: list[str]):
        super().__init__()
        self.output_dir = output_dir
        self.subdirs = subdirs

    def stale_files(self, rank: int) -> list[str]:
        folder = get_datafolder(self.output_dir)
        stale = []
        for sub in self.subdirs:
            if not folder.isdir(sub):
                continue
            for pattern in (f"part-{rank:05d}-*", f".part-{rank:05d}-*", f"part-{rank:05d}.*", f".part-{rank:05d}.*"):
                stale += folder.glob(f"{sub}/{pattern}")
        return sorted(set(stale))

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        folder = get_datafolder(self.output_dir)
        stale = self.stale_files(rank)
        if stale:
            logger.warning(f"task {rank}: removing {len(stale)} file(s) left by an unfinished earlier attempt")
            for path in stale:
                folder.rm(path)
        if data:
            yield from data
