"""WARC -> text throughput per core: Curate's reader + extraction step against datatrove's ``WarcReader`` +
``Trafilatura``, on the same records, in this one process (datatrove's extractor runs each page in its sandbox
worker process, which works while this one waits: one core busy at a time on both sides).

Input: the real WARC files of ../shared/data/warc (Common Crawl, wget), copied ``--copies`` times under other names
(the same pages again: trafilatura's page-level work is the same, datatrove's process-wide dedup cache then drops
repeats as duplicates after extracting them, Curate's per-page cache does not). Both sides read the gzip'ed files,
parse the records, decode the HTML and extract it with trafilatura at FineWeb's settings (``favor_precision``, no
comments, ``deduplicate``). Reported: HTML pages per second (pages extracted from / time) for each side and the
ratio, then Curate's figure for each of its extractors (and with ``extract_isolation: process``).

    PYTHONPATH=. python3 bench/bench_warc.py --copies 4
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from common import REPO, SHARED, report, timed

sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()

    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.readers import WarcReader

    from pipeline.extract.step import HtmlExtract, extract_configs
    from pipeline.readers.corpus_reader import CorpusReader
    from pipeline.recipe import SourceConfig

    tmp = Path(tempfile.mkdtemp(prefix="bench_warc_"))
    files = sorted((SHARED / "warc").rglob("*.warc.gz"))
    for c in range(args.copies):
        for f in files:
            shutil.copyfile(f, tmp / f"{c:02d}-{f.parent.name}-{f.name}")

    def datatrove_run() -> int:
        reader = WarcReader(str(tmp), glob_pattern="*.warc.gz")
        extractor = Trafilatura(favour_precision=True, timeout=1.0)
        out = list(extractor.run(reader.run()))
        stats = extractor.stats.stats
        datatrove_run.kept = len(out)
        return int(stats["total"].total)

    def curate_run(extractor: str = "trafilatura", isolation: str = "signal") -> int:
        src = SourceConfig(name="cc", format="warc", path=str(tmp), extractor=extractor, extract_isolation=isolation)
        step = HtmlExtract(extract_configs([src]))
        out = list(step.run(CorpusReader([src]).run()))
        curate_run.kept = len(out)
        return int(step.stats.stats["total"].total)

    try:
        anchor = timed(datatrove_run, args.rounds)
        print(f"datatrove kept {datatrove_run.kept} of {anchor[1]} pages")
        ours = timed(curate_run, args.rounds)
        print(f"curate kept {curate_run.kept} of {ours[1]} pages")
        report("WARC -> text with trafilatura (FineWeb's settings), one core", "pages", "datatrove", anchor, ours)
        for extractor, isolation in (("resiliparse", "signal"), ("justext", "signal"), ("trafilatura", "process")):
            t, n = timed(lambda e=extractor, i=isolation: curate_run(e, i), args.rounds)
            print(
                f"  curate {extractor:<12} isolation={isolation:<8} {n:>6,} pages in {t:6.2f}s = {n / t:8,.1f} pages/s"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
