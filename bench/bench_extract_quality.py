"""Extraction quality: word-level F1 of each extractor against a human-made reference text, through Curate's
extraction step and through the library called directly on the same HTML (the two must be equal: Curate must not
lose text on the way).

Pages: the 99 real mozilla/readability test pages of ../shared/data/html/readability-html-dev.jsonl.gz, each with
readability's expected main text as the reference. F1 is over bags of lower-cased words (``\\w+``): precision is the
share of extracted words that are in the reference (counted with multiplicity), recall the share of reference words
that were extracted. An empty extraction scores 0. Reported: the mean F1 over pages, precision and recall over all
words pooled, the pages where Curate's text differs from the library's (must be 0), and the time per page.

    PYTHONPATH=. python3 bench/bench_extract_quality.py
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter

from common import REPO, SHARED

sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

WORD = re.compile(r"\w+")


def words(text: str) -> Counter:
    return Counter(w.lower() for w in WORD.findall(text or ""))


def prf(pred: Counter, ref: Counter) -> tuple[int, int, int]:
    return sum((pred & ref).values()), sum(pred.values()), sum(ref.values())


def f1(common: int, n_pred: int, n_ref: int) -> float:
    if not common:
        return 0.0
    p, r = common / n_pred, common / n_ref
    return 2 * p * r / (p + r)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=None, help="only the first N pages")
    parser.add_argument("--extractors", default="trafilatura,resiliparse,justext")
    args = parser.parse_args()

    from datatrove.data import Document
    from test_extract import _direct  # the library calls, exactly as documented (shared with the tests)

    from pipeline.extract.step import ExtractConfig, HtmlExtract

    with gzip.open(SHARED / "html" / "readability-html-dev.jsonl.gz", "rt", encoding="utf-8") as f:
        pages = [json.loads(line) for line in f]
    pages = pages[: args.pages] if args.pages else pages
    print(f"{len(pages)} real pages with a reference text (mozilla/readability test pages)")
    print(
        f"{'extractor':<12} {'mean F1':>8} {'P (pooled)':>10} {'R (pooled)':>10} {'empty':>6} "
        f"{'differs':>8} {'ms/page':>8}"
    )
    for name in args.extractors.split(","):
        step = HtmlExtract({"s": ExtractConfig(extractor=name, timeout=60)})
        docs = [Document(text=p["html"], id=p["id"], metadata={"source": "s"}) for p in pages]
        start = time.perf_counter()
        out = {d.id: d.text for d in step.run(iter(docs))}
        elapsed = time.perf_counter() - start
        direct = {p["id"]: _direct(name, p["html"]) for p in pages}
        differs = sum(1 for p in pages if out.get(p["id"], "") != (direct[p["id"]] if direct[p["id"]].strip() else ""))
        scores, pooled = [], [0, 0, 0]
        for p in pages:
            c = prf(words(out.get(p["id"], "")), words(p["reference_text"]))
            scores.append(f1(*c))
            pooled = [a + b for a, b in zip(pooled, c, strict=True)]
        precision, recall = pooled[0] / max(pooled[1], 1), pooled[0] / max(pooled[2], 1)
        empty = len(pages) - len(out)
        print(
            f"{name:<12} {sum(scores) / len(scores):8.3f} {precision:10.3f} {recall:10.3f} {empty:6d} "
            f"{differs:8d} {1000 * elapsed / len(pages):8.1f}"
        )


if __name__ == "__main__":
    main()
