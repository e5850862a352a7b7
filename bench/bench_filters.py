"""Benchmark: datatrove's FineWeb heuristic chain against Curate's, same real documents, one process, one core.

Chain: gopher_repetition -> gopher_quality -> c4_quality (filter_no_terminal_punct=False) -> fineweb_quality,
at the FineWeb recipe's parameters. Every document runs through datatrove's filters and through Curate's (fresh
copies, since c4_quality rewrites the text); the run checks that both keep/drop the same documents for the same
reasons and keep the same text, then prints docs/s for each and the ratio. Curate's tokenization cache is emptied
before each of its rounds, so its rounds start cold like datatrove's.

    PYTHONPATH=. python3 bench/bench_filters.py [--rounds 3] [--data ../shared/data/web] [--limit N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from common import run_filter_chain  # noqa: E402
from datatrove.pipeline.filters import (  # noqa: E402
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)

from pipeline.filters import word_analysis  # noqa: E402
from pipeline.filters.c4_quality import C4QualityFilter as CurateC4  # noqa: E402
from pipeline.filters.c4_quality import C4QualityParams
from pipeline.filters.fineweb_quality import FineWebQualityFilter as CurateFineWeb  # noqa: E402
from pipeline.filters.fineweb_quality import FineWebQualityParams
from pipeline.filters.gopher_quality import GopherQualityFilter as CurateGopherQ  # noqa: E402
from pipeline.filters.gopher_quality import GopherQualityParams
from pipeline.filters.gopher_repetition import (  # noqa: E402
    GopherRepetitionFilter as CurateGopherR,
)
from pipeline.filters.gopher_repetition import (
    GopherRepetitionParams,
)

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "web"


def load_documents(folder: Path) -> list[tuple[str, str]]:
    """(id, text) of every JSONL(.gz) document under ``folder``, in a fixed order."""
    docs = []
    for path in sorted(folder.rglob("*.jsonl*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as f:
            for i, line in enumerate(f):
                record = json.loads(line)
                text = record.get("text")
                if isinstance(text, str) and "id_a" not in record:
                    docs.append((f"{path.name}:{record.get('id', i)}", text))
    return docs


def datatrove_chain() -> list:
    return [
        GopherRepetitionFilter(),
        GopherQualityFilter(),
        C4QualityFilter(filter_no_terminal_punct=False),
        FineWebQualityFilter(),
    ]


def curate_chain() -> list:
    return [
        CurateGopherR(GopherRepetitionParams()),
        CurateGopherQ(GopherQualityParams()),
        CurateC4(C4QualityParams(filter_no_terminal_punct=False)),
        CurateFineWeb(FineWebQualityParams()),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()

    docs = load_documents(args.data)[: args.limit]
    n_chars = sum(len(t) for _, t in docs)
    print(f"{len(docs)} documents, {n_chars / 1e6:.1f} M characters from {args.data}")
    # warm both: imports, spaCy pipeline construction
    run_filter_chain(datatrove_chain(), docs[:5])
    run_filter_chain(curate_chain(), docs[:5])

    dt_times, cu_times = [], []
    dt_out = cu_out = None
    for r in range(args.rounds):
        seconds, dt_out = run_filter_chain(datatrove_chain(), docs)
        dt_times.append(seconds)
        word_analysis.clear_caches()
        seconds, cu_out = run_filter_chain(curate_chain(), docs)
        cu_times.append(seconds)
        print(f"round {r + 1}: datatrove {dt_times[-1]:.2f} s, curate {cu_times[-1]:.2f} s")

    assert dt_out is not None and cu_out is not None
    mismatches = [(doc_id, a, b) for (doc_id, _), a, b in zip(docs, dt_out, cu_out, strict=True) if a != b]
    dropped = sum(1 for reason, _ in dt_out if reason)
    dt_rate = len(docs) / statistics.median(dt_times)
    cu_rate = len(docs) / statistics.median(cu_times)
    print(f"kept {len(docs) - dropped} / {len(docs)}; decisions, reasons and texts identical: {not mismatches}")
    for doc_id, a, b in mismatches[:10]:
        print("  MISMATCH", doc_id, a[0], b[0])
    print(f"datatrove: {dt_rate:.1f} docs/s   curate: {cu_rate:.1f} docs/s   ratio: {cu_rate / dt_rate:.2f}x")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
